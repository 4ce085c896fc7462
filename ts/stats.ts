import type { RuntimeStats } from './backends/backend.js';
import { current } from './runtime.js';

/** Threads, workspace and heap figures of the active backend. */
export function runtimeStats(): RuntimeStats {
  return current().stats();
}

/** Frees the backend's scratch memory (it is reallocated on the next call). */
export function releaseMemory(): void {
  current().releaseWorkspace();
}
