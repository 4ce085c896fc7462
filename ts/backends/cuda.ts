// The CUDA backend: the second addon (cuda/binding.cc, build/cuda/Release/wtconv_cuda.node)
// over the kernels of cuda/src. Tensors can live on the GPU:
//   - `t.to('cuda')` uploads a tensor; its `data` stays a host array (the mirror)
//     that is filled from the device on first read, so CPU code keeps working;
//   - a CUDA op with any input on the GPU leaves its outputs on the GPU (a chain of
//     layers never goes through host memory); with only host inputs it copies
//     them in and the outputs out, like any other backend;
//   - every kernel of the C ABI has a CUDA implementation (cuda/src); the CPU
//     backend alongside (native, else WASM) gives the wavelet filter tables and
//     the thread count it reports.
// Device tensors are immutable: writing into the host mirror of one is not seen by the GPU.
import { WTConvError, type WTConvErrorCode } from '../errors.js';
import { Tensor, deviceHooks, type Device } from '../tensor.js';
import { In, Out, type Backend, type BackendInfo, type KernelArg, type KernelName, type RuntimeStats, type TensorArg } from './backend.js';

/** An opaque handle on device memory (freed when collected, or by free()). */
export type DeviceBuffer = { readonly __deviceBuffer: unique symbol };

export interface CudaProbe {
  count: number;
  name: string;
  computeCapability: string;
  driverVersion: number;
  runtimeVersion: number;
  reason: string;
}

/** The CUDA addon's exports (cuda/binding.cc). */
export interface CudaAddon {
  probe(): CudaProbe;
  alloc(floats: number): DeviceBuffer;
  free(b: DeviceBuffer): void;
  upload(b: DeviceBuffer, data: Float32Array): void;
  download(b: DeviceBuffer, data: Float32Array): void;
  copy(dst: DeviceBuffer, src: DeviceBuffer, floats: number): void;
  synchronize(): void;
  setSynchronous(on: boolean): void;
  setTier(tier: 'fused' | 'baseline'): void;
  runtimeInfo(): { version: string; tier: 'fused' | 'baseline'; workspaceBytes: number; emulator: boolean };
  releaseWorkspace(): void;
  [kernel: string]: unknown;
}

interface Resident {
  buf: DeviceBuffer;
  /** Whether the host mirror holds the data too. */
  hostValid: boolean;
  addon: CudaAddon;
}

// Keyed by the host mirror (a tensor's `data` array), so a tensor and its
// reshapes share one device buffer.
const resident = new WeakMap<Float32Array, Resident>();
// The mirror of each device tensor, read without triggering a download.
const mirrorOf = new WeakMap<Tensor, Float32Array>();
let activeCuda: CudaBackend | null = null;

function rawData(t: Tensor): Float32Array {
  return mirrorOf.get(t) ?? t.data;
}

/** Makes `t` (whose data array is `mirror`) read the device copy back on first access. */
function adopt(t: Tensor, mirror: Float32Array): void {
  const r = resident.get(mirror);
  if (!r) return;
  mirrorOf.set(t, mirror);
  if (r.hostValid) return;
  Object.defineProperty(t, 'data', {
    configurable: true,
    enumerable: true,
    get() {
      if (!r.hostValid) {
        try {
          r.addon.download(r.buf, mirror);
        } catch (e) {
          throw toWTConvError(e, 'reading a CUDA tensor back to the host');
        }
        r.hostValid = true;
      }
      Object.defineProperty(t, 'data', { value: mirror, writable: false, configurable: true, enumerable: true });
      return mirror;
    },
  });
}

deviceHooks.adopt = (t: Tensor) => {
  // The constructor stored the array as an own data property: read it raw.
  const d = Object.getOwnPropertyDescriptor(t, 'data')?.value as Float32Array | undefined;
  if (d && resident.has(d)) adopt(t, d);
};
deviceHooks.storage = rawData;
deviceHooks.device = (t: Tensor): Device => {
  const m = mirrorOf.get(t);
  return m && resident.has(m) ? 'cuda' : 'cpu';
};
deviceHooks.to = (t: Tensor, device: Device): Tensor => {
  if (device === 'cpu') {
    const host = t.data;  // downloads if needed
    return new Tensor(host.slice(), t.shape);
  }
  if (!activeCuda) {
    throw new WTConvError('E_BACKEND', "Tensor.to('cuda'): the cuda backend is not in use (await wt.init({ backend: 'cuda' }) on a machine with an NVIDIA GPU; wt.backend().reason says why it was not chosen)");
  }
  return activeCuda.upload(t);
};
deviceHooks.dispose = (t: Tensor) => {
  const m = mirrorOf.get(t);
  const r = m ? resident.get(m) : undefined;
  if (!m || !r) return;
  r.addon.free(r.buf);
  resident.delete(m);
  mirrorOf.delete(t);
  if (r.hostValid) return;  // the host copy was read: the tensor stays usable on the host
  Object.defineProperty(t, 'data', {
    configurable: true,
    enumerable: true,
    get() {
      throw new WTConvError('E_STATE', `${t.toString()}: its GPU memory was released by dispose() before its data was read`);
    },
  });
};

export class CudaBackend implements Backend {
  readonly info: BackendInfo;

  constructor(
    private readonly addon: CudaAddon,
    probe: CudaProbe,
    private readonly host: Backend,
    reason: string,
  ) {
    const emulator = addon.runtimeInfo().emulator;
    this.info = {
      name: 'cuda',
      threads: host.info.threads,
      simd: true,
      isa: emulator ? 'host-emulator' : `sm_${probe.computeCapability.replace('.', '')}`,
      device: probe.name,
      reason,
    };
    activeCuda = this;
  }

  /** Which CUDA kernels run: 'fused' (default; baseline where the fused ones do not fit) or 'baseline'. */
  setKernels(tier: 'fused' | 'baseline'): void {
    this.addon.setTier(tier);
  }

  /** The addon (benchmarks: synchronous mode, synchronize()). */
  get raw(): CudaAddon {
    return this.addon;
  }

  /** Stops this backend's device tensors from being created (another backend was chosen). */
  deactivate(): void {
    if (activeCuda === this) activeCuda = null;
  }

  upload(t: Tensor): Tensor {
    const src = t.data;
    const buf = this.alloc(src.length);
    try {
      this.addon.upload(buf, src);
    } catch (e) {
      this.addon.free(buf);
      throw toWTConvError(e, "Tensor.to('cuda')");
    }
    const mirror = allocMirror(src.length);
    resident.set(mirror, { buf, hostValid: false, addon: this.addon });
    return new Tensor(mirror, t.shape);  // adopted by the constructor hook
  }

  run(kernel: KernelName, args: readonly KernelArg[]): void {
    // Any input on the GPU: the outputs stay there.
    const onDevice = args.some((a) => a instanceof In && sources(a).some((s) => resident.has(raw(s))));
    const temps: DeviceBuffer[] = [];
    const results: { dst: TensorArg; buf: DeviceBuffer }[] = [];
    const written: TensorArg[] = [];
    try {
      const mapped = args.map((a) => {
        if (!(a instanceof In || a instanceof Out)) return a;
        const list = sources(a).map((s) => {
          const data = raw(s);
          if (a instanceof In) {
            const r = resident.get(data);
            if (r) return r.buf;
            const buf = this.alloc(data.length);
            temps.push(buf);
            this.addon.upload(buf, data);
            return buf;
          }
          // An output tensor already on the device is written where it lies.
          const r = resident.get(data);
          if (r) {
            written.push(s);
            return r.buf;
          }
          const buf = this.alloc(data.length);
          results.push({ dst: s, buf });
          return buf;
        });
        return Array.isArray(a.source) ? list : list[0];
      });
      const fn = this.addon[kernel] as (...a: unknown[]) => void;
      fn(...mapped);
      for (const dst of written) {
        const data = raw(dst);
        resident.get(data)!.hostValid = false;
        if (dst instanceof Tensor) adopt(dst, data);
      }
      for (const { dst, buf } of results) {
        const data = raw(dst);
        if (onDevice && dst instanceof Tensor) {
          resident.set(data, { buf, hostValid: false, addon: this.addon });
          adopt(dst, data);
        } else {
          this.addon.download(buf, data);
          temps.push(buf);
        }
      }
    } catch (e) {
      for (const { buf } of results) this.addon.free(buf);
      throw toWTConvError(e, kernel);
    } finally {
      for (const b of temps) this.addon.free(b);
    }
  }

  waveletFilters(id: number): Float32Array {
    return this.host.waveletFilters(id);
  }

  stats(): RuntimeStats {
    const s = this.host.stats();
    return { ...s, isa: this.info.isa, workspaceBytes: s.workspaceBytes + this.addon.runtimeInfo().workspaceBytes };
  }

  releaseWorkspace(): void {
    this.addon.releaseWorkspace();
    this.host.releaseWorkspace();
  }

  private alloc(floats: number): DeviceBuffer {
    try {
      return this.addon.alloc(floats);
    } catch (e) {
      throw toWTConvError(e, 'device allocation');
    }
  }
}

function sources(a: In | Out): readonly TensorArg[] {
  return Array.isArray(a.source) ? (a.source as readonly TensorArg[]) : [a.source as TensorArg];
}

function raw(s: TensorArg): Float32Array {
  return s instanceof Tensor ? rawData(s) : s;
}

/** A host array for a device tensor's data; large ones stay untouched (and unpaged) until read. */
function allocMirror(length: number): Float32Array {
  try {
    return new Float32Array(length);
  } catch (e) {
    throw new WTConvError('E_OOM', `cannot allocate the host mirror of a CUDA tensor (${length} floats)`, { cause: e });
  }
}

function toWTConvError(e: unknown, what: string): WTConvError {
  if (e instanceof WTConvError) return e;
  const err = e as { code?: string; message?: string };
  const map: Record<string, WTConvErrorCode> = { E_ARG: 'E_ARG', E_SHAPE: 'E_SHAPE', E_OOM: 'E_OOM', E_CUDA: 'E_BACKEND' };
  const code = map[err?.code ?? ''] ?? 'E_INTERNAL';
  return new WTConvError(code, `cuda: ${what}: ${err?.message ?? String(e)}`, { cause: e });
}
