// The convolutions against a direct float64 reference written here, on shapes
// that cross every blocking boundary of the GEMM (k > 256, m > 96, n > 512,
// ragged edge tiles), with groups, strides, padding and dilation; depthwise
// layers on both the direct path and (dilated) the GEMM path; on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, expectParity, randomTensor } from './helpers.js';
import { convReference, convTranspose2dReference, convTranspose2dWeightGradReference } from './reference/ops.js';

interface Case { n: number; cin: number; cout: number; size: number[]; k: number[]; s: number[]; p: number[]; d: number[]; g: number }

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

/** y, grad x, grad weight, grad bias of an N-D conv in float64 (3 axes, leading ones of size 1). */
function reference(c: Case, x: wt.Tensor, w: wt.Tensor, b: wt.Tensor, gy: Float32Array | null) {
  const pad3 = (v: number[], fill: number) => [...Array(3 - v.length).fill(fill), ...v];
  const [I, K, S, P, D] = [pad3(c.size, 1), pad3(c.k, 1), pad3(c.s, 1), pad3(c.p, 0), pad3(c.d, 1)];
  const O = I.map((s, a) => Math.floor((s + 2 * P[a] - D[a] * (K[a] - 1) - 1) / S[a]) + 1);
  const cinG = c.cin / c.g, coutG = c.cout / c.g;
  const inPlane = prod(I), outPlane = prod(O), taps = prod(K);
  const y = new Float64Array(c.n * c.cout * outPlane);
  const gx = new Float64Array(x.size), gw = new Float64Array(w.size), gb = new Float64Array(c.cout);
  for (let n = 0; n < c.n; n++) for (let o = 0; o < c.cout; o++) {
    const grp = Math.floor(o / coutG);
    for (let j = 0; j < outPlane; j++) {
      const oz = Math.floor(j / (O[1] * O[2])), oy = Math.floor(j / O[2]) % O[1], ox = j % O[2];
      const yi = (n * c.cout + o) * outPlane + j;
      const g = gy ? gy[yi] : 0;
      let acc = b.data[o];
      gb[o] += g;
      for (let ci = 0; ci < cinG; ci++) for (let t = 0; t < taps; t++) {
        const kz = Math.floor(t / (K[1] * K[2])), ky = Math.floor(t / K[2]) % K[1], kx = t % K[2];
        const iz = oz * S[0] - P[0] + kz * D[0], iy = oy * S[1] - P[1] + ky * D[1], ix = ox * S[2] - P[2] + kx * D[2];
        if (iz < 0 || iz >= I[0] || iy < 0 || iy >= I[1] || ix < 0 || ix >= I[2]) continue;
        const xi = (n * c.cin + grp * cinG + ci) * inPlane + (iz * I[1] + iy) * I[2] + ix;
        const wi = (o * cinG + ci) * taps + t;
        acc += x.data[xi] * w.data[wi];
        gx[xi] += g * w.data[wi];
        gw[wi] += g * x.data[xi];
      }
      y[yi] = acc;
    }
  }
  const t = (a: Float64Array, shape: readonly number[]) => new wt.Tensor(Float32Array.from(a), shape);
  return { y: t(y, [c.n, c.cout, ...O.slice(3 - c.size.length)]), x: t(gx, x.shape), weight: t(gw, w.shape), bias: t(gb, b.shape) };
}

const CASES: [string, Case][] = [
  ['conv2d across GEMM blocks (k 360, m 100, n 900)', { n: 2, cin: 40, cout: 100, size: [30, 30], k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], g: 1 }],
  ['conv2d 1x1 (pointwise GEMM, no unfold)', { n: 2, cin: 70, cout: 13, size: [9, 61], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1], g: 1 }],
  ['conv2d 1x1 stride 2', { n: 1, cin: 5, cout: 7, size: [9, 10], k: [1, 1], s: [2, 2], p: [0, 0], d: [1, 1], g: 1 }],
  ['conv2d groups 3, stride (2, 1), dilation (1, 2)', { n: 2, cin: 9, cout: 12, size: [13, 17], k: [3, 5], s: [2, 1], p: [2, 3], d: [1, 2], g: 3 }],
  ['conv2d depthwise 17x17 (direct path)', { n: 2, cin: 4, cout: 4, size: [23, 20], k: [17, 17], s: [1, 1], p: [8, 8], d: [1, 1], g: 4 }],
  ['conv2d depthwise dilated (GEMM path)', { n: 1, cin: 3, cout: 3, size: [15, 14], k: [5, 5], s: [1, 1], p: [4, 4], d: [2, 2], g: 3 }],
  ['conv2d depthwise multiplier 2 (GEMM path)', { n: 1, cin: 3, cout: 6, size: [11, 12], k: [7, 7], s: [2, 2], p: [3, 3], d: [1, 1], g: 3 }],
  ['conv2d kernel as large as the padded input', { n: 1, cin: 2, cout: 3, size: [4, 5], k: [6, 7], s: [1, 1], p: [1, 1], d: [1, 1], g: 1 }],
  // 3x3 stride 1 with >= 8 input channels per group: the forward in Winograd form
  ['conv2d 3x3 Winograd, odd sizes, padding (0, 2)', { n: 3, cin: 9, cout: 7, size: [11, 8], k: [3, 3], s: [1, 1], p: [0, 2], d: [1, 1], g: 1 }],
  ['conv2d 3x3 Winograd, groups 2, 1-pixel output', { n: 2, cin: 16, cout: 6, size: [3, 3], k: [3, 3], s: [1, 1], p: [0, 0], d: [1, 1], g: 2 }],
  ['conv2d 3x3 Winograd, 270 input channels (two GEMM k blocks), padding 3', { n: 1, cin: 270, cout: 5, size: [6, 13], k: [3, 3], s: [1, 1], p: [3, 1], d: [1, 1], g: 1 }],
  ['conv2d 3x3 Winograd, wide rows, 2x1 input', { n: 2, cin: 8, cout: 3, size: [2, 150], k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], g: 1 }],
  // ... and >= 8 output channels per group: the input gradient in Winograd form too
  ['conv2d 3x3 Winograd input gradient, odd sizes, padding (0, 3)', { n: 2, cin: 5, cout: 12, size: [9, 7], k: [3, 3], s: [1, 1], p: [0, 3], d: [1, 1], g: 1 }],
  ['conv2d 3x3 Winograd input gradient, groups 2, padding 2', { n: 1, cin: 6, cout: 20, size: [5, 10], k: [3, 3], s: [1, 1], p: [2, 2], d: [1, 1], g: 2 }],
  ['conv2d 3x3 Winograd, a single row 300 wide and padding (40, 1)', { n: 1, cin: 8, cout: 9, size: [1, 300], k: [3, 3], s: [1, 1], p: [40, 1], d: [1, 1], g: 1 }],
  ['conv2d 3x3 Winograd, a single column 300 high', { n: 1, cin: 8, cout: 9, size: [300, 1], k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], g: 1 }],
  ['conv1d stride 3, dilation 2, groups 2', { n: 3, cin: 4, cout: 6, size: [50], k: [4], s: [3], p: [2], d: [2], g: 2 }],
  // kernels a multiple of a stride > 1 with >= 8 input channels per group: the weight gradient in sub-pixel form
  ['conv2d 2x2 stride 2 (patchify), odd sizes, padding (0, 1)', { n: 3, cin: 10, cout: 9, size: [9, 11], k: [2, 2], s: [2, 2], p: [0, 1], d: [1, 1], g: 1 }],
  ['conv2d 4x6 stride (2, 3), padding (1, 2), groups 2', { n: 2, cin: 32, cout: 12, size: [13, 14], k: [4, 6], s: [2, 3], p: [1, 2], d: [1, 1], g: 2 }],
  ['conv2d 3x1 stride (3, 1), a 1-pixel-wide output row', { n: 2, cin: 8, cout: 4, size: [10, 1], k: [3, 1], s: [3, 1], p: [1, 0], d: [1, 1], g: 1 }],
  // a kernel twice the stride (> 1) with >= 8 summed rows (sampled planes x input channels per group): the forward in Winograd form
  ['conv2d 4x4 stride 2 Winograd over the sampled planes, odd sizes, padding 1', { n: 3, cin: 4, cout: 10, size: [9, 12], k: [4, 4], s: [2, 2], p: [1, 1], d: [1, 1], g: 1 }],
  ['conv2d 4x4 stride 2 Winograd, 280 summed rows and 100 output channels (two GEMM k and m blocks), padding (0, 2)', { n: 1, cin: 70, cout: 100, size: [7, 10], k: [4, 4], s: [2, 2], p: [0, 2], d: [1, 1], g: 1 }],
  ['conv2d 6x2 stride (3, 1) Winograd, padding (2, 1)', { n: 2, cin: 3, cout: 5, size: [11, 6], k: [6, 2], s: [3, 1], p: [2, 1], d: [1, 1], g: 1 }],
  ['conv2d 4x4 stride 2 Winograd, a 1x1 input, padding 2', { n: 2, cin: 8, cout: 3, size: [1, 1], k: [4, 4], s: [2, 2], p: [2, 2], d: [1, 1], g: 1 }],
  ['conv3d stride 2, padding 1', { n: 2, cin: 3, cout: 5, size: [6, 7, 5], k: [3, 3, 2], s: [2, 1, 2], p: [1, 1, 0], d: [1, 1, 1], g: 1 }],
];

// The reference is computed once per case and shared by the backends (same seeds).
const refs = new Map<number, ReturnType<typeof reference>>();

const FN = {
  1: [wt.conv1d, wt.conv1dBackward],
  2: [wt.conv2d, wt.conv2dBackward],
  3: [wt.conv3d, wt.conv3dBackward],
} as const;

for (const b of BACKENDS) {
  describe(`conv against a float64 reference on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });
    CASES.forEach(([name, c], i) => {
      it(name, () => {
        const x = randomTensor([c.n, c.cin, ...c.size], 100 + i);
        const w = randomTensor([c.cout, c.cin / c.g, ...c.k], 200 + i);
        const bias = randomTensor([c.cout], 300 + i);
        const opts = { stride: c.s, padding: c.p, dilation: c.d, groups: c.g };
        const [fwd, bwd] = FN[c.size.length as 1 | 2 | 3];
        const y = fwd(x, w, bias, opts);
        const gy = randomTensor([...y.shape], 400 + i);
        if (!refs.has(i)) refs.set(i, reference(c, x, w, bias, gy.data));
        const ref = refs.get(i)!;
        expectParity(y, ref.y, 'y');
        const g = bwd(x, w, bias, gy, opts);
        expectParity(g.x, ref.x, 'grad.x');
        expectParity(g.weight, ref.weight, 'grad.weight');
        expectParity(g.bias!, ref.bias, 'grad.bias');
      });
    });
  });
}

for (const b of BACKENDS) {
  describe(`convTranspose2d with a 1x1 kernel and output padding on ${b.label}`, () => {
    it('leaves the padding rows and columns at the bias, and keeps rows in place', async () => {
      await wt.init(b.options);
      // Dirty the WASM arena first, so stale values would show.
      wt.conv2d(randomTensor([1, 1, 6, 6], 1), randomTensor([1, 1, 1, 1], 2), null);
      const x = randomTensor([1, 1, 2, 3], 3);
      const opts = { dilation: 2, outputPadding: 1 };
      const y = wt.convTranspose2d(x, new wt.Tensor(new Float32Array([2]), [1, 1, 1, 1]), new wt.Tensor(new Float32Array([0.5]), [1]), opts);
      expect(y.shape).toEqual([1, 1, 3, 4]);
      const expected = Array.from({ length: 12 }, (_, i) => {
        const r = Math.floor(i / 4), c = i % 4;
        return r < 2 && c < 3 ? Math.fround(2 * x.data[r * 3 + c] + 0.5) : 0.5;
      });
      expect(Array.from(y.data)).toEqual(expected);
      const g = wt.convTranspose2dBackward(x, new wt.Tensor(new Float32Array([2]), [1, 1, 1, 1]), null, y, opts);
      expect(Array.from(g.x.data)).toEqual(Array.from(x.data, (_, i) => 2 * y.data[Math.floor(i / 3) * 4 + (i % 3)]));
    });
  });
}

// Transposed convolutions whose kernel is twice the stride run in Winograd form
// (F(2x2, 2x2) per sub-pixel phase, and for the input gradient over the
// sampled planes of grad y): odd and even output sizes, every padding
// the phases shift by, output padding, groups, unequal strides, GEMM blocks
// crossed by the channels (k > 256, m > 96), several images per task. Their
// weight gradient (and that of every kernel a multiple of a stride > 1, the
// last cases) runs in sub-pixel form, one GEMM per tap over the phases' planes,
// where there are >= 8 output channels per group (the unfolding form below).
const WINOGRAD_CASES: [string, { n: number; cin: number; cout: number; size: number[]; k: number[]; s: number[]; p: number[]; op: number[]; g: number }][] = [
  ['4x4 stride 2 padding 1 (the WaveMix upsampling)', { n: 3, cin: 12, cout: 10, size: [8, 8], k: [4, 4], s: [2, 2], p: [1, 1], op: [0, 0], g: 1 }],
  ['4x4 stride 2, odd sizes, padding 0 and 2', { n: 2, cin: 5, cout: 9, size: [7, 9], k: [4, 4], s: [2, 2], p: [0, 2], op: [0, 0], g: 1 }],
  ['4x4 stride 2 padding 3, output padding 1', { n: 1, cin: 6, cout: 8, size: [9, 6], k: [4, 4], s: [2, 2], p: [3, 1], op: [1, 1], g: 1 }],
  ['6x4 stride (3, 2), groups 2', { n: 2, cin: 8, cout: 16, size: [5, 11], k: [6, 4], s: [3, 2], p: [2, 1], op: [2, 0], g: 2 }],
  ['2x4 stride (1, 2)', { n: 2, cin: 4, cout: 5, size: [6, 5], k: [2, 4], s: [1, 2], p: [0, 1], op: [0, 1], g: 1 }],
  ['4x4 stride 2, 260 input channels (two GEMM k blocks)', { n: 1, cin: 260, cout: 3, size: [5, 4], k: [4, 4], s: [2, 2], p: [1, 1], op: [0, 0], g: 1 }],
  ['4x4 stride 2, 100 output channels (two GEMM m blocks), wide rows', { n: 1, cin: 3, cout: 100, size: [3, 70], k: [4, 4], s: [2, 2], p: [1, 1], op: [0, 0], g: 1 }],
  ['32x16 stride (16, 8): 128 phases, padding (3, 10)', { n: 1, cin: 8, cout: 8, size: [3, 4], k: [32, 16], s: [16, 8], p: [3, 10], op: [0, 0], g: 1 }],
  ['4x4 stride 2, a 1x1 input', { n: 2, cin: 3, cout: 8, size: [1, 1], k: [4, 4], s: [2, 2], p: [1, 1], op: [0, 0], g: 1 }],
  ['2x2 stride 2 (kernel = stride), padding 1, output padding 1', { n: 2, cin: 7, cout: 8, size: [5, 6], k: [2, 2], s: [2, 2], p: [1, 0], op: [1, 1], g: 1 }],
  ['6x9 stride 3 (three taps a phase), padding (4, 2), groups 3', { n: 3, cin: 9, cout: 24, size: [4, 7], k: [6, 9], s: [3, 3], p: [4, 2], op: [0, 2], g: 3 }],
  ['3x4 stride (3, 2): one tap a phase down, two across; 40 channels a group', { n: 2, cin: 40, cout: 20, size: [6, 5], k: [3, 4], s: [3, 2], p: [0, 1], op: [1, 0], g: 1 }],
];
const winogradRefs = new Map<number, { y: Float64Array; shape: number[] }>();

for (const b of BACKENDS) {
  describe(`convTranspose2d in Winograd and sub-pixel forms against a float64 reference on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });
    WINOGRAD_CASES.forEach(([name, c], i) => {
      it(name, () => {
        const x = randomTensor([c.n, c.cin, ...c.size], 500 + i);
        const w = randomTensor([c.cin, c.cout / c.g, ...c.k], 600 + i);
        const bias = randomTensor([c.cout], 700 + i);
        const opts = { stride: c.s, padding: c.p, outputPadding: c.op, groups: c.g, dilation: [1, 1] };
        if (!winogradRefs.has(i)) winogradRefs.set(i, convTranspose2dReference(x, w, bias, opts));
        const ref = winogradRefs.get(i)!;
        expectParity(wt.convTranspose2d(x, w, bias, opts), new wt.Tensor(Float32Array.from(ref.y), ref.shape), 'y');
        // each output channel scaled, then the bias and a residual added, in the same pass
        const scale = randomTensor([c.cout], 900 + i), residual = randomTensor(ref.shape, 1000 + i);
        const plane = ref.shape[2] * ref.shape[3];
        const want = ref.y.map((v, j) => {
          const o = Math.floor(j / plane) % c.cout;
          return scale.data[o] * (v - bias.data[o]) + bias.data[o] + residual.data[j];
        });
        expectParity(wt.convTranspose2d(x, w, bias, { ...opts, scale, residual }), new wt.Tensor(Float32Array.from(want), ref.shape), 'y scaled, with a residual');
        // grad x: the conv with the same weight and geometry applied to grad y
        const gy = randomTensor(ref.shape, 800 + i);
        const gx = convReference(gy, w, null, { stride: c.s, padding: c.p, dilation: [1, 1], groups: c.g });
        const grads = wt.convTranspose2dBackward(x, w, bias, gy, opts);
        expectParity(grads.x, new wt.Tensor(Float32Array.from(gx.y), gx.shape), 'grad.x');
        const gw = convTranspose2dWeightGradReference(x, gy, w.shape, { stride: c.s, padding: c.p, dilation: [1, 1], groups: c.g });
        expectParity(grads.weight, new wt.Tensor(Float32Array.from(gw.y), gw.shape), 'grad.weight');
      });
    });
  });
}

// The Winograd forms keep their transformed weights for the next call with the
// same weight (core/src/weight-cache.h): the results must follow the weight
// when it changes in place, when two weights of one shape take turns (in WASM
// both pass through the same staging memory), and when the scale changes.
for (const b of BACKENDS) {
  describe(`kept transformed weights follow their weight on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });
    it('4x4 stride-2 transposed conv, 3x3 conv and 4x4 stride-2 conv', () => {
      const forms = [
        { run: (x: wt.Tensor, w: wt.Tensor, scale?: wt.Tensor) => wt.convTranspose2d(x, w, null, { stride: 2, padding: 1, ...(scale ? { scale } : {}) }),
          ref: (x: wt.Tensor, w: wt.Tensor) => convTranspose2dReference(x, w, null, { stride: [2, 2], padding: [1, 1], outputPadding: [0, 0], groups: 1, dilation: [1, 1] }),
          x: [2, 12, 7, 6], w: [12, 10, 4, 4] },
        { run: (x: wt.Tensor, w: wt.Tensor) => wt.conv2d(x, w, null, { padding: 1 }),
          ref: (x: wt.Tensor, w: wt.Tensor) => convReference(x, w, null, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }),
          x: [2, 9, 7, 8], w: [10, 9, 3, 3] },
        { run: (x: wt.Tensor, w: wt.Tensor) => wt.conv2d(x, w, null, { stride: 2, padding: 1 }),
          ref: (x: wt.Tensor, w: wt.Tensor) => convReference(x, w, null, { stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 }),
          x: [2, 6, 9, 10], w: [7, 6, 4, 4] },
      ];
      forms.forEach((f, i) => {
        const x = randomTensor(f.x, 1100 + i), w1 = randomTensor(f.w, 1200 + i), w2 = randomTensor(f.w, 1300 + i);
        const check = (w: wt.Tensor, what: string) => {
          const ref = f.ref(x, w);
          expectParity(f.run(x, w), new wt.Tensor(Float32Array.from(ref.y), ref.shape), `form ${i}: ${what}`);
        };
        check(w1, 'first call');
        check(w2, 'another weight of the same shape');
        check(w1, 'the first weight again');
        w1.data[Math.floor(w1.size / 2)] += 0.5;
        w1.data[w1.size - 1] -= 0.25;
        check(w1, 'the first weight changed in place');
        if (i === 0) {  // a channel scale folded into the transform
          const ref = f.ref(x, w1);
          const plane = ref.shape[2] * ref.shape[3];
          for (const s of [randomTensor([10], 1400), randomTensor([10], 1401)]) {
            const want = Float32Array.from(ref.y, (v, j) => s.data[Math.floor(j / plane) % 10] * v);
            expectParity(f.run(x, w1, s), new wt.Tensor(want, ref.shape), 'another scale');
          }
        }
      });
      wt.releaseMemory();
      expect(wt.runtimeStats().workspaceBytes).toBe(0);
    });
  });
}
