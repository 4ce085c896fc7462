// Backend selection: `init()` picks cuda > native > wasm (or the one asked
// for), and `backend()` says which runs and why.
import { WTConvError } from './errors.js';
import { allocFloat32, shapeSize, Tensor } from './tensor.js';
import type { Backend, BackendInfo, BackendName } from './backends/backend.js';
import { NativeBackend } from './backends/native.js';
import { CudaBackend } from './backends/cuda.js';
import { WasmBackend, type WasmModule } from './backends/wasm.js';
import { currentPlatform } from './platform/current.js';
import type { WasmPaths } from './platform/types.js';

export interface InitOptions {
  /** 'auto' (default) picks the fastest available: cuda > native > wasm. */
  backend?: 'auto' | BackendName;
  /** Threads for the CPU backends (default: the logical cores here). */
  threads?: number;
  /** Where the .wasm files are (directory or URL prefix, or a file -> URL map); default: next to the module. */
  wasmPaths?: WasmPaths;
}

const BACKENDS = ['auto', 'cuda', 'native', 'wasm'] as const;
/** WASM instances by variant, threads and paths: init() again reuses one instead of starting another. */
const wasmModules = new Map<string, Promise<WasmModule>>();
let active: Backend | null = null;
let pending: Promise<BackendInfo> | null = null;

/** Initialises wtconv; resolves with the chosen backend's info. Calling it again re-initialises. */
export async function init(options: InitOptions = {}): Promise<BackendInfo> {
  if (options === null || typeof options !== 'object') throw new WTConvError('E_ARG', `init options: expected an object, got ${String(options)}`);
  const wanted = options.backend ?? 'auto';
  if (!BACKENDS.includes(wanted as (typeof BACKENDS)[number])) {
    throw new WTConvError('E_ARG', `init option 'backend': expected one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(wanted)}`);
  }
  const threads = options.threads ?? currentPlatform.cores();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new WTConvError('E_ARG', `init option 'threads': expected an integer in 1..256, got ${String(options.threads)}`);
  }
  const run = select(wanted, threads, options.wasmPaths);
  pending = run;
  try {
    return await run;
  } finally {
    if (pending === run) pending = null;
  }
}

async function select(wanted: string, threads: number, wasmPaths: WasmPaths | undefined): Promise<BackendInfo> {
  const notes: string[] = [];
  if (active instanceof CudaBackend) active.deactivate();
  if (wanted === 'cuda' || wanted === 'auto') {
    const cuda = currentPlatform.loadCudaAddon?.() ?? { reason: 'CUDA runs in Node.js only, not in a browser' };
    if (cuda.addon && cuda.probe) {
      // Ops without CUDA kernels run on the best CPU backend.
      const cpu = await select('cpu', threads, wasmPaths);
      active = new CudaBackend(cuda.addon, cuda.probe, active!, `${cuda.reason}; wavelet tables from ${cpu.name}${cpu.variant ? ` (${cpu.variant})` : ''}`);
      return active.info;
    }
    if (wanted === 'cuda') throw new WTConvError('E_BACKEND', `backend cuda: ${cuda.reason}`);
    notes.push(`cuda: ${summarize(cuda.reason)}`);
  }
  if (wanted === 'auto' || wanted === 'native' || wanted === 'cpu') {
    const { addon, reason } = currentPlatform.loadNativeAddon();
    if (addon) {
      active = new NativeBackend(addon, threads, [...notes, reason].join('; '));
      return active.info;
    }
    if (wanted === 'native') throw new WTConvError('E_BACKEND', `backend native: ${reason}`);
    notes.push(`native: ${reason.split('\n')[0]}`);
  }
  const usable = await currentPlatform.wasmThreadsUsable();
  let variant: 'threaded' | 'single-threaded' = usable.ok && threads > 1 ? 'threaded' : 'single-threaded';
  let why = variant === 'threaded' ? usable.reason : threads === 1 ? 'threads: 1 requested' : usable.reason;
  let module;
  for (;;) {
    const key = JSON.stringify([variant, variant === 'threaded' ? threads : 1, wasmPaths ?? null]);
    try {
      if (!wasmModules.has(key)) wasmModules.set(key, currentPlatform.loadWasmModule({ variant, threads, wasmPaths }));
      module = await wasmModules.get(key)!;
      break;
    } catch (e) {
      wasmModules.delete(key);  // a later init() may try again (e.g. with corrected wasmPaths)
      if (e instanceof WTConvError) throw e;
      // Browsers can refuse the threaded module even when isolated (Safari: DataCloneError,
      // RangeError: Out of memory): run single-threaded instead, and say why.
      if (variant === 'threaded' && currentPlatform.name === 'browser') {
        why = `the threaded module failed to start (${(e as Error).name}: ${(e as Error).message}), so single-threaded`;
        variant = 'single-threaded';
        continue;
      }
      throw new WTConvError('E_BACKEND', `backend wasm: the ${variant} module failed to start: ${(e as Error).message}`, { cause: e });
    }
  }
  active = new WasmBackend(module, variant, threads, [...notes, `wasm ${variant}: ${why}`].join('; '));
  return active.info;
}

/** The backend in use: its name, threads, SIMD, device and why it was chosen. */
export function backend(): BackendInfo {
  return { ...current().info };
}

/** The first lines of a load failure's explanation, on one line (what was tried and why it failed). */
function summarize(reason: string): string {
  const lines = reason.split('\n').map((l) => l.trim()).filter(Boolean);
  const end = lines.findIndex((l) => l.startsWith('Possible solutions'));
  return (end < 0 ? lines : lines.slice(0, end)).join(' ');
}

/** The backends that can run here, fastest first (loads nothing permanently). */
export async function availableBackends(): Promise<BackendName[]> {
  const names: BackendName[] = [];
  if (currentPlatform.loadCudaAddon?.().addon) names.push('cuda');
  if (currentPlatform.loadNativeAddon().addon) names.push('native');
  names.push('wasm');
  return names;
}

/**
 * A zeroed Float32Array where the active backend's kernels use it as it lies
 * (the threaded WASM module's heap: no copy in or out per call), else an
 * ordinary one (before init(), and on backends that read host memory). For
 * what modules keep from call to call: parameters, buffers, activations.
 */
export function kernelArray(length: number): Float32Array {
  return active?.allocate?.(length) ?? allocFloat32(length);
}

/**
 * A tensor of zeros in the memory the active backend's kernels use where it lies:
 * on the threaded WASM backend the module's heap, so an op reading or writing it
 * (as input, or as `out` / `gradOut`) copies nothing in or out; elsewhere (native,
 * CUDA's host side, single-threaded WASM, before init()) an ordinary host tensor.
 * Its heap block is freed by `dispose()` or when the tensor is collected.
 */
export function zeros(shape: readonly number[]): Tensor {
  return new Tensor(kernelArray(shapeSize(shape, 'zeros shape')), shape);
}

/** The active backend; throws E_BACKEND before init(). */
export function current(): Backend {
  if (!active) {
    throw new WTConvError('E_BACKEND', pending ? 'wtconv is still initialising: await wt.init() before calling an operator' : 'wtconv is not initialised: call await wt.init() first');
  }
  return active;
}
