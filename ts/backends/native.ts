// The native backend: the N-API addon, called with the caller's Float32Arrays
// (no copies; outputs are written in place).
import { WTConvError, type WTConvErrorCode } from '../errors.js';
import { In, Out, type Backend, type BackendInfo, type KernelArg, type KernelName, type RuntimeStats } from './backend.js';

/** The addon's exports (node/binding.cc). */
export interface NativeAddon {
  setNumThreads(n: number): number;
  runtimeInfo(): RuntimeStats;
  releaseWorkspace(): void;
  waveletFilters(id: number): Float32Array;
  [kernel: string]: unknown;
}

export class NativeBackend implements Backend {
  readonly info: BackendInfo;

  constructor(private readonly addon: NativeAddon, threads: number, reason: string) {
    const used = addon.setNumThreads(threads);
    const isa = addon.runtimeInfo().isa;
    this.info = { name: 'native', threads: used, simd: isa !== 'sse2' && isa !== 'scalar', isa, reason };
  }

  run(kernel: KernelName, args: readonly KernelArg[]): void {
    const fn = this.addon[kernel] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') throw new WTConvError('E_BACKEND', `native addon has no kernel '${kernel}': rebuild it (npm run build)`);
    const raw = args.map((a) => (a instanceof In || a instanceof Out ? a.value : a));
    try {
      fn(...raw);
    } catch (e) {
      throw toWTConvError(e);
    }
  }

  waveletFilters(id: number): Float32Array {
    return this.addon.waveletFilters(id);
  }

  stats(): RuntimeStats {
    return this.addon.runtimeInfo();
  }

  releaseWorkspace(): void {
    this.addon.releaseWorkspace();
  }
}

function toWTConvError(e: unknown): WTConvError {
  const err = e as { code?: string; message?: string };
  const known = ['E_ARG', 'E_SHAPE', 'E_OOM', 'E_INTERNAL'];
  const code = (known.includes(err?.code ?? '') ? err.code : 'E_INTERNAL') as WTConvErrorCode;
  return new WTConvError(code, `native: ${err?.message ?? String(e)}`, { cause: e });
}
