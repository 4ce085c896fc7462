import type { RuntimeStats } from './backends/backend.js';
import { current } from './runtime.js';

/** Threads, workspace and heap figures of the active backend. */
export function runtimeStats(): RuntimeStats {
  return current().stats();
}

/** Frees the backend's scratch memory and the transformed weights it keeps (reallocated on the next calls). */
export function releaseMemory(): void {
  current().releaseWorkspace();
}
