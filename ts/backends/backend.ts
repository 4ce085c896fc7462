// The contract between the op layer (validation, shapes, memory) and a backend
// (arithmetic). A backend runs kernels of the C ABI by name; arguments come in
// the C function's order.
import { Tensor } from '../tensor.js';

export type BackendName = 'cuda' | 'native' | 'wasm';

/** What `wt.backend()` reports about the backend in use. */
export interface BackendInfo {
  name: BackendName;
  /** Threads the operators actually use (the calling thread included). */
  threads: number;
  /** Whether the kernels run vectorised (AVX2/AVX-512 natively, SIMD128 in WASM). */
  simd: boolean;
  /** The vector ISA the kernels run with: 'avx512f', 'avx2', 'sse2', 'wasm-simd128'. */
  isa: string;
  /** WASM only: which module runs. */
  variant?: 'threaded' | 'single-threaded';
  /** CUDA only: the GPU's name. */
  device?: string;
  /** Why this backend was chosen (and why faster ones were not). */
  reason: string;
}

/** A tensor argument: its host data, or the Tensor (which may live on a GPU). */
export type TensorArg = Float32Array | Tensor;
type Source = TensorArg | readonly TensorArg[];

/** Host data of a tensor argument (a CUDA tensor's is copied back on first read). */
function host(s: Source): Float32Array | readonly Float32Array[] {
  if (s instanceof Float32Array) return s;
  if (s instanceof Tensor) return s.data;
  return (s as readonly TensorArg[]).map((t) => (t instanceof Tensor ? t.data : t));
}

/** A read-only tensor argument, or a list of them (one per level). */
export class In {
  constructor(readonly source: Source) {}
  /** The host data (what the CPU backends read). */
  get value(): Float32Array | readonly Float32Array[] {
    return host(this.source);
  }
}
/** A tensor the kernel writes in full, or a list of them. */
export class Out {
  constructor(readonly source: Source) {}
  /** The host data (what the CPU backends write). */
  get value(): Float32Array | readonly Float32Array[] {
    return host(this.source);
  }
}
export type KernelArg = number | In | Out | null;

/** Kernels of the C ABI, by their binding name (wtconv_wtconv2d_forward -> wtconv2dForward). */
export type KernelName =
  | 'depthwiseConv2dForward'
  | 'depthwiseConv2dBackward'
  | 'dwt2dForward'
  | 'dwt2dBackward'
  | 'idwt2dForward'
  | 'idwt2dBackward'
  | 'wtconv2dForward'
  | 'wtconv2dBackward'
  | 'conv1dForward'
  | 'conv1dBackward'
  | 'conv2dForward'
  | 'conv2dBackward'
  | 'conv3dForward'
  | 'conv3dBackward'
  | 'convTranspose2dForward'
  | 'convTranspose2dBackward'
  | 'dclsConstructForward'
  | 'dclsConstructBackward'
  | 'addForward'
  | 'geluForward'
  | 'geluBackward'
  | 'dropoutForward'
  | 'dropoutBackward'
  | 'batchNorm2dForward'
  | 'batchNorm2dBackward'
  | 'linearForward'
  | 'linearBackward'
  | 'globalAvgPool2dForward'
  | 'globalAvgPool2dBackward'
  | 'concatChannelsForward'
  | 'concatChannelsBackward';

export interface RuntimeStats {
  version: string;
  isa: string;
  threads: number;
  /** Threads that ran a share of the most recent parallel kernel. */
  threadsUsedLast: number;
  /** Bytes held by the core's scratch workspace and the transformed weights it keeps. */
  workspaceBytes: number;
  /** WASM only: bytes of the module's linear memory. */
  heapBytes?: number;
}

export interface Backend {
  readonly info: BackendInfo;
  /** Runs one kernel; throws WTConvError on a failing status. */
  run(kernel: KernelName, args: readonly KernelArg[]): void;
  /** dec_lo, dec_hi, rec_lo, rec_hi of wavelet id 1..4, as the core holds them. */
  waveletFilters(id: number): Float32Array;
  stats(): RuntimeStats;
  /** Frees scratch memory and kept transformed weights (they grow again on the next calls). */
  releaseWorkspace(): void;
  /**
   * `length` zeros in memory the kernels read and write in place, where that
   * saves copying them in and out of every call (the threaded WASM module's
   * shared heap); null where host arrays are used as they are.
   */
  allocate?(length: number): Float32Array | null;
}

/** Whether two arrays overlap in memory (views of one buffer whose ranges meet). */
export function sharesMemory(a: Float32Array, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Maps a C status name (from the addon or the WASM module) to a WTConvError code. */
export const STATUS_CODES = ['OK', 'E_ARG', 'E_SHAPE', 'E_OOM', 'E_INTERNAL'] as const;
