// Arrays in the threaded WASM module's heap (Backend.allocate): the kernels read
// and write them where they lie (no copy into the arena, so the heap does not
// grow for them), they stay valid when the heap grows, other backends read them
// as ordinary arrays, the heap block is freed once the array is garbage, and
// the `out` checks tell disjoint views of the heap from overlapping ones.
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { current } from '../ts/runtime.js';
import { randomTensor } from './helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function resident(shape: number[], from?: wt.Tensor): wt.Tensor {
  const data = current().allocate?.(shape.reduce((a, b) => a * b, 1));
  if (!data) throw new Error('the backend in use gave no resident array');
  if (from) data.set(from.data);
  return new wt.Tensor(data, shape);
}

const MiB = 2 ** 20;
const heapBytes = () => wt.runtimeStats().heapBytes!;

describe('resident arrays in the threaded WASM heap', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'wasm', threads: 2 });
  });

  it('are zeroed views of the shared heap; the single-threaded module and native give none', async () => {
    const t = resident([3, 5]);
    expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(t.data)).toEqual(new Array(15).fill(0));
    await wt.init({ backend: 'wasm', threads: 1 });
    expect(wt.backend().variant).toBe('single-threaded');
    expect(current().allocate?.(15) ?? null).toBeNull();
    await wt.init({ backend: 'native', threads: 2 });
    expect(current().allocate?.(15) ?? null).toBeNull();
    await wt.init({ backend: 'wasm', threads: 2 });
  });

  it('give the numbers host arrays give, in and out, and are not copied into the arena', () => {
    const x = randomTensor([2, 6, 9, 7], 1), w = randomTensor([4, 6, 3, 3], 2), b = randomTensor([4], 3);
    const want = wt.conv2d(x, w, b, { padding: 1 });
    const rx = resident(x.shape as number[], x), ry = resident([2, 4, 9, 7]);
    expect(wt.conv2d(rx, w, b, { padding: 1, out: ry })).toBe(ry);
    expect(ry.data).toEqual(want.data);
    // 2 x 48 MiB of operands: copied, they would need a 144 MiB arena.
    const n = (48 * MiB) / 4;
    const a = resident([n]), c = resident([n]);
    a.data.fill(1.5);
    c.data.fill(-0.25);
    const before = heapBytes();
    wt.add(a, c, a);
    expect(heapBytes()).toBe(before);
    expect(a.data[0]).toBe(1.25);
    expect(a.data[n - 1]).toBe(1.25);
  });

  it('stay valid after the heap grows, and other backends read them', async () => {
    const x = randomTensor([1, 3, 8, 8], 4);
    const rx = resident([1, 3, 8, 8], x);
    const bands = wt.dwt2d(x, { levels: 2 });
    const before = heapBytes();
    const big = resident([(256 * MiB) / 4]);  // grows the heap
    expect(heapBytes()).toBeGreaterThan(before);
    expect(rx.data.buffer).not.toBe(big.data.buffer);  // the heap's buffer before growth
    const out = [resident([1, 3, 4, 4, 4]), resident([1, 3, 4, 2, 2])];
    wt.dwt2d(rx, { levels: 2, out });
    out.forEach((o, l) => expect(o.data).toEqual(bands[l].data));
    await wt.init({ backend: 'native', threads: 2 });
    const native = wt.dwt2d(rx, { levels: 2, out: [hostLike(out[0]), hostLike(out[1])] });
    native.forEach((o, l) => expect(o.data).toEqual(bands[l].data));
    await wt.init({ backend: 'wasm', threads: 2 });
  });

  it('are freed once garbage: allocating and dropping 1 GiB leaves the heap well under that', async () => {
    const start = heapBytes();
    for (let i = 0; i < 16; i++) {
      resident([(64 * MiB) / 4]).data[0] = i;
      gc();
      await new Promise((r) => setTimeout(r, 0));  // finalizers run in a later task
    }
    expect(heapBytes() - start).toBeLessThan(512 * MiB);
  });

  it('hold the parameters and buffers of modules made while the threaded WASM module is active; native modules get ordinary arrays', async () => {
    const conv = new wt.Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, seed: 7 });
    const mix = new wt.WaveMixBlock({ level: 1, finalDim: 8, mult: 2, ffChannel: 8, seed: 8 });
    for (const [k, t] of [...Object.entries(conv.stateDict()), ...Object.entries(mix.stateDict())]) {
      expect(t.data.buffer, k).toBeInstanceOf(SharedArrayBuffer);
    }
    // Read where they lie (no copy into the arena) and by the other backends alike.
    const x = randomTensor([2, 3, 6, 6], 9);
    const y = conv.forward(x);
    await wt.init({ backend: 'native', threads: 2 });
    try {
      const yNative = conv.forward(x);  // native rounds its sums differently (FMA)
      expect(Math.max(...yNative.data.map((v, i) => Math.abs(v - y.data[i])))).toBeLessThan(1e-5);
      const plain = new wt.Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, seed: 7 });
      expect(plain.stateDict().weight.data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(plain.stateDict().weight.data).toEqual(conv.stateDict().weight.data);
    } finally {
      await wt.init({ backend: 'wasm', threads: 2 });
    }
  });

  it('are what wt.zeros makes on the threaded module; elsewhere it makes ordinary zeroed tensors', async () => {
    const t = wt.zeros([2, 3, 4]);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(t.data)).toEqual(new Array(24).fill(0));
    expect(() => wt.zeros([2, 0])).toThrow(/zeros shape: dimension 1 must be a positive integer/);
    for (const init of [{ backend: 'wasm', threads: 1 }, { backend: 'native', threads: 2 }] as const) {
      await wt.init(init);
      const h = wt.zeros([5]);
      expect(h.data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(Array.from(h.data)).toEqual([0, 0, 0, 0, 0]);
      h.dispose();  // nothing to free: stays usable
      expect(h.data.length).toBe(5);
    }
    await wt.init({ backend: 'wasm', threads: 2 });
  });

  it('are freed at once by dispose(): the space is reused, and the tensor, or another over its array, is then E_STATE', () => {
    const start = heapBytes();
    for (let i = 0; i < 16; i++) {
      const t = wt.zeros([(64 * MiB) / 4]);
      t.data[0] = i;
      t.dispose();
    }
    expect(heapBytes() - start).toBeLessThanOrEqual(64 * MiB);
    const x = randomTensor([1, 2, 4, 4], 11), w = randomTensor([2, 2, 1, 1], 12);
    const rx = wt.zeros(x.shape as number[]);
    rx.data.set(x.data);
    const alias = rx.reshape([1, 2, 16, 1]).reshape([1, 2, 4, 4]);  // another tensor over the same array
    expect(wt.conv2d(alias, w, null).data).toEqual(wt.conv2d(x, w, null).data);
    rx.dispose();
    expect(() => rx.data).toThrow(expect.objectContaining({ code: 'E_STATE', message: expect.stringMatching(/released by dispose\(\)/) }));
    expect(() => wt.conv2d(alias, w, null)).toThrow(expect.objectContaining({ code: 'E_STATE', message: expect.stringMatching(/conv2dForward was released by dispose\(\)/) }));
    rx.dispose();  // a second dispose does nothing
    const host = randomTensor([3], 13);
    host.dispose();
    expect(host.data.length).toBe(3);
  });

  it("are told apart by range: a disjoint view of the heap is a valid `out`, an overlapping one is E_ARG", () => {
    const x = resident([1, 2, 4, 4], randomTensor([1, 2, 4, 4], 5)), w = randomTensor([2, 2, 1, 1], 6);
    const y = resident([1, 2, 4, 4]);
    expect(x.data.buffer).toBe(y.data.buffer);
    expect(() => wt.conv2d(x, w, null, { out: y })).not.toThrow();
    const overlapping = new wt.Tensor(new Float32Array(x.data.buffer, x.data.byteOffset + 16, 32), [1, 2, 4, 4]);
    expect(() => wt.conv2d(x, w, null, { out: overlapping })).toThrow(/option 'out': must not share memory with x/);
  });
});

/** A host array of t's shape (the native call writes host arrays, reading a resident input). */
function hostLike(t: wt.Tensor): wt.Tensor {
  return new wt.Tensor(new Float32Array(t.data.length), t.shape);
}
