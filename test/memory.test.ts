// Soak: 10,000 calls per op with random shapes (bounded, so the largest is met in
// warm-up) keep the memory flat: the WASM heap does not grow after warm-up, the
// core's workspace by at most a quarter (odd sizes' padding), and the process RSS
// (native addon and WASM alike) stays within a measured bound. WTCONV_SOAK_CALLS overrides the call count.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomWTConvParams } from './helpers.js';

const CALLS = Number(process.env.WTCONV_SOAK_CALLS ?? 10_000);
/** Largest RSS growth accepted between the end of warm-up and the end of a soak. */
const RSS_BOUND = 24 * 2 ** 20;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function rng(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo + 1));
  };
}

/** One call of an op with shapes drawn by r (or the largest when r is null). */
type Op = (r: ((lo: number, hi: number) => number) | null) => unknown;
const size = (r: ((lo: number, hi: number) => number) | null, lo: number, hi: number, largest = hi) => (r ? r(lo, hi) : largest);

// Fresh inputs every call (garbage the GC takes back), with parameters cached per configuration.
const tensor = (shape: number[], v = 0.5) => new wt.Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape);
const paramCache = new Map<string, Record<string, wt.Tensor>>();
const params = (c: number, k: number, levels: number) => {
  const key = `${c}:${k}:${levels}`;
  if (!paramCache.has(key)) paramCache.set(key, randomWTConvParams(c, k, levels, true, 3));
  return paramCache.get(key)!;
};

const OPS: Record<string, Op> = {
  wtconv2d: (r) => {
    const c = size(r, 1, 4), h = size(r, 1, 24), w = size(r, 1, 24), k = size(r, 1, 5), levels = size(r, 1, 3);
    return wt.wtconv2d(tensor([1, c, h, w]), params(c, k, levels), { levels, stride: size(r, 1, 2, 1) });
  },
  wtconv2dBackward: (r) => {
    const c = size(r, 1, 4), h = size(r, 1, 24), w = size(r, 1, 24), k = size(r, 1, 5), levels = size(r, 1, 3);
    return wt.wtconv2dBackward(tensor([1, c, h, w]), params(c, k, levels), tensor([1, c, h, w], 0.25), { levels });
  },
  dwt2d: (r) => wt.dwt2d(tensor([1, size(r, 1, 4), size(r, 1, 32), size(r, 1, 32)]), { levels: size(r, 1, 4), wavelet: r ? (['db1', 'db2', 'db3', 'db4'] as const)[r(0, 3)] : 'db4' }),
  dwt2dBackward: (r) => {
    const x = tensor([1, size(r, 1, 4), size(r, 1, 32), size(r, 1, 32)]);
    const levels = size(r, 1, 4);
    return wt.dwt2dBackward(x, wt.dwt2d(x, { levels }), { levels });
  },
  idwt2d: (r) => wt.idwt2d(wt.dwt2d(tensor([1, size(r, 1, 4), size(r, 1, 32), size(r, 1, 32)]), { levels: size(r, 1, 4), wavelet: 'db2' }), { wavelet: 'db2' }),
  conv2d: (r) => {
    const cin = size(r, 1, 8), cout = size(r, 1, 8), k = size(r, 1, 5);
    return wt.conv2d(tensor([1, cin, size(r, k, 24), size(r, k, 24)]), tensor([cout, cin, k, k]), tensor([cout]), { stride: size(r, 1, 2, 1), padding: size(r, 0, 2) });
  },
  conv2dBackward: (r) => {
    const cin = size(r, 1, 8), cout = size(r, 1, 8), k = size(r, 1, 5), h = size(r, k, 24), w = size(r, k, 24);
    const x = tensor([1, cin, h, w]), weight = tensor([cout, cin, k, k]);
    return wt.conv2dBackward(x, weight, null, tensor([1, cout, h - k + 1, w - k + 1], 0.25), {});
  },
  wavemixLayers: (r) => {  // add, GELU, BatchNorm2d in training mode and its backward, on one random shape
    const c = size(r, 1, 8), x = tensor([size(r, 1, 3), c, size(r, 2, 16), size(r, 1, 16)]);
    const g = wt.gelu(wt.add(x, x));
    const bn = wt.batchNorm2d(g, tensor([c], 1), tensor([c], 0), tensor([c], 0), tensor([c], 1), { training: true });
    return wt.batchNorm2dBackward(g, tensor([c], 1), bn.saved, bn.y);
  },
  convTranspose2d: (r) => {
    const cin = size(r, 1, 8), cout = size(r, 1, 8), k = size(r, 1, 4);
    return wt.convTranspose2d(tensor([1, cin, size(r, 1, 16), size(r, 1, 16)]), tensor([cin, cout, k, k]), null, { stride: size(r, 1, 2) });
  },
};

const lines: string[] = [];
afterAll(() => console.log(`memory soak (${CALLS} calls per op):\n${lines.join('\n')}`));

for (const backend of [{ label: 'native', options: { backend: 'native', threads: 2 } }, { label: 'wasm (threaded)', options: { backend: 'wasm', threads: 2 } }] as const) {
  describe(`memory soak on ${backend.label}`, () => {
    for (const [name, op] of Object.entries(OPS)) {
      it(`${name}: ${CALLS} calls with random shapes keep the heap flat`, async () => {
        await wt.init(backend.options);
        const r = rng(name.length * 7919 + backend.label.length);
        // Warm-up: the largest shapes, then a fifth of the calls.
        op(null);
        for (let i = 0; i < CALLS / 5; i++) op(r);
        const sample = () => {
          gc();
          return { rss: process.memoryUsage().rss, ...wt.runtimeStats() };
        };
        const warm = sample();
        for (let i = 0; i < CALLS / 2; i++) op(r);
        const mid = sample();
        for (let i = 0; i < CALLS / 2; i++) op(r);
        const end = sample();
        const mib = (b: number) => (b / 2 ** 20).toFixed(1);
        lines.push(`  ${backend.label} ${name}: RSS ${mib(warm.rss)} -> ${mib(mid.rss)} -> ${mib(end.rss)} MiB, workspace ${mib(end.workspaceBytes)} MiB` +
          (end.heapBytes !== undefined ? `, WASM heap ${mib(warm.heapBytes!)} -> ${mib(end.heapBytes)} MiB` : ''));
        // The workspace only grows, to the largest request: odd sizes may still add a few
        // rows of padding after warm-up, never more than a quarter.
        expect(end.workspaceBytes).toBeGreaterThanOrEqual(warm.workspaceBytes);
        expect(end.workspaceBytes).toBeLessThanOrEqual(1.25 * warm.workspaceBytes);
        if (end.heapBytes !== undefined) expect(end.heapBytes).toBe(warm.heapBytes);
        // Allocator and GC noise settle; a leak keeps growing in the second half as in the first.
        expect(end.rss - warm.rss).toBeLessThanOrEqual(RSS_BOUND);
        expect(end.rss - mid.rss).toBeLessThanOrEqual(RSS_BOUND / 2);
      });
    }
  });
}

describe('what there is to free', () => {
  for (const backend of [{ backend: 'native', threads: 2 }, { backend: 'wasm', threads: 2 }, { backend: 'wasm', threads: 1 }] as const) {
    it(`${backend.backend} (${backend.threads} threads): releaseMemory() frees the scratch; host tensors need no dispose()`, async () => {
      await wt.init(backend);
      const x = tensor([2, 4, 40, 36]);
      const p = params(4, 5, 2);
      wt.releaseMemory();
      const y = wt.wtconv2dBackward(x, p, tensor([2, 4, 40, 36], 0.25), { levels: 2 });
      const before = wt.runtimeStats();
      expect(before.workspaceBytes).toBeGreaterThan(0);
      wt.releaseMemory();
      expect(wt.runtimeStats().workspaceBytes).toBe(0);
      // The next call allocates again, in the space just freed: the WASM heap does not grow.
      const again = wt.wtconv2dBackward(x, p, tensor([2, 4, 40, 36], 0.25), { levels: 2 });
      expect(again.x.data).toEqual(y.x.data);
      const after = wt.runtimeStats();
      expect(after.workspaceBytes).toBe(before.workspaceBytes);
      if (before.heapBytes !== undefined) expect(after.heapBytes).toBe(before.heapBytes);
      // Host tensors are plain Float32Arrays owned by JavaScript: dispose() leaves them as they are.
      const copy = again.x.data.slice();
      again.x.dispose();
      expect(again.x.device).toBe('cpu');
      expect(again.x.data).toEqual(copy);
    });
  }
});
