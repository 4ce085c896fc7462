// The WebAssembly backend: one Emscripten module (threaded or single-threaded)
// built from the same core. Host tensors are copied into a grow-only arena in
// the module's heap, so repeated calls with the same shapes allocate nothing;
// arrays made by allocate() (the threaded module's shared heap, which growth
// never detaches) are read and written where they lie.
import { WTConvError, type WTConvErrorCode } from '../errors.js';
import { heapHooks } from '../tensor.js';
import { In, Out, STATUS_CODES, type Backend, type BackendInfo, type KernelArg, type KernelName, type RuntimeStats } from './backend.js';

/** The part of an Emscripten module this backend uses. */
export interface WasmModule {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  HEAPU32: Uint32Array;
  wasmMemory?: WebAssembly.Memory;
  UTF8ToString(ptr: number): string;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  PThread?: { runningWorkers: { unref?: () => void }[]; unusedWorkers: { unref?: () => void }[] };
  [fn: string]: unknown;
}

/** C symbol of each kernel. */
const SYMBOLS: Record<KernelName, string> = {
  depthwiseConv2dForward: '_wtconv_depthwise_conv2d_forward',
  depthwiseConv2dBackward: '_wtconv_depthwise_conv2d_backward',
  dwt2dForward: '_wtconv_dwt2d_forward',
  dwt2dBackward: '_wtconv_dwt2d_backward',
  idwt2dForward: '_wtconv_idwt2d_forward',
  idwt2dBackward: '_wtconv_idwt2d_backward',
  wtconv2dForward: '_wtconv_wtconv2d_forward',
  wtconv2dBackward: '_wtconv_wtconv2d_backward',
  conv1dForward: '_wtconv_conv1d_forward',
  conv1dBackward: '_wtconv_conv1d_backward',
  conv2dForward: '_wtconv_conv2d_forward',
  conv2dBackward: '_wtconv_conv2d_backward',
  conv3dForward: '_wtconv_conv3d_forward',
  conv3dBackward: '_wtconv_conv3d_backward',
  convTranspose2dForward: '_wtconv_conv_transpose2d_forward',
  convTranspose2dBackward: '_wtconv_conv_transpose2d_backward',
  dclsConstructForward: '_wtconv_dcls_construct_forward',
  dclsConstructBackward: '_wtconv_dcls_construct_backward',
  addForward: '_wtconv_add_forward',
  geluForward: '_wtconv_gelu_forward',
  geluBackward: '_wtconv_gelu_backward',
  dropoutForward: '_wtconv_dropout_forward',
  dropoutBackward: '_wtconv_dropout_backward',
  batchNorm2dForward: '_wtconv_batch_norm2d_forward',
  batchNorm2dBackward: '_wtconv_batch_norm2d_backward',
  linearForward: '_wtconv_linear_forward',
  linearBackward: '_wtconv_linear_backward',
  globalAvgPool2dForward: '_wtconv_global_avg_pool2d_forward',
  globalAvgPool2dBackward: '_wtconv_global_avg_pool2d_backward',
  concatChannelsForward: '_wtconv_concat_channels_forward',
  concatChannelsBackward: '_wtconv_concat_channels_backward',
};

const ALIGN = 16;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
/** The WASM heap cannot exceed 4 GiB. */
const MAX_HEAP = 4 * 1024 ** 3;

/** What each module instance holds for every backend object over it. */
interface ModuleMemory {
  /** The grow-only arena host tensors are copied into. */
  arena: { ptr: number; bytes: number };
  /** The heap's buffers (one per size it has grown to) that allocate()'s arrays view. */
  buffers: WeakSet<ArrayBufferLike>;
  /** Frees an allocate()'d block once its array is garbage. */
  registry: FinalizationRegistry<number>;
}
const memories = new WeakMap<WasmModule, ModuleMemory>();

/** Each allocate()'d array's block, until dispose() frees it. */
const blocks = new WeakMap<Float32Array, { m: WasmModule; ptr: number }>();
/** Arrays whose block dispose() freed: passing one to a kernel is an error, not a read of freed memory. */
const released = new WeakSet<Float32Array>();

heapHooks.release = (data: Float32Array): boolean => {
  const b = blocks.get(data);
  if (!b) return false;
  memories.get(b.m)!.registry.unregister(data);
  b.m._free(b.ptr);
  blocks.delete(data);
  released.add(data);
  return true;
};

export class WasmBackend implements Backend {
  readonly info: BackendInfo;
  private readonly arena: { ptr: number; bytes: number };
  private readonly memory: ModuleMemory;

  constructor(private readonly m: WasmModule, variant: 'threaded' | 'single-threaded', threads: number, reason: string) {
    if (!memories.has(m)) {
      memories.set(m, { arena: { ptr: 0, bytes: 0 }, buffers: new WeakSet(), registry: new FinalizationRegistry((p) => m._free(p)) });
    }
    this.memory = memories.get(m)!;
    this.arena = this.memory.arena;
    const set = m._wtconv_set_num_threads as (n: number) => number;
    const used = set(variant === 'threaded' ? threads : 1);
    // Emscripten's pthread workers would keep Node's event loop alive.
    for (const w of [...(m.PThread?.runningWorkers ?? []), ...(m.PThread?.unusedWorkers ?? [])]) w.unref?.();
    this.info = { name: 'wasm', threads: used, simd: true, isa: this.str('_wtconv_isa'), variant, reason };
  }

  run(kernel: KernelName, args: readonly KernelArg[]): void {
    // Lay out every pointer list, and every tensor not already in the heap, in the arena.
    const resident = (t: Float32Array) => {
      if (released.has(t)) throw new WTConvError('E_STATE', `wasm: a tensor passed to ${kernel} was released by dispose()`);
      return this.memory.buffers.has(t.buffer);
    };
    const arenaBytes = (t: Float32Array) => (resident(t) ? 0 : align(t.byteLength));
    let bytes = 0;
    const offsets: number[] = [];
    for (const a of args) {
      offsets.push(bytes);
      if (a instanceof In || a instanceof Out) {
        const v = a.value;
        bytes += Array.isArray(v)
          ? align(4 * v.length) + (v as Float32Array[]).reduce((s, t) => s + arenaBytes(t), 0)
          : arenaBytes(v as Float32Array);
      }
    }
    const base = this.reserve(bytes);
    const f32 = this.heapF32();
    const u32 = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
    const raw: number[] = [];
    const outputs: [Float32Array, number][] = [];
    args.forEach((a, i) => {
      if (typeof a === 'number') return raw.push(a);
      if (a === null) return raw.push(0);
      let ptr = base + offsets[i];
      const place = (t: Float32Array): number => {
        if (resident(t)) return t.byteOffset;
        const p = ptr;
        if (a instanceof In) f32.set(t, p >> 2);
        else outputs.push([t, p]);
        ptr += align(t.byteLength);
        return p;
      };
      if (Array.isArray(a.value)) {
        const list = ptr;
        ptr += align(4 * a.value.length);
        (a.value as Float32Array[]).forEach((t, j) => (u32[(list >> 2) + j] = place(t)));
        raw.push(list);
      } else {
        raw.push(place(a.value as Float32Array));
      }
    });
    const fn = this.m[SYMBOLS[kernel]] as (...a: number[]) => number;
    const status = fn(...raw);
    if (status !== 0) {
      const code = (STATUS_CODES[status] ?? 'E_INTERNAL') as WTConvErrorCode;
      throw new WTConvError(code, `wasm: ${this.str('_wtconv_last_error')}`);
    }
    const heap = this.heapF32();  // the call may have grown memory
    for (const [t, p] of outputs) t.set(heap.subarray(p >> 2, (p >> 2) + t.length));
  }

  allocate(length: number): Float32Array | null {
    const mem = this.m.wasmMemory;
    if (!mem || typeof SharedArrayBuffer === 'undefined' || !(mem.buffer instanceof SharedArrayBuffer)) return null;
    const bytes = 4 * length;
    const p = bytes < MAX_HEAP ? this.m._malloc(bytes) : 0;
    if (!p) throw new WTConvError('E_OOM', `wasm: cannot allocate ${bytes} bytes in the WebAssembly heap (limit 4 GiB)`);
    const view = new Float32Array(this.heapF32().buffer, p, length).fill(0);
    this.memory.buffers.add(view.buffer);
    this.memory.registry.register(view, p, view);
    blocks.set(view, { m: this.m, ptr: p });
    return view;
  }

  waveletFilters(id: number): Float32Array {
    const len = (this.m._wtconv_wavelet_filter_length as (id: number) => number)(id);
    if (len <= 0) throw new WTConvError('E_ARG', `wavelet: expected an id in 1..4, got ${id}`);
    const p = this.reserve(16 * len);
    (this.m._wtconv_wavelet_filters as (id: number, out: number) => number)(id, p);
    return this.heapF32().slice(p >> 2, (p >> 2) + 4 * len);
  }

  stats(): RuntimeStats {
    return {
      version: this.str('_wtconv_version'),
      isa: this.info.isa,
      threads: (this.m._wtconv_get_num_threads as () => number)(),
      threadsUsedLast: (this.m._wtconv_threads_used_last as () => number)(),
      workspaceBytes: (this.m._wtconv_workspace_bytes as () => number)(),
      heapBytes: this.heapF32().buffer.byteLength,
    };
  }

  releaseWorkspace(): void {
    (this.m._wtconv_release_workspace as () => void)();
    if (this.arena.ptr) this.m._free(this.arena.ptr);
    this.arena.ptr = 0;
    this.arena.bytes = 0;
  }

  private reserve(bytes: number): number {
    const a = this.arena;
    if (bytes <= a.bytes) return a.ptr;
    if (bytes >= MAX_HEAP) {
      throw new WTConvError('E_OOM', `wasm: ${bytes} bytes of tensors exceed the 4 GiB WebAssembly memory limit`);
    }
    if (a.ptr) this.m._free(a.ptr);
    a.ptr = 0;
    a.bytes = 0;
    const p = this.m._malloc(bytes);
    if (!p) throw new WTConvError('E_OOM', `wasm: cannot allocate ${bytes} bytes in the WebAssembly heap (limit 4 GiB)`);
    a.ptr = p;
    a.bytes = bytes;
    return p;
  }

  /** A Float32Array view of the whole heap, fresh after any growth. */
  private heapF32(): Float32Array {
    const mem = this.m.wasmMemory;
    if (mem && this.m.HEAPF32.buffer !== mem.buffer) return new Float32Array(mem.buffer);
    return this.m.HEAPF32;
  }

  private str(symbol: string): string {
    return this.m.UTF8ToString((this.m[symbol] as () => number)());
  }
}
