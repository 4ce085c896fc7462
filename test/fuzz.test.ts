// Property-based fuzzing (fast-check) of every public op on every backend:
// random valid arguments (small, odd and extreme-but-valid sizes and options)
// must agree with the plain float64 references of test/reference/ (forward) and
// with their exact adjoints (backward: each op is affine in each input, so
// grad_i = <f(v + δ e_i) - f(v), gy> / δ), and random invalid arguments must
// throw WTConvError; nothing may crash or hang, and each backend still gives the
// same numbers afterwards.
// The seed is printed; replay a run with WTCONV_FUZZ_SEED=<seed> (and fast-check
// prints the seed and shrink path of a failing case). WTCONV_FUZZ_RUNS sets the
// cases per op family and backend (valid and invalid each).
//
// Adding an op family: one entry in FAMILIES (a valid-case arbitrary whose run()
// checks against a reference, and an invalid-call arbitrary).
import fc from 'fast-check';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, randomWTConvParams } from './helpers.js';
import { convReference, convTranspose2dReference, dclsConstructReference, dwt2dReference, idwt2dReference, levelShapes } from './reference/ops.js';
import { wtconv2dReference } from './reference/wtconv2d.js';

const SEED = Number(process.env.WTCONV_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.WTCONV_FUZZ_RUNS ?? 100);

// ---- comparisons -------------------------------------------------------------

/**
 * SPEC section 5 (relative L2 <= 1e-5, every element within 1e-4 * max(1, max|ref|)),
 * with the relative L2 taken against max(|ref|_2, 0.1 sqrt(n)): results whose RMS
 * is below 0.1 (near-cancelling sums such as high-pass bands of 1x1 planes) are held
 * to an RMS error of 1e-6 instead, which float32 rounding can meet.
 */
export function close(actual: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  if (actual.length !== ref.length) throw new Error(`${what}: ${actual.length} elements, reference has ${ref.length}`);
  let err2 = 0, ref2 = 0, maxAbs = 0, maxRef = 0, worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = actual[i] - ref[i];
    err2 += d * d;
    ref2 += ref[i] * ref[i];
    const a = Number.isNaN(d) ? Infinity : Math.abs(d);
    if (a > maxAbs) (maxAbs = a), (worst = i);
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const rel = Math.sqrt(err2 / Math.max(ref2, 0.01 * ref.length, 1e-300));
  const bound = 1e-4 * Math.max(1, maxRef);
  if (!(rel <= 1e-5 && maxAbs <= bound)) {
    throw new Error(`${what}: relative L2 ${rel.toExponential(3)} (<= 1e-5), max abs ${maxAbs.toExponential(3)} (<= ${bound.toExponential(3)}) at ${worst}: got ${actual[worst]}, reference ${ref[worst]}`);
  }
}

/**
 * close(), or for sums whose float32 terms cancel, their conditioning: every
 * value within 1e-5 of the sum of its terms' magnitudes (`scale`), plus 1e-7.
 */
function closeOrConditioned(actual: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number>, what: string): void {
  try {
    close(actual, ref, what);
  } catch (e) {
    if (!Array.from(actual).every((v, i) => Math.abs(v - ref[i]) <= 1e-5 * scale[i] + 1e-7)) throw e;
  }
}

/** A seeded uniform source for probe positions. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Checks gradients against a forward reference f that reads the inputs' data live:
 * f is affine in each input, so sampled elements are exact probes and a random
 * direction d checks the whole vector: <grad, d> = <f(v + d) - f(v), gy>.
 */
function checkGrads(f: () => ArrayLike<number>, gy: Float32Array, inputs: [string, Float32Array, Float32Array][], seed: number): void {
  const rand = rng(seed);
  const y0 = f();
  const along = (y1: ArrayLike<number>) => {
    let s = 0, abs = 0;
    for (let j = 0; j < gy.length; j++) (s += (y1[j] - y0[j]) * gy[j]), (abs += Math.abs((y1[j] - y0[j]) * gy[j]));
    return [s, abs];
  };
  for (const [name, v, grad] of inputs) {
    if (grad.length !== v.length) throw new Error(`grad ${name}: ${grad.length} elements, expected ${v.length}`);
    const idx = v.length <= 8 ? [...v.keys()] : Array.from({ length: 8 }, () => Math.floor(rand() * v.length));
    const want: number[] = [], terms: number[] = [];
    for (const i of idx) {
      const keep = v[i];
      v[i] = keep + 1;
      const delta = v[i] - keep;  // exact: both are float32 values
      const [s, abs] = along(f());
      want.push(s / delta);
      terms.push(abs / Math.abs(delta));
      v[i] = keep;
    }
    const got = idx.map((i) => grad[i]);
    // A gradient that is a long, cancelling float32 sum (a bias summing every output).
    closeOrConditioned(got, want, terms, `grad ${name} (sampled)`);
    const keep = v.slice();
    for (let i = 0; i < v.length; i++) v[i] += 2 * rand() - 1;
    let lhs = 0, lhsAbs = 0;
    for (let i = 0; i < v.length; i++) {
      const t = grad[i] * (v[i] - keep[i]);
      lhs += t;
      lhsAbs += Math.abs(t);
    }
    const [rhs, rhsAbs] = along(f());
    v.set(keep);
    // Relative to the terms, with the sampled check's absolute floor (1e-7): a
    // small float32 gradient summed from cancelling products is off by a few
    // 1e-8 however it is computed.
    if (!(Math.abs(lhs - rhs) <= 1e-5 * Math.max(lhsAbs, rhsAbs) + 1e-7)) {
      throw new Error(`grad ${name}: <grad, d> = ${lhs} but the reference gives ${rhs}`);
    }
  }
}

// ---- op families -------------------------------------------------------------------

interface Family {
  name: string;
  valid: fc.Arbitrary<{ label: string; run: () => void }>;
  invalid: fc.Arbitrary<{ label: string; call: () => unknown }>;
}

const WAVELETS = ['db1', 'db2', 'db3', 'db4', 'haar'] as const;
/** Values no numeric option accepts (null / undefined mean "default" and are left out). */
const badNumber = fc.constantFrom<unknown>(0, -1, 1.5, NaN, Infinity, -3, 2 ** 31, '2', [], {}, true, [1, 2, 3]);
const badTensor = fc.constantFrom<unknown>(null, 7, 'x', [1, 2, 3], new Float32Array(4), { data: new Float32Array(4), shape: [1, 1, 2, 2] });
const pick = <T>(...choices: fc.Arbitrary<T>[]) => fc.oneof(...choices);
const seed = fc.integer({ min: 1, max: 2 ** 30 });

const wtCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }),
  k: fc.integer({ min: 1, max: 7 }), levels: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
  wavelet: fc.constantFrom(...WAVELETS), bias: fc.boolean(), pairStride: fc.boolean(), seed,
});
// Extreme but valid: cascades down to 1x1 planes, kernels larger than the image, strides past it.
const wtExtreme = fc.record({
  n: fc.constant(1), c: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }),
  k: fc.integer({ min: 6, max: 12 }), levels: fc.integer({ min: 4, max: 9 }),
  sh: fc.integer({ min: 1, max: 7 }), sw: fc.integer({ min: 1, max: 7 }),
  wavelet: fc.constantFrom(...WAVELETS), bias: fc.boolean(), pairStride: fc.constant(true), seed,
});
type WtCase = typeof wtCase extends fc.Arbitrary<infer T> ? T : never;

function runWtconv(c: WtCase): void {
  const x = randomTensor([c.n, c.c, c.h, c.w], c.seed);
  const params = randomWTConvParams(c.c, c.k, c.levels, c.bias, c.seed + 1);
  const opts = { levels: c.levels, stride: (c.pairStride ? [c.sh, c.sw] : c.sh) as number | [number, number], wavelet: c.wavelet };
  const stride: [number, number] = c.pairStride ? [c.sh, c.sw] : [c.sh, c.sh];
  const f = () => wtconv2dReference(x, params, { levels: c.levels, stride, wavelet: c.wavelet });
  const y = wt.wtconv2d(x, params, opts);
  expect(y.shape).toEqual([c.n, c.c, Math.ceil(c.h / stride[0]), Math.ceil(c.w / stride[1])]);
  close(y.data, f(), 'y');
  const gy = randomTensor([...y.shape], c.seed + 2);
  const g = wt.wtconv2dBackward(x, params, gy, opts);
  expect(Object.keys(g).sort()).toEqual(['x', ...Object.keys(params)].sort());
  checkGrads(f, gy.data, [['x', x.data, g.x.data], ...Object.keys(params).map((k) => [k, params[k].data, g[k].data] as [string, Float32Array, Float32Array])], c.seed);
}

const wtBase = () => ({ x: randomTensor([1, 2, 6, 5], 1), params: randomWTConvParams(2, 3, 2, true, 2) });
const wtInvalid = pick<{ label: string; call: () => unknown }>(
  badNumber.map((v) => ({ label: `levels ${String(v)}`, call: () => { const b = wtBase(); return wt.wtconv2d(b.x, b.params, { levels: v as number }); } })),
  badNumber.map((v) => ({ label: `stride ${String(v)}`, call: () => { const b = wtBase(); return wt.wtconv2d(b.x, b.params, { levels: 2, stride: v as number }); } })),
  fc.constantFrom<unknown>('db5', 'sym2', '', 'DB1', 1, {}).map((v) => ({ label: `wavelet ${String(v)}`, call: () => { const b = wtBase(); return wt.wtconv2d(b.x, b.params, { levels: 2, wavelet: v as 'db1' }); } })),
  badTensor.map((v) => ({ label: `x ${String(v)}`, call: () => wt.wtconv2d(v as wt.Tensor, wtBase().params, { levels: 2 }) })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 })).filter(([r, c]) => r !== 3 || c !== 2).map(([rank, c]) => ({
    label: `x rank ${rank + 1} / ${c} channels`,
    call: () => wt.wtconv2d(randomTensor(rank === 3 ? [1, c, 6, 5] : Array(rank + 1).fill(c), 3), wtBase().params, { levels: 2 }),
  })),
  fc.tuple(fc.constantFrom('base_conv.weight', 'base_scale.weight', 'base_conv.bias', 'wavelet_convs.1.weight', 'wavelet_scale.0.weight'), pick(badTensor, fc.constant(randomTensor([3, 1, 2, 2], 4)), fc.constant(undefined))).filter(([name, v]) => !(name === 'base_conv.bias' && v == null)).map(([name, v]) => ({  // a null bias means none
    label: `params['${name}'] = ${String(v)}`,
    call: () => { const b = wtBase(); (b.params as Record<string, unknown>)[name] = v; return wt.wtconv2d(b.x, b.params, { levels: 2 }); },
  })),
  fc.constantFrom<unknown>(7, 'opts', [2], true).map((v) => ({ label: `options ${String(v)}`, call: () => { const b = wtBase(); return wt.wtconv2d(b.x, b.params, v as wt.WTConv2dOptions); } })),
  fc.constantFrom<unknown>(null, [], 7, randomTensor([1], 1)).map((v) => ({ label: `params ${String(v)}`, call: () => wt.wtconv2d(wtBase().x, v as wt.WTConv2dParams, { levels: 2 }) })),
  fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 })).filter(([h, w]) => h !== 6 || w !== 5).map(([h, w]) => ({
    label: `gradY ${h}x${w}`,
    call: () => { const b = wtBase(); return wt.wtconv2dBackward(b.x, b.params, randomTensor([1, 2, h, w], 5), { levels: 2 }); },
  })),
);

const dwtCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 19 }), w: fc.integer({ min: 1, max: 19 }),
  levels: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 8 })),
  wavelet: fc.constantFrom(...WAVELETS), seed,
});
type DwtCase = typeof dwtCase extends fc.Arbitrary<infer T> ? T : never;
const bandShape = (c: DwtCase, [h, w]: [number, number]) => [c.n, c.c, 4, Math.ceil(h / 2), Math.ceil(w / 2)];
const concat = (parts: ArrayLike<number>[]) => {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p as ArrayLike<number>, at), (at += p.length);
  return out;
};

function runDwt(c: DwtCase): void {
  const x = randomTensor([c.n, c.c, c.h, c.w], c.seed);
  const shapes = levelShapes(c.h, c.w, c.levels);
  const f = () => concat(dwt2dReference(x, c.levels, c.wavelet));
  const bands = wt.dwt2d(x, { levels: c.levels, wavelet: c.wavelet });
  bands.forEach((b, l) => expect(b.shape).toEqual(bandShape(c, shapes[l])));
  close(concat(bands.map((b) => b.data)), f(), 'bands');
  const gb = shapes.map((s, l) => randomTensor(bandShape(c, s), c.seed + 10 + l));
  const gx = wt.dwt2dBackward(x, gb, { levels: c.levels, wavelet: c.wavelet });
  checkGrads(f, Float32Array.from(concat(gb.map((b) => b.data))), [['x', x.data, gx.data]], c.seed);
}

function runIdwt(c: DwtCase): void {
  const shapes = levelShapes(c.h, c.w, c.levels);
  const bands = shapes.map((s, l) => randomTensor(bandShape(c, s), c.seed + l));
  const opts = { shapes, wavelet: c.wavelet };
  const f = () => idwt2dReference(bands, shapes, c.wavelet);
  const y = wt.idwt2d(bands, opts);
  expect(y.shape).toEqual([c.n, c.c, c.h, c.w]);
  close(y.data, f(), 'y');
  const gy = randomTensor([c.n, c.c, c.h, c.w], c.seed + 50);
  const g = wt.idwt2dBackward(bands, gy, opts);
  checkGrads(f, gy.data, bands.map((b, l) => [`bands[${l}]`, b.data, g[l].data] as [string, Float32Array, Float32Array]), c.seed);
}

const dwtX = () => randomTensor([2, 1, 7, 6], 9);
const dwtInvalid = pick<{ label: string; call: () => unknown }>(
  badNumber.map((v) => ({ label: `dwt levels ${String(v)}`, call: () => wt.dwt2d(dwtX(), { levels: v as number }) })),
  fc.constant({ label: 'dwt levels 31', call: () => wt.dwt2d(dwtX(), { levels: 31 }) }),
  fc.constantFrom<unknown>('db9', 'bior1.3', 0).map((v) => ({ label: `dwt wavelet ${String(v)}`, call: () => wt.dwt2d(dwtX(), { levels: 1, wavelet: v as 'db1' }) })),
  badTensor.map((v) => ({ label: `dwt x ${String(v)}`, call: () => wt.dwt2d(v as wt.Tensor, { levels: 1 }) })),
  fc.integer({ min: 0, max: 4 }).map((k) => ({
    label: `dwt backward with ${k} gradient bands for 2 levels`,
    call: () => wt.dwt2dBackward(dwtX(), wt.dwt2d(dwtX(), { levels: k || 1 }).slice(0, k === 2 ? 1 : k), { levels: 2 }),
  })),
  fc.constantFrom<unknown>([], null, [null], [7], 'bands').map((v) => ({ label: `idwt bands ${JSON.stringify(v)}`, call: () => wt.idwt2d(v as wt.Tensor[]) })),
  fc.constant({ label: 'idwt 31 levels', call: () => wt.idwt2d(Array(31).fill(randomTensor([1, 1, 4, 1, 1], 1))) }),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })).filter(([h, w]) => h !== 4 || w !== 3).map(([h, w]) => ({
    label: `idwt shapes [[7, 6], [${h}, ${w}]]`,
    call: () => wt.idwt2d(wt.dwt2d(dwtX(), { levels: 2 }), { shapes: [[7, 6], [h, w]] }),
  })),
  fc.constantFrom<unknown>([[7, 6]], [[0, 6], [4, 3]], [[7.5, 6], [4, 3]], 'shapes', [[7, 6, 1], [4, 3]]).map((v) => ({
    label: `idwt shapes ${JSON.stringify(v)}`,
    call: () => wt.idwt2d(wt.dwt2d(dwtX(), { levels: 2 }), { shapes: v as [number, number][] }),
  })),
  fc.integer({ min: 1, max: 5 }).filter((b) => b !== 4).map((b) => ({ label: `idwt ${b} bands`, call: () => wt.idwt2d([randomTensor([1, 1, b, 3, 3], 1)]) })),
  fc.constant({ label: 'idwt backward gradY shape', call: () => wt.idwt2dBackward(wt.dwt2d(dwtX(), { levels: 1 }), randomTensor([2, 1, 7, 6], 1)) }),
);

const convCase = fc.record({
  dims: fc.constantFrom(1, 2, 2, 3), n: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }), cinG: fc.integer({ min: 1, max: 3 }), coutG: fc.integer({ min: 1, max: 3 }),
  size: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 3, maxLength: 3 }),
  k: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
  s: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
  p: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
  d: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 }),
  bias: fc.boolean(), seed,
}).map((c) => {
  // Keep the dilated kernel inside the padded input (PyTorch rejects the rest).
  const size = c.size.slice(0, c.dims), k = c.k.slice(0, c.dims), p = c.p.slice(0, c.dims), d = c.d.slice(0, c.dims);
  for (let a = 0; a < c.dims; a++) while (d[a] * (k[a] - 1) + 1 > size[a] + 2 * p[a]) k[a] > 1 ? k[a]-- : d[a]--;
  return { ...c, size, k, p, d, s: c.s.slice(0, c.dims) };
});
type ConvCase = typeof convCase extends fc.Arbitrary<infer T> ? T : never;
// 3x3 stride-1 conv2d over >= 8 channels per group: the Winograd form, forward
// and (>= 8 output channels) the input gradient.
const winogradConvCase: fc.Arbitrary<ConvCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }),
  cinG: fc.integer({ min: 8, max: 10 }), coutG: fc.integer({ min: 1, max: 10 }),
  size: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 2 }),
  p: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 2 }),
  bias: fc.boolean(), seed,
}).map((c) => ({
  ...c, dims: 2, k: [3, 3], s: [1, 1], d: [1, 1],
  p: c.p.map((v, a) => Math.max(v, Math.ceil((3 - c.size[a]) / 2))),  // the kernel inside the padded input
}));
const CONV = { 1: [wt.conv1d, wt.conv1dBackward], 2: [wt.conv2d, wt.conv2dBackward], 3: [wt.conv3d, wt.conv3dBackward] } as const;

function runConv(c: ConvCase): void {
  const cin = c.cinG * c.groups, cout = c.coutG * c.groups;
  const x = randomTensor([c.n, cin, ...c.size], c.seed);
  const w = randomTensor([cout, c.cinG, ...c.k], c.seed + 1);
  const b = c.bias ? randomTensor([cout], c.seed + 2) : null;
  const g = { stride: c.s, padding: c.p, dilation: c.d, groups: c.groups };
  const [fwd, bwd] = CONV[c.dims as 1 | 2 | 3];
  const f = () => convReference(x, w, b, g).y;
  const y = fwd(x, w, b, g);
  expect(y.shape).toEqual(convReference(x, w, b, g).shape);
  close(y.data, f(), 'y');
  const gy = randomTensor([...y.shape], c.seed + 3);
  const gr = bwd(x, w, b, gy, g);
  checkGrads(f, gy.data, [['x', x.data, gr.x.data], ['weight', w.data, gr.weight.data], ...(b ? [['bias', b.data, gr.bias!.data] as [string, Float32Array, Float32Array]] : [])], c.seed);
}

const convT = fc.record({
  n: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }),
  cinG: fc.integer({ min: 1, max: 3 }), coutG: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
  kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
  s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  p: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  op: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  bias: fc.boolean(), fused: fc.boolean(), seed,
}).map((c) => {
  // output_padding < max(stride, dilation); output size >= 1.
  const op = c.op.map((v, a) => Math.min(v, Math.max(c.s[a], c.d[a]) - 1));
  const k = [c.kh, c.kw], size = [c.h, c.w];
  const p = c.p.map((v, a) => Math.min(v, Math.floor(((size[a] - 1) * c.s[a] + c.d[a] * (k[a] - 1) + op[a]) / 2)));
  return { ...c, op, p };
});
type ConvTCase = typeof convT extends fc.Arbitrary<infer T> ? T : never;

function runConvT(c: ConvTCase): void {
  const cin = c.cinG * c.groups;
  const x = randomTensor([c.n, cin, c.h, c.w], c.seed);
  const w = randomTensor([cin, c.coutG, c.kh, c.kw], c.seed + 1);
  const b = c.bias ? randomTensor([c.coutG * c.groups], c.seed + 2) : null;
  const g = { stride: c.s, padding: c.p, dilation: c.d, groups: c.groups, outputPadding: c.op };
  const f = () => convTranspose2dReference(x, w, b, g).y;
  const y = wt.convTranspose2d(x, w, b, g);
  expect(y.shape).toEqual(convTranspose2dReference(x, w, b, g).shape);
  close(y.data, f(), 'y');
  if (c.fused) {  // a per-channel scale and a residual, in the same pass
    const scale = randomTensor([c.coutG * c.groups], c.seed + 4), residual = randomTensor([...y.shape], c.seed + 5);
    const plain = convTranspose2dReference(x, w, null, g).y;
    const plane = y.shape[2] * y.shape[3];
    const want = plain.map((v, i) => {
      const o = Math.floor(i / plane) % (c.coutG * c.groups);
      return scale.data[o] * v + (b ? b.data[o] : 0) + residual.data[i];
    });
    close(wt.convTranspose2d(x, w, b, { ...g, scale, residual }).data, want, 'y scaled, with a residual');
  }
  const gy = randomTensor([...y.shape], c.seed + 3);
  const gr = wt.convTranspose2dBackward(x, w, b, gy, g);
  checkGrads(f, gy.data, [['x', x.data, gr.x.data], ['weight', w.data, gr.weight.data], ...(b ? [['bias', b.data, gr.bias!.data] as [string, Float32Array, Float32Array]] : [])], c.seed);
}

const cx = () => randomTensor([1, 4, 6, 5], 1);
const cw = () => randomTensor([6, 2, 3, 3], 2);
const convInvalid = pick<{ label: string; call: () => unknown }>(
  fc.tuple(fc.constantFrom('stride', 'dilation', 'padding', 'groups'), badNumber).filter(([k, v]) => !(k === 'padding' && v === 0)).map(([k, v]) => ({
    label: `conv2d ${k} ${String(v)}`, call: () => wt.conv2d(cx(), cw(), null, { groups: 2, [k]: v } as wt.Conv2dOptions),
  })),
  fc.integer({ min: 3, max: 8 }).map((g) => ({ label: `conv2d groups ${g}`, call: () => wt.conv2d(cx(), cw(), null, { groups: g }) })),
  fc.constant({ label: "conv2d padding 'same' with stride 2", call: () => wt.conv2d(cx(), cw(), null, { groups: 2, stride: 2, padding: 'same' }) }),
  fc.integer({ min: 6, max: 12 }).map((k) => ({ label: `conv2d kernel ${k} past the input`, call: () => wt.conv2d(cx(), randomTensor([6, 2, k, k], 1), null, { groups: 2 }) })),
  fc.integer({ min: 1, max: 9 }).filter((c) => c !== 6).map((c) => ({ label: `conv2d bias of ${c}`, call: () => wt.conv2d(cx(), cw(), randomTensor([c], 1), { groups: 2 }) })),
  badTensor.map((v) => ({ label: `conv2d weight ${String(v)}`, call: () => wt.conv2d(cx(), v as wt.Tensor, null, { groups: 2 }) })),
  fc.constant({ label: 'conv1d with a 4-D input', call: () => wt.conv1d(cx(), cw(), null, { groups: 2 }) }),
  fc.constant({ label: 'conv3d with a 4-D input', call: () => wt.conv3d(cx(), cw(), null) }),
  fc.constant({ label: 'conv2d backward gradY shape', call: () => wt.conv2dBackward(cx(), cw(), null, randomTensor([1, 6, 4, 4], 1), { groups: 2 }) }),
  fc.integer({ min: 2, max: 5 }).map((op) => ({
    label: `convTranspose2d outputPadding ${op} with stride 2`,
    call: () => wt.convTranspose2d(cx(), randomTensor([4, 3, 3, 3], 1), null, { stride: 2, outputPadding: op }),
  })),
  fc.constant({ label: 'convTranspose2d weight channels', call: () => wt.convTranspose2d(cx(), randomTensor([3, 3, 3, 3], 1), null) }),
);

const dclsCase = fc.record({
  dims: fc.integer({ min: 1, max: 3 }), out: fc.integer({ min: 1, max: 3 }), inG: fc.integer({ min: 1, max: 2 }),
  count: fc.integer({ min: 1, max: 4 }), size: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 3, maxLength: 3 }),
  version: fc.constantFrom('v0', 'gauss') as fc.Arbitrary<'v0' | 'gauss'>, seed,
});
type DclsCase = typeof dclsCase extends fc.Arbitrary<infer T> ? T : never;

function runDcls(c: DclsCase): void {
  const size = c.size.slice(0, c.dims).map((v) => (c.dims === 3 ? Math.min(v, 5) : v));
  const shape: [number, number, number] = [c.out, c.inG, c.count];
  const units = c.out * c.inG * c.count;
  const w = randomTensor(shape, c.seed);
  // Positions across the kernel and a little past its edges; widths away from 0.
  const u = randomTensor([c.dims, ...shape], c.seed + 1).data;
  const P = new wt.Tensor(u.map((v, i) => v * (Math.floor(size[Math.floor(i / units)] / 2) + 0.7)), [c.dims, ...shape]);
  const SIG = new wt.Tensor(randomTensor([c.dims, ...shape], c.seed + 2).data.map((v) => 0.55 + 0.45 * v), [c.dims, ...shape]);
  const opts = { dilatedKernelSize: size, version: c.version, ...(c.version === 'gauss' ? { SIG } : {}) };
  const ref = (pp: ArrayLike<number> = P.data, ss: ArrayLike<number> = SIG.data) => dclsConstructReference(w.data, pp, shape, size, c.version, ss);
  const K = wt.dclsConstructKernel(w, P, opts);
  expect(K.shape).toEqual([c.out, c.inG, ...size]);
  close(K.data, ref(), 'kernel');
  const gK = randomTensor([...K.shape], c.seed + 3);
  const g = wt.dclsConstructKernelBackward(w, P, gK, opts);
  checkGrads(() => ref(), gK.data, [['weight', w.data, g.weight.data]], c.seed);
  // Positions and widths: central differences of <K, gK> in float64, away from v0's kinks at integers.
  const loss = (k: Float64Array) => k.reduce((s, v, i) => s + v * gK.data[i], 0);
  const rand = rng(c.seed);
  for (const [name, values, grad] of [['P', P.data, g.P.data], ...(c.version === 'gauss' ? [['SIG', SIG.data, g.SIG!.data]] : [])] as [string, Float32Array, Float32Array][]) {
    const want: number[] = [], got: number[] = [];
    for (let j = 0; j < 8; j++) {
      const i = Math.floor(rand() * values.length);
      const d = Math.floor(i / units);
      const pos = P.data[i] + Math.floor(size[d] / 2);
      if (name === 'P' && c.version === 'v0' && Math.abs(pos - Math.round(pos)) < 1e-4) continue;
      const h = 1e-6;
      const plus = Float64Array.from(values), minus = Float64Array.from(values);
      plus[i] += h;
      minus[i] -= h;
      want.push((name === 'P' ? loss(ref(plus)) - loss(ref(minus)) : loss(ref(P.data, plus)) - loss(ref(P.data, minus))) / (2 * h));
      got.push(grad[i]);
    }
    close(got, want, `grad ${name} (sampled, central differences)`);
  }
}

// dclsConv: the construction reference feeding the convolution reference.
const dclsConvCase = fc.record({
  dims: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 2 }), out: fc.integer({ min: 1, max: 3 }),
  cin: fc.integer({ min: 1, max: 2 }), count: fc.integer({ min: 1, max: 3 }),
  size: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 3 }),
  extra: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
  pad: fc.boolean(), bias: fc.boolean(), version: fc.constantFrom('v0', 'gauss') as fc.Arbitrary<'v0' | 'gauss'>, seed,
});
type DclsConvCase = typeof dclsConvCase extends fc.Arbitrary<infer T> ? T : never;

function runDclsConv(c: DclsConvCase): void {
  const size = c.size.slice(0, c.dims).map((v) => (c.dims === 3 ? Math.min(v, 3) : v));
  const spatial = size.map((k, d) => k + c.extra[d]);
  const shape: [number, number, number] = [c.out, c.cin, c.count];
  const units = c.out * c.cin * c.count;
  const x = randomTensor([c.n, c.cin, ...spatial], c.seed);
  const w = randomTensor(shape, c.seed + 1);
  const u = randomTensor([c.dims, ...shape], c.seed + 2).data;
  const P = new wt.Tensor(u.map((v, i) => v * (Math.floor(size[Math.floor(i / units)] / 2) + 0.5)), [c.dims, ...shape]);
  const SIG = new wt.Tensor(randomTensor([c.dims, ...shape], c.seed + 3).data.map((v) => 0.55 + 0.45 * v), [c.dims, ...shape]);
  const b = c.bias ? randomTensor([c.out], c.seed + 4) : null;
  const padding = size.map((k) => (c.pad ? Math.floor(k / 2) : 0));
  const opts = { dilatedKernelSize: size, padding, version: c.version, ...(c.version === 'gauss' ? { SIG } : {}) };
  const g = { stride: size.map(() => 1), padding, dilation: size.map(() => 1), groups: 1 };
  const f = () => {
    const K = dclsConstructReference(w.data, P.data, shape, size, c.version, SIG.data);
    return convReference(x, new wt.Tensor(Float32Array.from(K), [c.out, c.cin, ...size]), b, g).y;
  };
  const y = wt.dclsConv(x, w, P, b, opts);
  close(y.data, f(), 'y');
  const gy = randomTensor([...y.shape], c.seed + 5);
  const gr = wt.dclsConvBackward(x, w, P, b, gy, opts);
  checkGrads(f, gy.data, [['x', x.data, gr.x.data], ['weight', w.data, gr.weight.data], ...(b ? [['bias', b.data, gr.bias!.data] as [string, Float32Array, Float32Array]] : [])], c.seed);
}

const dw = () => randomTensor([2, 1, 3], 1);
const dP = () => randomTensor([2, 2, 1, 3], 2);
const dclsInvalid = pick<{ label: string; call: () => unknown }>(
  fc.constantFrom<unknown>('v1', 'Gauss', 0, {}).map((v) => ({ label: `version ${String(v)}`, call: () => wt.dclsConstructKernel(dw(), dP(), { dilatedKernelSize: 5, version: v as 'v0' }) })),
  badNumber.map((v) => ({ label: `dilatedKernelSize ${String(v)}`, call: () => wt.dclsConstructKernel(dw(), dP(), { dilatedKernelSize: v as number }) })),
  fc.constant({ label: 'gauss without SIG', call: () => wt.dclsConstructKernel(dw(), dP(), { dilatedKernelSize: 5, version: 'gauss' }) }),
  fc.constant({ label: 'SIG of another shape', call: () => wt.dclsConstructKernel(dw(), dP(), { dilatedKernelSize: 5, version: 'gauss', SIG: randomTensor([2, 2, 1, 2], 3) }) }),
  fc.integer({ min: 1, max: 5 }).filter((d) => d !== 2).map((d) => ({ label: `P with ${d} rows for 2-D sizes`, call: () => wt.dclsConstructKernel(dw(), randomTensor([d, 2, 1, 3], 2), { dilatedKernelSize: [5, 5] }) })),
  badTensor.map((v) => ({ label: `weight ${String(v)}`, call: () => wt.dclsConstructKernel(v as wt.Tensor, dP(), { dilatedKernelSize: 5 }) })),
  fc.constant({ label: 'dclsConv channels', call: () => wt.dclsConv(randomTensor([1, 3, 8, 8], 1), dw(), dP(), null, { dilatedKernelSize: 5, padding: 2 }) }),
  fc.constant({ label: 'dclsConv kernel past the input', call: () => wt.dclsConv(randomTensor([1, 1, 3, 3], 1), dw(), dP(), null, { dilatedKernelSize: 7 }) }),
);

// ---- WaveMix layers: add, GELU, BatchNorm2d, Linear, pooling, concatenation, dropout --------

/** erf to ~1e-15 (series below 3, continued fraction above): the float64 GELU reference. */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a, sum = a;
    for (let k = 1; k < 80 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (-a * a) / k;
      sum += term / (2 * k + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  }
  return x < 0 ? -r : r;
}
const cdf = (v: number) => 0.5 * (1 + erf(v / Math.SQRT2));
const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);

const layerCase = fc.record({
  layer: fc.constantFrom('add', 'gelu', 'batchNorm2d train', 'batchNorm2d eval', 'linear', 'globalAvgPool2d', 'concatChannels', 'dropout', 'crossEntropy'),
  n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 5 }), c2: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 21 }),
  p: fc.constantFrom(0, 0.1, 0.5, 0.9, 1), scale: fc.constantFrom(1, 4, 1e-3), seed,
});
type LayerCase = typeof layerCase extends fc.Arbitrary<infer T> ? T : never;

function runLayer(c: LayerCase): void {
  const { n, c: ch, h, w, seed: s } = c;
  const plane = h * w;
  const x = randomTensor([n, ch, h, w], s);
  x.data.forEach((v, i) => (x.data[i] = v * c.scale * 3));
  const gy = (shape: number[]) => randomTensor(shape, s + 9);
  switch (c.layer) {
    case 'add': {
      const b = randomTensor([n, ch, h, w], s + 1);
      close(wt.add(x, b).data, Array.from(x.data, (v, i) => v + b.data[i]), 'add');
      return;
    }
    case 'gelu': {
      close(wt.gelu(x).data, Array.from(x.data, (v) => v * cdf(v)), 'gelu y');
      const g = gy(x.shape.slice());
      close(wt.geluBackward(x, g).data, Array.from(x.data, (v, i) => g.data[i] * (cdf(v) + v * pdf(v))), 'gelu grad x');
      return;
    }
    case 'batchNorm2d train':
    case 'batchNorm2d eval': {
      const training = c.layer === 'batchNorm2d train';
      const weight = randomTensor([ch], s + 2), bias = randomTensor([ch], s + 3);
      const rm = randomTensor([ch], s + 4), rv = new wt.Tensor(Float32Array.from(randomTensor([ch], s + 5).data, (v) => 0.5 + Math.abs(v)), [ch]);
      const rm0 = Float64Array.from(rm.data), rv0 = Float64Array.from(rv.data);
      const m = n * plane, eps = 1e-5, momentum = 0.1;
      const at = (b: number, k: number, i: number) => (b * ch + k) * plane + i;
      const y = new Float64Array(x.size), gx = new Float64Array(x.size), gw: number[] = [], gb: number[] = [];
      const gwScale: number[] = [], gbScale: number[] = [];  // the sums of |terms| of grad weight and bias
      const gxScale = new Float64Array(x.size);  // the sum of |terms| of each grad x value
      const g = gy(x.shape.slice());
      const mean: number[] = [], invstd: number[] = [];
      for (let k = 0; k < ch; k++) {
        let mu = rm0[k], v = rv0[k];
        if (training) {
          mu = 0;
          for (let b = 0; b < n; b++) for (let i = 0; i < plane; i++) mu += x.data[at(b, k, i)];
          mu /= m;
          v = 0;
          for (let b = 0; b < n; b++) for (let i = 0; i < plane; i++) v += (x.data[at(b, k, i)] - mu) ** 2;
          v /= m;
        }
        const is = 1 / Math.sqrt(v + eps);
        mean.push(mu);
        invstd.push(is);
        let sg = 0, sgx = 0, sgAbs = 0, sgxAbs = 0;
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < plane; i++) {
            const xh = (x.data[at(b, k, i)] - mu) * is;
            y[at(b, k, i)] = weight.data[k] * xh + bias.data[k];
            sg += g.data[at(b, k, i)];
            sgx += g.data[at(b, k, i)] * xh;
            sgAbs += Math.abs(g.data[at(b, k, i)]);
            sgxAbs += Math.abs(g.data[at(b, k, i)] * xh);
          }
        }
        gw.push(sgx);
        gb.push(sg);
        gwScale.push(sgxAbs);
        gbScale.push(sgAbs);
        for (let b = 0; b < n; b++) {
          for (let i = 0; i < plane; i++) {
            const xh = (x.data[at(b, k, i)] - mu) * is;
            const gi = g.data[at(b, k, i)];
            gx[at(b, k, i)] = training ? (weight.data[k] * is / m) * (m * gi - sg - xh * sgx) : weight.data[k] * is * gi;
            gxScale[at(b, k, i)] = Math.abs(weight.data[k] * is / m) * (m * Math.abs(gi) + sgAbs + Math.abs(xh) * sgxAbs);
          }
        }
        if (training) {
          rm0[k] = (1 - momentum) * rm0[k] + momentum * mu;
          rv0[k] = (1 - momentum) * rv0[k] + momentum * (m > 1 ? (v * m) / (m - 1) : v);
        }
      }
      if (training && m < 2) return;  // PyTorch refuses a single value per channel in training
      const r = wt.batchNorm2d(x, weight, bias, rm, rv, { training, momentum, eps });
      close(r.y.data, y, 'batchNorm2d y');
      close(rm.data, rm0, 'running mean');
      close(rv.data, rv0, 'running var');
      const grads = wt.batchNorm2dBackward(x, weight, r.saved, g);
      // In training, few values per channel make grad x a cancelling sum of large
      // terms (1 / std is large when the values are close); grad weight and bias
      // are sums over a channel's values.
      if (training) closeOrConditioned(grads.x.data, gx, gxScale, 'batchNorm2d grad x');
      else close(grads.x.data, gx, 'batchNorm2d grad x');
      closeOrConditioned(grads.weight.data, gw, gwScale, 'batchNorm2d grad weight');
      closeOrConditioned(grads.bias.data, gb, gbScale, 'batchNorm2d grad bias');
      return;
    }
    case 'linear': {
      const inF = ch * h, outF = c.c2 + w % 3;
      const xl = new wt.Tensor(x.data.slice(0, n * inF), [n, inF]);
      const weight = randomTensor([outF, inF], s + 2), bias = w % 2 ? randomTensor([outF], s + 3) : null;
      const f = () => {
        const out = new Float64Array(n * outF);
        for (let b = 0; b < n; b++) {
          for (let o = 0; o < outF; o++) {
            let acc = bias ? bias.data[o] : 0;
            for (let i = 0; i < inF; i++) acc += xl.data[b * inF + i] * weight.data[o * inF + i];
            out[b * outF + o] = acc;
          }
        }
        return out;
      };
      close(wt.linear(xl, weight, bias).data, f(), 'linear y');
      const g = gy([n, outF]);
      const gr = wt.linearBackward(xl, weight, bias, g);
      checkGrads(f, g.data, [['x', xl.data, gr.x.data], ['weight', weight.data, gr.weight.data], ...(bias ? [['bias', bias.data, gr.bias!.data] as [string, Float32Array, Float32Array]] : [])], s);
      return;
    }
    case 'globalAvgPool2d': {
      const f = () => Array.from({ length: n * ch }, (_, r) => {
        let acc = 0;
        for (let i = 0; i < plane; i++) acc += x.data[r * plane + i];
        return acc / plane;
      });
      close(wt.globalAvgPool2d(x).data, f(), 'pool y');
      const g = gy([n, ch]);
      checkGrads(f, g.data, [['x', x.data, wt.globalAvgPool2dBackward(g, x.shape).data]], s);
      return;
    }
    case 'concatChannels': {
      const b = randomTensor([n, c.c2, h, w], s + 1);
      const y = wt.concatChannels(x, b);
      expect(y.shape).toEqual([n, ch + c.c2, h, w]);
      const want: number[] = [];
      for (let i = 0; i < n; i++) want.push(...x.data.subarray(i * ch * plane, (i + 1) * ch * plane), ...b.data.subarray(i * c.c2 * plane, (i + 1) * c.c2 * plane));
      close(y.data, want, 'concat y');
      const [ga, gb2] = wt.concatChannelsBackward(x, b, y);
      close(ga.data, x.data, 'concat grad a');
      close(gb2.data, b.data, 'concat grad b');
      return;
    }
    case 'crossEntropy': {
      const k = ch + c.c2, logits = randomTensor([n, k], s + 6);
      logits.data.forEach((v, i) => (logits.data[i] = v * 10 * c.scale));
      const labels = Array.from({ length: n }, (_, i) => (s + 7 * i) % k);
      const grad = new Float64Array(n * k);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(logits.data.subarray(i * k, (i + 1) * k));
        const max = Math.max(...row);
        const logSum = max + Math.log(row.reduce((acc, v) => acc + Math.exp(v - max), 0));
        loss += (logSum - row[labels[i]]) / n;
        row.forEach((v, j) => (grad[i * k + j] = (Math.exp(v - logSum) - (j === labels[i] ? 1 : 0)) / n));
      }
      const r = wt.crossEntropy(logits, labels);
      close([r.loss], [loss], 'cross-entropy loss');
      close(r.grad.data, grad, 'cross-entropy grad');
      return;
    }
    case 'dropout': {
      const { y, mask } = wt.dropout(x, { p: c.p, seed: s });
      const keep = c.p < 1 ? 1 / (1 - c.p) : 0;
      mask.data.forEach((m, i) => {
        if (m !== 0 && Math.abs(m - keep) > 1e-6 * keep) throw new Error(`dropout mask[${i}] = ${m}, expected 0 or ${keep}`);
        if (c.p === 0 && m === 0) throw new Error(`dropout p = 0 dropped value ${i}`);
      });
      close(y.data, Array.from(x.data, (v, i) => v * mask.data[i]), 'dropout y');
      close(wt.dropout(x, { p: c.p, seed: s }).mask.data, mask.data, 'dropout mask for the same seed');
      const g = gy(x.shape.slice());
      close(wt.dropoutBackward(mask, g).data, Array.from(g.data, (v, i) => v * mask.data[i]), 'dropout grad x');
      return;
    }
  }
}

const lx = () => randomTensor([2, 3, 4, 4], 1);
const layersInvalid = pick<{ label: string; call: () => unknown }>(
  badTensor.map((v) => ({ label: `gelu x ${String(v)}`, call: () => wt.gelu(v as wt.Tensor) })),
  badTensor.map((v) => ({ label: `add b ${String(v)}`, call: () => wt.add(lx(), v as wt.Tensor) })),
  fc.integer({ min: 1, max: 5 }).filter((k) => k !== 3).map((k) => ({ label: `add shapes 3 vs ${k}`, call: () => wt.add(lx(), randomTensor([2, k, 4, 4], 2)) })),
  fc.constantFrom<unknown>(-0.1, 1.5, NaN, '0.5').map((p) => ({ label: `dropout p ${String(p)}`, call: () => wt.dropout(lx(), { p: p as number, seed: 1 }) })),
  fc.constantFrom<unknown>(-1, 1.5, 2 ** 32, '3').map((v) => ({ label: `dropout seed ${String(v)}`, call: () => wt.dropout(lx(), { p: 0.5, seed: v as number }) })),
  fc.integer({ min: 1, max: 6 }).filter((k) => k !== 3).map((k) => ({
    label: `batchNorm2d ${k} statistics for 3 channels`, call: () => wt.batchNorm2d(lx(), null, null, randomTensor([k], 1), randomTensor([k], 2), { training: false }),
  })),
  fc.constantFrom<unknown>(undefined, 1, 'yes', null).map((v) => ({
    label: `batchNorm2d training ${String(v)}`, call: () => wt.batchNorm2d(lx(), null, null, randomTensor([3], 1), randomTensor([3], 2), { training: v as boolean }),
  })),
  fc.constantFrom<unknown>(-1, 5, 1.5, NaN, '1').map((v) => ({ label: `crossEntropy label ${String(v)} of 5 classes`, call: () => wt.crossEntropy(randomTensor([2, 5], 1), [0, v as number]) })),
  fc.integer({ min: 0, max: 4 }).filter((k) => k !== 2).map((k) => ({ label: `crossEntropy ${k} labels for 2 rows`, call: () => wt.crossEntropy(randomTensor([2, 5], 1), Array(k).fill(0)) })),
  fc.constant({ label: 'crossEntropy on 4-D logits', call: () => wt.crossEntropy(lx(), [0, 0]) }),
  fc.integer({ min: 1, max: 9 }).filter((k) => k !== 4).map((k) => ({ label: `linear in features ${k} for 4`, call: () => wt.linear(randomTensor([2, 4], 1), randomTensor([3, k], 2), null) })),
  fc.integer({ min: 1, max: 5 }).filter((r) => r !== 4).map((r) => ({ label: `globalAvgPool2d rank ${r}`, call: () => wt.globalAvgPool2d(randomTensor(Array(r).fill(2), 1)) })),
  fc.integer({ min: 1, max: 5 }).filter((k) => k !== 4).map((k) => ({ label: `concatChannels sizes 4 vs ${k}`, call: () => wt.concatChannels(lx(), randomTensor([2, 1, k, 4], 2)) })),
  fc.record({ level: fc.integer({ min: -1, max: 6 }), finalDim: fc.constantFrom(3, 6, 16, 0) }).filter((o) => !(o.level >= 1 && o.level <= 4 && o.finalDim % 4 === 0 && o.finalDim > 0)).map((o) => ({
    label: `WaveMixBlock ${JSON.stringify(o)}`, call: () => new wt.WaveMixBlock({ ...o, seed: 1 }),
  })),
  fc.integer({ min: 1, max: 15 }).filter((s2) => s2 % 4 !== 0).map((side) => ({
    label: `WaveMixBlock level 2 on ${side}x${side}`, call: () => new wt.WaveMixBlock({ level: 2, finalDim: 8, seed: 1 }).forward(randomTensor([1, 8, side, side], 1)),
  })),
);

const FAMILIES: Family[] = [
  { name: 'wtconv2d + backward', valid: fc.oneof({ arbitrary: wtCase, weight: 4 }, { arbitrary: wtExtreme, weight: 1 }).map((c) => ({ label: JSON.stringify(c), run: () => runWtconv(c) })), invalid: wtInvalid },
  { name: 'dwt2d + backward', valid: dwtCase.map((c) => ({ label: JSON.stringify(c), run: () => runDwt(c) })), invalid: dwtInvalid },
  { name: 'idwt2d + backward', valid: dwtCase.map((c) => ({ label: JSON.stringify(c), run: () => runIdwt(c) })), invalid: dwtInvalid },
  { name: 'conv1d/2d/3d + backward', valid: fc.oneof({ arbitrary: convCase, weight: 3 }, { arbitrary: winogradConvCase, weight: 1 }).map((c) => ({ label: JSON.stringify(c), run: () => runConv(c) })), invalid: convInvalid },
  { name: 'dclsConstructKernel + backward', valid: dclsCase.map((c) => ({ label: JSON.stringify(c), run: () => runDcls(c) })), invalid: dclsInvalid },
  { name: 'convTranspose2d + backward', valid: convT.map((c) => ({ label: JSON.stringify(c), run: () => runConvT(c) })), invalid: convInvalid },
  { name: 'dclsConv + backward', valid: dclsConvCase.map((c) => ({ label: JSON.stringify(c), run: () => runDclsConv(c) })), invalid: dclsInvalid },
  { name: 'WaveMix layers + backward', valid: layerCase.map((c) => ({ label: JSON.stringify(c), run: () => runLayer(c) })), invalid: layersInvalid },
];

// ---- runs ------------------------------------------------------------------------------

let cases = 0;
afterAll(() => {
  console.log(`fuzz: seed ${SEED} (replay: WTCONV_FUZZ_SEED=${SEED}), ${cases} cases (${RUNS} valid + ${RUNS} invalid per op family and backend)`);
});

// The CPU backends, and the CUDA backend's kernels run by its host emulator
// (test/cuda-emulated.test.ts): the same properties hold for the CUDA operators.
process.env.WTCONV_CUDA_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'build', 'cuda-emu', 'Release', 'wtconv_cuda_emu.node');
const FUZZED = [...BACKENDS, { label: 'cuda (host emulator)', options: { backend: 'cuda', threads: 2 } as wt.InitOptions }];

for (const b of FUZZED) {
  describe(`fuzz on ${b.label}`, () => {
    let before: wt.Tensor;
    const probe = () => wt.wtconv2d(randomTensor([1, 3, 9, 7], 1), randomWTConvParams(3, 3, 2, true, 2), { levels: 2, wavelet: 'db2' });
    beforeAll(async () => {
      await wt.init(b.options);
      before = probe();
    });

    FAMILIES.forEach((family, i) => {
      it(`${family.name}: ${RUNS} random valid calls agree with the float64 reference`, () => {
        fc.assert(fc.property(family.valid, (c) => {
          cases++;
          c.run();
        }), { numRuns: RUNS, seed: SEED + i, endOnFailure: false });
      });

      it(`${family.name}: ${RUNS} random invalid calls throw WTConvError`, () => {
        fc.assert(fc.property(family.invalid, (c) => {
          cases++;
          let error: unknown = null;
          try {
            c.call();
          } catch (e) {
            error = e;
          }
          if (!(error instanceof wt.WTConvError)) throw new Error(`${c.label}: expected a WTConvError, got ${error === null ? 'a result' : String(error)}`);
          if (error.code === 'E_INTERNAL' || error.message.length < 10) throw new Error(`${c.label}: ${error.code} '${error.message}'`);
        }), { numRuns: RUNS, seed: SEED + 100 + i });
      });
    });

    it('gives the same numbers after all of it', () => {
      expect(probe().data).toEqual(before.data);
    });
  });
}
