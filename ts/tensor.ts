import { WTConvError, fail } from './errors.js';

/** Largest element count a tensor may have (also keeps byte sizes exact in float64). */
export const MAX_ELEMENTS = 2 ** 32;

/** Checks that `shape` is a list of positive integers whose product fits; returns the product. */
export function shapeSize(shape: readonly number[], what: string): number {
  if (!Array.isArray(shape)) fail('E_SHAPE', `${what}: expected the shape as an array of integers, got ${typeof shape}`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      fail('E_SHAPE', `${what}: dimension ${i} must be a positive integer, got ${String(d)} (shape [${shape.join(', ')}])`);
    }
    size *= d;
    if (size > MAX_ELEMENTS) {
      fail('E_SHAPE', `${what}: shape [${shape.join(', ')}] has more than 2^32 elements`);
    }
  }
  return size;
}

/** Where a tensor's data lives: host memory, or a CUDA device (see ts/backends/cuda.ts). */
export type Device = 'cpu' | 'cuda';

/**
 * Set by the CUDA backend when it loads; CPU-only code never sees them. `adopt` lets a
 * tensor whose host array is the mirror of device memory read it back on first access.
 */
export const deviceHooks: {
  adopt?: (t: Tensor) => void;
  device?: (t: Tensor) => Device;
  to?: (t: Tensor, device: Device) => Tensor;
  dispose?: (t: Tensor) => void;
  /** The host array that stands for t's memory, without reading device memory back. */
  storage?: (t: Tensor) => Float32Array;
} = {};

/**
 * Set by the WebAssembly backend: frees the heap block of an array its allocate()
 * made (wt.zeros on the threaded module); false for any other array.
 */
export const heapHooks: { release?: (data: Float32Array) => boolean } = {};

/**
 * The array that stands for a tensor's memory (a device tensor's host mirror,
 * not read back): what aliasing checks compare.
 */
export function storageOf(t: Tensor): Float32Array {
  return deviceHooks.storage?.(t) ?? t.data;
}

/** A dense float32 tensor: row-major data and its shape (NCHW for images). */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];

  constructor(data: Float32Array, shape: readonly number[]) {
    if (!(data instanceof Float32Array)) {
      fail('E_DTYPE', `Tensor data: expected a Float32Array, got ${describe(data)}`);
    }
    const size = shapeSize(shape, 'Tensor shape');
    if (data.length !== size) {
      fail('E_SHAPE', `Tensor data: length ${data.length} does not match shape [${shape.join(', ')}] (${size} elements)`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    deviceHooks.adopt?.(this);
  }

  /** 'cuda' for a tensor on the GPU (made by `to('cuda')` or by a CUDA op on one), else 'cpu'. */
  get device(): Device {
    return deviceHooks.device?.(this) ?? 'cpu';
  }

  /**
   * The tensor on `device`: 'cuda' copies it to the GPU (needs the cuda backend), 'cpu'
   * copies it back. A tensor already there is returned as is.
   */
  to(device: Device): Tensor {
    if (device !== 'cpu' && device !== 'cuda') fail('E_ARG', `Tensor.to: expected 'cpu' or 'cuda', got ${JSON.stringify(device)}`);
    if (device === this.device) return this;
    if (!deviceHooks.to) fail('E_BACKEND', "Tensor.to('cuda'): the cuda backend is not in use (await wt.init({ backend: 'cuda' }) on a machine with an NVIDIA GPU)");
    return deviceHooks.to(this, device);
  }

  /** A host copy of a GPU tensor; a host tensor itself. */
  toHost(): Tensor {
    return this.to('cpu');
  }

  /**
   * Frees now, instead of at garbage collection, what the tensor holds outside JavaScript:
   * a GPU tensor's device memory, or the WebAssembly heap block of a tensor made by
   * `wt.zeros` on the threaded WASM backend (its data, and that of every tensor over the
   * same array, must not be used after). Ordinary host tensors: nothing.
   */
  dispose(): void {
    deviceHooks.dispose?.(this);
    const data = Object.getOwnPropertyDescriptor(this, 'data')?.value as Float32Array | undefined;
    if (data && heapHooks.release?.(data)) {
      Object.defineProperty(this, 'data', {
        configurable: true,
        enumerable: true,
        get: () => {
          throw new WTConvError('E_STATE', `${this.toString()}: its WebAssembly heap block was released by dispose()`);
        },
      });
    }
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Rank (number of dimensions). */
  get rank(): number {
    return this.shape.length;
  }

  /** A tensor of zeros. */
  static zeros(shape: readonly number[]): Tensor {
    return new Tensor(allocFloat32(shapeSize(shape, 'shape')), shape);
  }

  /** A deep copy. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The same data under another shape with the same element count. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.data, shape);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}

/** Makes a tensor from a Float32Array (used as is, not copied) or a plain array of numbers. */
export function tensor(data: Float32Array | readonly number[], shape: readonly number[]): Tensor {
  if (data instanceof Float32Array) return new Tensor(data, shape);
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') fail('E_DTYPE', `tensor data[${i}]: expected a number, got ${describe(data[i])}`);
    }
    return new Tensor(Float32Array.from(data), shape);
  }
  throw new WTConvError('E_DTYPE', `tensor data: expected a Float32Array or an array of numbers, got ${describe(data)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Checks that `t` is a Tensor; returns it. */
export function asTensor(t: unknown, what: string): Tensor {
  if (!(t instanceof Tensor)) {
    fail('E_DTYPE', `${what}: expected a Tensor, got ${describe(t)}`);
  }
  return t;
}

/** A zeroed Float32Array; a failed allocation is E_OOM rather than a RangeError. */
export function allocFloat32(length: number): Float32Array {
  try {
    return new Float32Array(length);
  } catch (e) {
    throw new WTConvError('E_OOM', `cannot allocate a Float32Array of ${length} elements (${(length * 4 / 2 ** 20).toFixed(1)} MiB)`, { cause: e });
  }
}
