// wasm and native compute the same convolutions and DCLS kernels on random
// shapes (1-D to 3-D, groups, strides, padding, dilation, transposed, DCLS).
// The GEMM microkernel fuses multiply-add natively (AVX2 / AVX-512 FMA, the one
// file compiled with contraction) and cannot in WASM, and the vector widths
// differ, so results differ in the last bits: every tensor is held to the
// SPEC section 5 bound (relative L2 <= 1e-5, elements within 1e-4 * max(1, max|ref|)).
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { parityError, randomTensor } from './helpers.js';

type Result = Record<string, wt.Tensor>;

function rng(seed: number) {
  let s = seed;
  return (lo: number, hi: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
}

function runAll(): Result[] {
  const rand = rng(777);
  const out: Result[] = [];
  for (let i = 0; i < 24; i++) {
    const dims = 1 + (i % 3);
    const groups = rand(1, 3);
    const cin = groups * rand(1, 4), cout = groups * rand(1, 4);
    const k = Array.from({ length: dims }, () => rand(1, dims === 3 ? 3 : 7));
    const d = Array.from({ length: dims }, () => rand(1, 2));
    const p = Array.from({ length: dims }, () => rand(0, 3));
    const s = Array.from({ length: dims }, () => rand(1, 3));
    const size = k.map((kk, a) => Math.max(1, d[a] * (kk - 1) + 1 - 2 * p[a]) + rand(0, dims === 3 ? 6 : 30));
    const x = randomTensor([rand(1, 3), cin, ...size], 1000 + i);
    const w = randomTensor([cout, cin / groups, ...k], 2000 + i);
    const b = i % 4 ? randomTensor([cout], 3000 + i) : null;
    const opts = { stride: s, padding: p, dilation: d, groups };
    const fwd = [wt.conv1d, wt.conv2d, wt.conv3d][dims - 1];
    const bwd = [wt.conv1dBackward, wt.conv2dBackward, wt.conv3dBackward][dims - 1];
    const y = fwd(x, w, b, opts);
    const g = bwd(x, w, b, randomTensor([...y.shape], 4000 + i), opts);
    const r: Result = { y, 'grad.x': g.x, 'grad.weight': g.weight };
    if (g.bias) r['grad.bias'] = g.bias;
    out.push(r);
  }
  for (let i = 0; i < 8; i++) {
    const groups = rand(1, 2);
    const cin = groups * rand(1, 3), cout = groups * rand(1, 3);
    const s = [rand(1, 3), rand(1, 3)], dl = [rand(1, 2), rand(1, 2)];
    const opts = { stride: s, padding: [rand(0, 1), rand(0, 1)], outputPadding: [rand(0, s[0] - 1), rand(0, s[1] - 1)], dilation: dl, groups };
    const x = randomTensor([rand(1, 2), cin, rand(2, 12), rand(2, 12)], 5000 + i);
    const w = randomTensor([cin, cout / groups, rand(1, 4), rand(1, 4)], 6000 + i);
    const b = randomTensor([cout], 7000 + i);
    const y = wt.convTranspose2d(x, w, b, opts);
    const g = wt.convTranspose2dBackward(x, w, b, randomTensor([...y.shape], 8000 + i), opts);
    out.push({ y, 'grad.x': g.x, 'grad.weight': g.weight, 'grad.bias': g.bias! });
  }
  for (let i = 0; i < 6; i++) {
    const dims = 1 + (i % 3);
    const version = i < 3 ? 'v0' : 'gauss';
    const wshape = [rand(1, 4), rand(1, 3), rand(1, 5)];
    const size = Array.from({ length: dims }, () => rand(3, 9));
    const P = new wt.Tensor(randomTensor([dims, ...wshape], 9000 + i).data.map((v) => 3 * v), [dims, ...wshape]);
    const SIG = version === 'gauss' ? randomTensor([dims, ...wshape], 9100 + i) : undefined;
    const weight = randomTensor(wshape, 9200 + i);
    const opts = { dilatedKernelSize: size, version: version as wt.DclsVersion, SIG };
    const k = wt.dclsConstructKernel(weight, P, opts);
    const g = wt.dclsConstructKernelBackward(weight, P, randomTensor([...k.shape], 9300 + i), opts);
    const r: Result = { y: k, 'grad.weight': g.weight, 'grad.P': g.P };
    if (g.SIG) r['grad.SIG'] = g.SIG;
    out.push(r);
  }
  return out;
}

describe('wasm agrees with native on convolutions and DCLS', () => {
  it('on 38 random configurations', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const native = runAll();
    for (const threads of [2, 1]) {
      await wt.init({ backend: 'wasm', threads });
      const wasm = runAll();
      native.forEach((r, i) => {
        for (const [k, v] of Object.entries(r)) {
          expect(wasm[i][k].shape, `case ${i} ${k}`).toEqual(v.shape);
          const e = parityError(wasm[i][k].data, v.data);
          expect(e.relL2, `case ${i} ${k} (wasm threads ${threads}): relative L2`).toBeLessThanOrEqual(1e-5);
          expect(e.maxAbs, `case ${i} ${k} (wasm threads ${threads}): max abs`).toBeLessThanOrEqual(e.bound);
        }
      });
    }
  });

  it('gives the same bits for 1 and 2 threads natively', async () => {
    await wt.init({ backend: 'native', threads: 1 });
    const one = runAll();
    await wt.init({ backend: 'native', threads: 2 });
    const two = runAll();
    one.forEach((r, i) => {
      for (const [k, v] of Object.entries(r)) expect(Array.from(two[i][k].data), `case ${i} ${k}`).toEqual(Array.from(v.data));
    });
  });
});
