// Checks of the CUDA backend, shared by two runners:
//   - test/cuda-emulated.test.ts (vitest, every machine): the CUDA addon's host
//     emulator (build/cuda-emu), same operators and kernels run on the CPU;
//   - bench/gpu/gpu-tests.ts (bundled by bench/gpu/pack.sh, run on a GPU machine
//     by bench/gpu/run.sh): the real addon on the GPU.
// Plain assertions (no vitest here, so the GPU bundle needs nothing but Node).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as wt from '../../ts/index.js';
import { In, Out } from '../../ts/backends/backend.js';
import type { CudaBackend } from '../../ts/backends/cuda.js';
import { current } from '../../ts/runtime.js';
import { parityError, randomTensor, randomWTConvParams } from '../data.js';

export interface Check {
  name: string;
  run: () => Promise<void>;
}

export interface CheckOptions {
  fixturesDir: string;
  /** Larger random shapes (GPU only: the emulator runs blocks one by one). */
  large?: boolean;
}

export type Tier = 'fused' | 'baseline';

class CheckError extends Error {}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new CheckError(message);
}

/** SPEC section 5: relative L2 <= 1e-5 and every element within 1e-4 * max(1, max|ref|); NaN fails. */
export function parity(actual: wt.Tensor, ref: wt.Tensor, what: string, relL2Bound = 1e-5): void {
  assert(JSON.stringify(actual.shape) === JSON.stringify(ref.shape), `${what}: shape [${actual.shape}] != [${ref.shape}]`);
  const e = parityError(actual.data, ref.data);
  assert(e.relL2 <= relL2Bound, `${what}: relative L2 error ${e.relL2.toExponential(3)} > ${relL2Bound}`);
  assert(e.maxAbs <= e.bound, `${what}: max abs error ${e.maxAbs.toExponential(3)} > ${e.bound.toExponential(3)}`);
}

export { randomTensor };

async function useCuda(tier: Tier): Promise<CudaBackend> {
  const info = await wt.init({ backend: 'cuda', threads: 2 });
  assert(info.name === 'cuda', `init({ backend: 'cuda' }) chose ${info.name}`);
  const b = current() as CudaBackend;
  b.setKernels(tier);
  return b;
}

async function useNative(): Promise<void> {
  await wt.init({ backend: 'native', threads: 2 });
}

function loadFixture(dir: string, name: string) {
  const file = wt.loadSafetensors(new Uint8Array(readFileSync(path.join(dir, name))));
  return { t: file.tensors, config: JSON.parse(file.metadata.config) as Record<string, unknown> };
}

interface Case {
  n: number; c: number; h: number; w: number; k: number; levels: number; stride: [number, number]; wavelet: wt.WaveletName; bias: boolean;
}

function randomCases(large: boolean): Case[] {
  let s = 4242;
  const rand = (lo: number, hi: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
  const out: Case[] = [
    { n: 1, c: 1, h: 1, w: 1, k: 1, levels: 1, stride: [1, 1], wavelet: 'db1', bias: true },
    { n: 2, c: 3, h: 1, w: 1, k: 3, levels: 5, stride: [2, 2], wavelet: 'db4', bias: false },
    { n: 1, c: 2, h: 1, w: 17, k: 9, levels: 3, stride: [1, 3], wavelet: 'db2', bias: true },
    { n: 1, c: 2, h: 70, w: 33, k: 5, levels: 2, stride: [1, 1], wavelet: 'db1', bias: true },  // several tiles
    { n: 1, c: 1, h: 9, w: 9, k: 31, levels: 1, stride: [1, 1], wavelet: 'db3', bias: true },  // baseline fallback (shared memory)
  ];
  const wavelets = ['db1', 'db2', 'db3', 'db4'] as const;
  for (let i = 0; i < 20; i++) {
    out.push({
      n: rand(1, 3), c: rand(1, 4), h: rand(1, 40), w: rand(1, 40), k: rand(1, 8), levels: rand(1, 4),
      stride: [rand(1, 3), rand(1, 3)], wavelet: wavelets[i % 4], bias: i % 3 !== 0,
    });
  }
  if (large) {
    out.push(
      { n: 4, c: 32, h: 128, w: 128, k: 5, levels: 3, stride: [1, 1], wavelet: 'db1', bias: true },
      { n: 2, c: 24, h: 111, w: 97, k: 7, levels: 4, stride: [2, 2], wavelet: 'db2', bias: true },
      { n: 8, c: 16, h: 56, w: 56, k: 5, levels: 3, stride: [1, 1], wavelet: 'db4', bias: false },
      { n: 1, c: 8, h: 300, w: 260, k: 3, levels: 5, stride: [1, 1], wavelet: 'db3', bias: true },
    );
  }
  return out;
}

type Results = Record<string, wt.Tensor>;

function runCase(cs: Case, i: number): Results {
  const x = randomTensor([cs.n, cs.c, cs.h, cs.w], 10 * i);
  const params = randomWTConvParams(cs.c, cs.k, cs.levels, cs.bias, 10 * i + 1);
  const opts = { levels: cs.levels, stride: cs.stride, wavelet: cs.wavelet };
  const y = wt.wtconv2d(x, params, opts);
  const grads = wt.wtconv2dBackward(x, params, randomTensor([...y.shape], 10 * i + 2), opts);
  const r: Results = { y, ...Object.fromEntries(Object.entries(grads).map(([k, v]) => [`grad.${k}`, v])) };
  const bands = wt.dwt2d(x, { levels: cs.levels, wavelet: cs.wavelet });
  bands.forEach((b, l) => (r[`bands.${l}`] = b));
  r['dwt.grad.x'] = wt.dwt2dBackward(x, bands, { levels: cs.levels, wavelet: cs.wavelet });
  const shapes: [number, number][] = [[cs.h, cs.w]];
  for (let l = 1; l < cs.levels; l++) shapes.push([bands[l - 1].shape[3], bands[l - 1].shape[4]]);
  r.idwt = wt.idwt2d(bands, { shapes, wavelet: cs.wavelet });
  wt.idwt2dBackward(bands, x, { shapes, wavelet: cs.wavelet }).forEach((g, l) => (r[`idwt.grad.${l}`] = g));
  return r;
}

// Depthwise conv2d kernels through the backend directly (the C ABI argument order).
function depthwiseCases(): { dims: number[]; bias: boolean }[] {
  // n, c, h, w, kh, kw, pad t/l/b/r, stride h/w
  return [
    { dims: [2, 3, 17, 13, 3, 3, 1, 1, 1, 1, 1, 1], bias: true },
    { dims: [1, 4, 20, 9, 5, 4, 2, 1, 2, 2, 2, 3], bias: false },
    { dims: [3, 2, 7, 7, 7, 7, 0, 0, 0, 0, 1, 1], bias: true },
  ];
}

function runDepthwise(dims: number[], bias: boolean, seed: number): Results {
  const [n, c, h, w, kh, kw, pt, pl, pb, pr, sh, sw] = dims;
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1, ow = Math.floor((w + pl + pr - kw) / sw) + 1;
  const x = randomTensor([n, c, h, w], seed), wgt = randomTensor([c, 1, kh, kw], seed + 1);
  const b = bias ? randomTensor([c], seed + 2) : null;
  const y = wt.Tensor.zeros([n, c, oh, ow]);
  current().run('depthwiseConv2dForward', [...dims, new In(x), new In(wgt), b ? new In(b) : null, new Out(y)]);
  const gy = randomTensor([n, c, oh, ow], seed + 3);
  const gx = wt.Tensor.zeros([n, c, h, w]), gw = wt.Tensor.zeros([c, 1, kh, kw]), gb = wt.Tensor.zeros([c]);
  current().run('depthwiseConv2dBackward', [...dims, new In(x), new In(wgt), new In(gy), new Out(gx), new Out(gw), new Out(gb)]);
  return { y, gx, gw, gb };
}

// Random conv1d / conv2d / conv3d configurations: rank, sizes, groups, stride, padding, dilation, bias.
interface ConvCase {
  dims: 1 | 2 | 3; n: number; cin: number; cout: number; groups: number; size: number[]; k: number[];
  stride: number[]; padding: number[]; dilation: number[]; bias: boolean;
}

const convCases: ConvCase[] = (() => {
  let s = 977;
  const rand = (lo: number, hi: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
  const out: ConvCase[] = [
    // depthwise (the depthwise kernels) and a pointwise conv
    { dims: 2, n: 2, cin: 3, cout: 3, groups: 3, size: [9, 11], k: [5, 5], stride: [1, 2], padding: [2, 1], dilation: [1, 1], bias: true },
    { dims: 2, n: 1, cin: 6, cout: 5, groups: 1, size: [4, 7], k: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], bias: false },
  ];
  for (let i = 0; i < 18; i++) {
    const dims = ((i % 3) + 1) as 1 | 2 | 3;
    const groups = rand(1, 3);
    const size = Array.from({ length: dims }, () => rand(dims === 3 ? 3 : 5, dims === 1 ? 40 : dims === 2 ? 14 : 7));
    const dilation = Array.from({ length: dims }, () => rand(1, 2));
    const k = size.map((sz, a) => Math.max(1, Math.min(rand(1, dims === 3 ? 3 : 5), Math.floor((sz - 1) / dilation[a]) + 1)));
    out.push({
      dims, n: rand(1, 2), cin: groups * rand(1, 3), cout: groups * rand(1, 3), groups, size, k,
      stride: Array.from({ length: dims }, () => rand(1, 3)), padding: k.map((kk) => rand(0, Math.floor(kk / 2) + 1)),
      dilation, bias: i % 4 !== 0,
    });
  }
  return out;
})();

// Random conv_transpose2d configurations (output padding below the stride or
// the dilation), with the channel scale and residual of the forward pass.
interface ConvTCase {
  n: number; cin: number; cout: number; groups: number; size: number[]; k: number[]; stride: number[];
  padding: number[]; outputPadding: number[]; dilation: number[]; bias: boolean; affine: boolean;
}

const convTCases: ConvTCase[] = (() => {
  let s = 3301;
  const rand = (lo: number, hi: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
  const out: ConvTCase[] = [
    // WaveMix's upsampling: 4x4, stride 2, padding 1
    { n: 2, cin: 8, cout: 4, groups: 1, size: [5, 6], k: [4, 4], stride: [2, 2], padding: [1, 1], outputPadding: [0, 0], dilation: [1, 1], bias: true, affine: true },
  ];
  for (let i = 0; i < 11; i++) {
    const groups = rand(1, 2);
    const stride = [rand(1, 3), rand(1, 3)], dilation = [rand(1, 2), rand(1, 2)];
    const k = [rand(1, 4), rand(1, 4)];
    out.push({
      n: rand(1, 2), cin: groups * rand(1, 3), cout: groups * rand(1, 3), groups, size: [rand(1, 9), rand(1, 9)], k, stride,
      padding: k.map((kk, a) => rand(0, Math.floor((dilation[a] * (kk - 1)) / 2))),
      outputPadding: stride.map((st, a) => rand(0, Math.max(st, dilation[a]) - 1)), dilation, bias: i % 3 !== 0, affine: i % 2 === 0,
    });
  }
  return out;
})();

function runConvT(cs: ConvTCase, i: number): Results {
  const x = randomTensor([cs.n, cs.cin, ...cs.size], 40 * i);
  const w = randomTensor([cs.cin, cs.cout / cs.groups, ...cs.k], 40 * i + 1);
  const b = cs.bias ? randomTensor([cs.cout], 40 * i + 2) : null;
  const o = { stride: cs.stride, padding: cs.padding, outputPadding: cs.outputPadding, dilation: cs.dilation, groups: cs.groups };
  const y = wt.convTranspose2d(x, w, b, o);
  const r: Results = { y };
  if (cs.affine) {
    const scale = randomTensor([cs.cout], 40 * i + 4), residual = randomTensor([...y.shape], 40 * i + 5);
    r.affine = wt.convTranspose2d(x, w, b, { ...o, scale, residual });
  }
  const g = wt.convTranspose2dBackward(x, w, b, randomTensor([...y.shape], 40 * i + 3), o);
  for (const [k, v] of Object.entries(g)) if (v) r[`grad.${k}`] = v;
  return r;
}

function runConv(cs: ConvCase, i: number): Results {
  const conv = [wt.conv1d, wt.conv2d, wt.conv3d][cs.dims - 1];
  const backward = [wt.conv1dBackward, wt.conv2dBackward, wt.conv3dBackward][cs.dims - 1];
  const x = randomTensor([cs.n, cs.cin, ...cs.size], 30 * i);
  const w = randomTensor([cs.cout, cs.cin / cs.groups, ...cs.k], 30 * i + 1);
  const b = cs.bias ? randomTensor([cs.cout], 30 * i + 2) : null;
  const o = { stride: cs.stride, padding: cs.padding, dilation: cs.dilation, groups: cs.groups };
  const y = conv(x, w, b, o);
  const g = backward(x, w, b, randomTensor([...y.shape], 30 * i + 3), o);
  const r: Results = { y };
  for (const [k, v] of Object.entries(g)) if (v) r[`grad.${k}`] = v;
  return r;
}

// The WaveMix layers through the public ops, forward and backward, from one seed.
function runLayers(seed: number): Results {
  const r: Results = {};
  const x = randomTensor([3, 5, 7, 6], seed), g = randomTensor([3, 5, 7, 6], seed + 1);
  r.add = wt.add(x, g);
  r.gelu = wt.gelu(x);
  r['gelu.grad'] = wt.geluBackward(x, g);
  for (const p of [0, 0.3, 1]) {
    const { y, mask } = wt.dropout(x, { p, seed: seed + 7 });
    r[`dropout.${p}.y`] = y;
    r[`dropout.${p}.mask`] = mask;
    r[`dropout.${p}.grad`] = wt.dropoutBackward(mask, g);
  }
  const w = randomTensor([5], seed + 2), b = randomTensor([5], seed + 3);
  for (const training of [true, false]) {
    const rm = randomTensor([5], seed + 4), rv = wt.tensor(Array.from(randomTensor([5], seed + 5).data, (v) => 0.5 + Math.abs(v)), [5]);
    const { y, saved } = wt.batchNorm2d(x, w, b, rm, rv, { training, momentum: 0.2, eps: 1e-3 });
    r[`bn.${training}.y`] = y;
    r[`bn.${training}.running_mean`] = rm;
    r[`bn.${training}.running_var`] = rv;
    const gb = wt.batchNorm2dBackward(x, w, saved, g);
    for (const [k, v] of Object.entries(gb)) r[`bn.${training}.grad.${k}`] = v;
  }
  const xl = randomTensor([4, 9], seed + 6), wl = randomTensor([3, 9], seed + 7), bl = randomTensor([3], seed + 8);
  r.linear = wt.linear(xl, wl, bl);
  const gl = wt.linearBackward(xl, wl, bl, randomTensor([4, 3], seed + 9));
  for (const [k, v] of Object.entries(gl)) if (v) r[`linear.grad.${k}`] = v;
  r.pool = wt.globalAvgPool2d(x);
  r['pool.grad'] = wt.globalAvgPool2dBackward(randomTensor([3, 5], seed + 10), x.shape);
  const other = randomTensor([3, 2, 7, 6], seed + 11);
  r.concat = wt.concatChannels(x, other);
  const [ga, gb2] = wt.concatChannelsBackward(x, other, randomTensor([3, 7, 7, 6], seed + 12));
  r['concat.grad.a'] = ga;
  r['concat.grad.b'] = gb2;
  return r;
}

/**
 * SPEC section 5, except for a gradient that is exactly zero in exact
 * arithmetic (the bias of a transposed conv feeding a training-mode
 * BatchNorm2d): such tensors are held to the element bound alone.
 */
function parityOrZero(actual: wt.Tensor, ref: wt.Tensor, what: string): void {
  let norm = 0;
  for (const v of ref.data) norm += v * v;
  if (Math.sqrt(norm) > 1e-12) return parity(actual, ref, what);
  for (const v of actual.data) assert(Math.abs(v) <= 1e-4, `${what}: |value| ${v} of an exactly-zero gradient`);
}

function buildWaveMix(config: Record<string, unknown>): wt.WaveMix | wt.WaveMixBlock {
  if (config.op === 'wavemix_block') {
    return new wt.WaveMixBlock({
      level: config.level as number, mult: config.mult as number, ffChannel: config.ff_channel as number,
      finalDim: config.final_dim as number, dropout: 0,
    });
  }
  return new wt.WaveMix({
    numClasses: config.num_classes as number, depth: config.depth as number, mult: (config.mult as number | undefined) ?? 2,
    ffChannel: config.ff_channel as number, finalDim: config.final_dim as number, level: config.level as number,
    patchSize: config.patch_size as number, inChannels: (config.in_channels as number | undefined) ?? 3, dropout: 0,
  });
}

function compare(got: Results, ref: Results, what: string): void {
  for (const [k, t] of Object.entries(ref)) {
    assert(got[k], `${what}: missing ${k}`);
    // Outputs agree per element; parameter gradients are long sums in another order.
    parity(got[k], t, `${what} ${k}`);
  }
}

// A check that runs every case on native, then on the CUDA backend (fused
// kernels), and compares the results.
function agreesWithNative<C>(name: string, cases: C[], run: (c: C, i: number) => Results, what: (c: C, i: number) => string): Check {
  return {
    name,
    run: async () => {
      await useNative();
      const ref = cases.map(run);
      await useCuda('fused');
      cases.forEach((c, i) => compare(run(c, i), ref[i], what(c, i)));
    },
  };
}

export function cudaChecks(opts: CheckOptions): Check[] {
  const checks: Check[] = [];
  const fixtures = readdirSync(opts.fixturesDir).filter((f) => /^(wtconv2d|dwt2d)_.*\.safetensors$/.test(f)).sort();
  assert(fixtures.length > 0, `no wtconv2d_* / dwt2d_* fixtures in ${opts.fixturesDir}`);

  for (const tier of ['fused', 'baseline'] as const) {
    for (const name of fixtures) {
      checks.push({
        name: `fixture ${name} (${tier})`,
        run: async () => {
          await useCuda(tier);
          const { t, config } = loadFixture(opts.fixturesDir, name);
          if (config.op === 'wtconv2d') {
            const params: Record<string, wt.Tensor> = {};
            for (const [k, v] of Object.entries(t)) if (!['x', 'y', 'grad_y'].includes(k) && !k.startsWith('grad.')) params[k] = v;
            const o = { levels: config.levels as number, stride: config.stride as number, wavelet: config.wavelet as wt.WaveletName };
            parity(wt.wtconv2d(t.x, params, o), t.y, 'y');
            const grads = wt.wtconv2dBackward(t.x, params, t.grad_y, o);
            const expected = Object.keys(t).filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
            assert(JSON.stringify(Object.keys(grads).sort()) === JSON.stringify(expected), `gradient keys ${Object.keys(grads)}`);
            for (const k of expected) parity(grads[k], t[`grad.${k}`], `grad.${k}`);
            // The same on device tensors: inputs uploaded once, outputs read back lazily.
            const xd = t.x.to('cuda');
            const pd = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.to('cuda')]));
            const yd = wt.wtconv2d(xd, pd, o);
            assert(yd.device === 'cuda', `a CUDA op on device inputs returned a ${yd.device} tensor`);
            parity(yd, t.y, 'y (device tensors)');
            const gd = wt.wtconv2dBackward(xd, pd, t.grad_y.to('cuda'), o);
            for (const k of expected) parity(gd[k], t[`grad.${k}`], `grad.${k} (device tensors)`);
          } else {
            const levels = config.levels as number;
            const o = { levels, wavelet: config.wavelet as wt.WaveletName };
            const bands = wt.dwt2d(t.x, o);
            bands.forEach((b, l) => parity(b, t[`bands.${l}`], `bands.${l}`));
            const gb = Array.from({ length: levels }, (_, l) => t[`grad_bands.${l}`]);
            parity(wt.dwt2dBackward(t.x, gb, o), t['grad.x'], 'grad.x');
            const shapes: [number, number][] = [[t.x.shape[2], t.x.shape[3]]];
            for (let l = 1; l < levels; l++) shapes.push([t[`bands.${l - 1}`].shape[3], t[`bands.${l - 1}`].shape[4]]);
            const ref = Array.from({ length: levels }, (_, l) => t[`bands.${l}`]);
            const io = { shapes, wavelet: o.wavelet };
            parity(wt.idwt2d(ref, io), t['idwt.y'], 'idwt.y');
            wt.idwt2dBackward(ref, t['idwt.grad_y'], io).forEach((g, l) => parity(g, t[`idwt.grad.bands.${l}`], `idwt.grad.bands.${l}`));
          }
        },
      });
    }
  }

  const cases = randomCases(opts.large ?? false);
  checks.push({
    name: `${cases.length} random WTConv2d / DWT configurations agree with native (fused and baseline)`,
    run: async () => {
      await useNative();
      const ref = cases.map(runCase);
      for (const tier of ['fused', 'baseline'] as const) {
        await useCuda(tier);
        cases.forEach((cs, i) => compare(runCase(cs, i), ref[i], `${tier} case ${i} ${JSON.stringify(cs)}`));
      }
    },
  });

  checks.push(agreesWithNative('depthwise conv2d kernels agree with native (padding, stride, no bias)', depthwiseCases(),
    (c, i) => runDepthwise(c.dims, c.bias, 100 + i), (c) => `depthwise ${c.dims}`));

  const convFixtures = readdirSync(opts.fixturesDir).filter((f) => /^(conv2d_|convt2d_|dcls_conv).*\.safetensors$/.test(f)).sort();
  assert(convFixtures.some((f) => f.startsWith('conv2d_')), `no conv2d_* fixtures in ${opts.fixturesDir}`);
  for (const name of convFixtures) {
    checks.push({
      name: `fixture ${name} (conv kernels)`,
      run: async () => {
        await useCuda('fused');
        const { t, config } = loadFixture(opts.fixturesDir, name);
        const bias = t.bias ?? null;
        const expected = Object.keys(t).filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
        const check = (y: wt.Tensor, grads: Record<string, wt.Tensor | undefined>, what: string) => {
          parity(y, t.y, `y${what}`);
          const got = Object.keys(grads).filter((k) => grads[k] !== undefined).sort();
          assert(JSON.stringify(got) === JSON.stringify(expected), `gradient keys ${got}`);
          for (const k of expected) parity(grads[k]!, t[`grad.${k}`], `grad.${k}${what}`);
        };
        if (config.op === 'conv_transpose2d') {
          const o = {
            stride: config.stride as number[], padding: config.padding as number[], outputPadding: config.output_padding as number[],
            dilation: config.dilation as number[], groups: config.groups as number,
          };
          check(wt.convTranspose2d(t.x, t.weight, bias, o), wt.convTranspose2dBackward(t.x, t.weight, bias, t.grad_y, o), '');
          const xd = t.x.to('cuda'), wd = t.weight.to('cuda'), bd = bias ? bias.to('cuda') : null;
          const yd = wt.convTranspose2d(xd, wd, bd, o);
          assert(yd.device === 'cuda', `convTranspose2d on device inputs returned a ${yd.device} tensor`);
          check(yd, wt.convTranspose2dBackward(xd, wd, bd, t.grad_y.to('cuda'), o), ' (device tensors)');
        } else if (config.op === 'conv2d') {
          const o = { stride: config.stride as number[], padding: config.padding as number[], dilation: config.dilation as number[], groups: config.groups as number };
          check(wt.conv2d(t.x, t.weight, bias, o), wt.conv2dBackward(t.x, t.weight, bias, t.grad_y, o), '');
          const xd = t.x.to('cuda'), wd = t.weight.to('cuda'), bd = bias ? bias.to('cuda') : null;
          const yd = wt.conv2d(xd, wd, bd, o);
          assert(yd.device === 'cuda', `conv2d on device inputs returned a ${yd.device} tensor`);
          check(yd, wt.conv2dBackward(xd, wd, bd, t.grad_y.to('cuda'), o), ' (device tensors)');
        } else {
          const o = {
            dilatedKernelSize: config.dilated_kernel_size as number[], version: config.version as wt.DclsVersion, SIG: t.SIG,
            stride: config.stride as number, padding: config.padding as number[], groups: config.groups as number,
          };
          check(wt.dclsConv(t.x, t.weight, t.P, bias, o), wt.dclsConvBackward(t.x, t.weight, t.P, bias, t.grad_y, o), '');
        }
      },
    });
  }

  checks.push(agreesWithNative(
    `${convCases.length} random conv1d / conv2d / conv3d configurations agree with native (groups, stride, padding, dilation)`,
    convCases, runConv, (cs, i) => `conv case ${i} ${JSON.stringify(cs)}`));
  checks.push(agreesWithNative(
    `${convTCases.length} random convTranspose2d configurations agree with native (output padding, groups, dilation, scale and residual)`,
    convTCases, runConvT, (cs, i) => `convT case ${i} ${JSON.stringify(cs)}`));

  checks.push({
    name: 'WaveMix layers (add, GELU, dropout masks, BatchNorm2d with running statistics, Linear, pooling, concat) agree with native',
    run: async () => {
      await useNative();
      const ref = [runLayers(5), runLayers(50)];
      await useCuda('fused');
      [5, 50].forEach((seed, i) => {
        const got = runLayers(seed);
        for (const k of Object.keys(ref[i]).filter((k) => k.includes('.mask'))) {
          assert(got[k].data.every((v, j) => v === ref[i][k].data[j]), `${k}: the dropout mask differs from native's`);
        }
        compare(got, ref[i], `layers seed ${seed}`);
      });
    },
  });

  const wavemixFixtures = readdirSync(opts.fixturesDir).filter((f) => /^wavemix_.*\.safetensors$/.test(f)).sort();
  assert(wavemixFixtures.length > 0, `no wavemix_* fixtures in ${opts.fixturesDir}`);
  for (const name of wavemixFixtures) {
    checks.push({
      name: `fixture ${name} (eval, predict, training step on device tensors)`,
      run: async () => {
        await useCuda('fused');
        const { t, config } = loadFixture(opts.fixturesDir, name);
        const state: Record<string, wt.Tensor> = {};
        for (const [k, v] of Object.entries(t)) {
          if (k === 'x' || k === 'grad_y' || k.startsWith('grad.') || k.startsWith('eval.') || k.startsWith('train.')) continue;
          state[k] = v.clone();
        }
        const m = buildWaveMix(config);
        m.loadStateDict(state);
        const xd = t.x.to('cuda');
        const ye = m.eval().forward(xd);
        assert(ye.device === 'cuda', `a WaveMix forward on a device input returned a ${ye.device} tensor`);
        parity(ye, t['eval.y'], 'eval.y');
        parity(m.train().predict(xd), t['eval.y'], 'eval.y (predict)');
        parity(m.train().forward(xd), t['train.y'], 'train.y');
        const grads = m.backward(t.grad_y.to('cuda'));
        const expected = Object.keys(t).filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
        assert(JSON.stringify(Object.keys(grads).sort()) === JSON.stringify(expected), `gradient keys ${Object.keys(grads)}`);
        for (const k of expected) parityOrZero(grads[k], t[`grad.${k}`], `grad.${k}`);
        const sd = m.stateDict();
        const updated = Object.keys(t).filter((k) => k.startsWith('train.') && k !== 'train.y');
        assert(updated.length > 0, 'no running statistics in the fixture');
        for (const k of updated) parity(sd[k.slice(6)], t[k], k);
      },
    });
  }

  checks.push({
    name: 'a chain of layers stays on the device and matches the host chain',
    run: async () => {
      const x = randomTensor([2, 8, 30, 26], 7);
      const p1 = randomWTConvParams(8, 5, 2, true, 11), p2 = randomWTConvParams(8, 3, 3, false, 21);
      await useNative();
      const ref = wt.wtconv2d(wt.wtconv2d(x, p1, { levels: 2 }), p2, { levels: 3, wavelet: 'db2' });
      await useCuda('fused');
      const xd = x.to('cuda');
      assert(xd.device === 'cuda' && x.device === 'cpu', 'to() must return a new device tensor and leave the host one');
      const up = (p: Record<string, wt.Tensor>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.to('cuda')]));
      const y1 = wt.wtconv2d(xd, up(p1), { levels: 2 });
      assert(y1.device === 'cuda', 'the first layer output must stay on the device');
      const y2 = wt.wtconv2d(y1, up(p2), { levels: 3, wavelet: 'db2' });
      assert(y2.device === 'cuda', 'the second layer output must stay on the device');
      const host = y2.toHost();
      assert(host.device === 'cpu', 'toHost() must give a host tensor');
      parity(host, ref, 'chain');
      parity(y2, ref, 'chain (lazy read of the device tensor)');
      // Host inputs: host outputs.
      const yh = wt.wtconv2d(x, p1, { levels: 2 });
      assert(yh.device === 'cpu', 'host inputs must give host outputs');
      // Mixed: a device x with host parameters stays on the device.
      const ym = wt.wtconv2d(xd, p1, { levels: 2 });
      assert(ym.device === 'cuda', 'a device input must give a device output');
      parity(ym, yh, 'mixed host/device inputs');
      // dispose(): device memory freed; a tensor read before stays readable on the host,
      // one never read is an E_STATE error (not stale data).
      ym.dispose();
      assert(ym.device === 'cpu', 'a disposed tensor is not on the device');
      parity(ym, yh, 'disposed tensor that was read');
      const yn = wt.wtconv2d(xd, p1, { levels: 2 });
      yn.dispose();
      let code = '';
      try {
        void yn.data;
      } catch (e) {
        code = (e as wt.WTConvError).code;
      }
      assert(code === 'E_STATE', `reading a disposed, never read tensor: expected E_STATE, got '${code}'`);
    },
  });

  checks.push({
    name: "'out' and 'gradOut' tensors on the device are written where they lie, and read back fresh",
    run: async () => {
      const x = randomTensor([2, 4, 18, 14], 31), g1 = randomTensor([2, 4, 18, 14], 32), g2 = randomTensor([2, 4, 18, 14], 33);
      const p = randomWTConvParams(4, 5, 2, true, 34);
      await useNative();
      const yRef = wt.wtconv2d(x, p, { levels: 2 });
      const gRef = wt.wtconv2dBackward(x, p, g2, { levels: 2 });
      await useCuda('fused');
      const up = (q: Record<string, wt.Tensor>) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.to('cuda')]));
      const xd = x.to('cuda'), pd = up(p);
      const out = wt.Tensor.zeros(yRef.shape).to('cuda');
      void out.data;  // the host copy is now valid: the write below must invalidate it
      // (A device tensor not yet read on the host has a getter for its data.)
      const unread = (t: wt.Tensor) => typeof Object.getOwnPropertyDescriptor(t, 'data')?.get === 'function';
      const y = wt.wtconv2d(xd, pd, { levels: 2, out });
      assert(y === out && y.device === 'cuda', "'out' on the device: the same tensor, still on the device");
      assert(unread(xd), "the aliasing checks of 'out' must not read a device input back to the host");
      parity(y, yRef, "'out' on the device");
      const hostOut = wt.Tensor.zeros(yRef.shape).to('cuda');
      wt.wtconv2d(x, p, { levels: 2, out: hostOut });
      assert(hostOut.device === 'cuda', "'out' on the device with host inputs stays on the device");
      parity(hostOut, yRef, "'out' on the device, host inputs");
      const first = wt.wtconv2dBackward(xd, pd, g1.to('cuda'), { levels: 2 });
      for (const t of Object.values(first)) void t.data;
      const g2d = g2.to('cuda');
      const second = wt.wtconv2dBackward(xd, pd, g2d, { levels: 2, gradOut: first });
      assert(unread(xd) && unread(g2d), "the aliasing checks of 'gradOut' must not read a device input back to the host");
      for (const [k, t] of Object.entries(second)) {
        assert(t === first[k] && t.device === 'cuda', `'gradOut'['${k}']: the same tensor, still on the device`);
        parity(t, gRef[k], `'gradOut'['${k}'] on the device`);
      }
    },
  });

  checks.push({
    name: 'DCLS kernel construction (v0 and gauss, 1-D to 3-D, forward and backward) agrees with native, also from device tensors',
    run: async () => {
      const run = (device: boolean) => {
        const r: Results = {};
        const up = (t: wt.Tensor) => (device ? t.to('cuda') : t);
        for (const [dims, size] of [[1, [7]], [2, [5, 6]], [3, [3, 4, 5]]] as const) {
          for (const version of ['v0', 'gauss'] as const) {
            const weight = randomTensor([4, 2, 3], 3 + dims);
            const P = wt.tensor(Array.from({ length: dims * 4 * 2 * 3 }, (_, i) => (((i * 7) % 11) - 5) * 0.43), [dims, 4, 2, 3]);
            const SIG = version === 'gauss' ? wt.tensor(Array.from({ length: dims * 4 * 2 * 3 }, (_, i) => 0.2 + ((i * 5) % 7) * 0.3 - 1), [dims, 4, 2, 3]) : undefined;
            const o = { dilatedKernelSize: [...size], version, ...(SIG ? { SIG: up(SIG) } : {}) };
            const k = wt.dclsConstructKernel(up(weight), up(P), o);
            if (device) assert(k.device === 'cuda', `dclsConstructKernel on device inputs returned a ${k.device} tensor`);
            r[`${dims}.${version}.kernel`] = k;
            const g = wt.dclsConstructKernelBackward(up(weight), up(P), randomTensor([...k.shape], 9 + dims), o);
            for (const [name, v] of Object.entries(g)) if (v) r[`${dims}.${version}.grad.${name}`] = v;
          }
        }
        return r;
      };
      await useNative();
      const ref = run(false);
      await useCuda('fused');
      compare(run(false), ref, 'dcls host tensors');
      compare(run(true), ref, 'dcls device tensors');
    },
  });

  checks.push({
    name: 'core argument errors and failed device allocations are WTConvErrors',
    run: async () => {
      const b = await useCuda('fused');
      const x = randomTensor([1, 1, 4, 4], 1), wgt = randomTensor([1, 1, 3, 3], 2), y = wt.Tensor.zeros([1, 1, 4, 4]);
      let code = '';
      try {
        // kernel 0: rejected by the C checks below the TypeScript layer
        b.run('depthwiseConv2dForward', [1, 1, 4, 4, 0, 3, 1, 1, 1, 1, 1, 1, new In(x), new In(wgt), null, new Out(y)]);
      } catch (e) {
        code = (e as wt.WTConvError).code;
        assert(e instanceof wt.WTConvError && /kernel/.test(e.message), `unexpected error ${String(e)}`);
      }
      assert(code === 'E_ARG', `bad kernel size: expected E_ARG, got '${code}'`);
      code = '';
      try {
        b.raw.alloc(5e11);  // 2 TB
      } catch (e) {
        code = (e as { code?: string }).code ?? '';
      }
      assert(code === 'E_OOM', `2 TB allocation: expected E_OOM, got '${code}'`);
      // The backend still works afterwards.
      const yd = wt.wtconv2d(x, randomWTConvParams(1, 3, 1, true, 5), { levels: 1 });
      assert(Number.isFinite(yd.data[0]), 'the backend must stay usable after an error');
    },
  });
  return checks;
}
