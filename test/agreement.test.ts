// wasm and native compute the same numbers on random shapes: odd sizes, 1x1
// inputs, levels 1-5, kernel sizes 1-9, strides 1-3, every wavelet.
// Outputs computed per element (y, grad.x, the bands, the inverse) agree within
// 1e-6 relative L2. Parameter gradients are sums over N*H*W that the kernels
// accumulate in vectors of 16 lanes natively and 4 lanes (one v128) in WASM, so
// their summation orders differ; for sums with heavy cancellation that shows
// at float32 rounding, and they are held to the SPEC section 5 bound (1e-5).
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { parityError, randomTensor, randomWTConvParams } from './helpers.js';

interface Case {
  n: number; c: number; h: number; w: number; k: number; levels: number; stride: [number, number]; wavelet: wt.WaveletName; bias: boolean;
}

function cases(): Case[] {
  let s = 12345;
  const rand = (lo: number, hi: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 8) % (hi - lo + 1));
  };
  const out: Case[] = [
    { n: 1, c: 1, h: 1, w: 1, k: 1, levels: 1, stride: [1, 1], wavelet: 'db1', bias: true },
    { n: 2, c: 3, h: 1, w: 1, k: 3, levels: 5, stride: [2, 2], wavelet: 'db4', bias: false },
    { n: 1, c: 2, h: 1, w: 17, k: 9, levels: 3, stride: [1, 3], wavelet: 'db2', bias: true },
  ];
  const wavelets = ['db1', 'db2', 'db3', 'db4'] as const;
  for (let i = 0; i < 24; i++) {
    out.push({
      n: rand(1, 3), c: rand(1, 5), h: rand(1, 40), w: rand(1, 40), k: rand(1, 9), levels: rand(1, 5),
      stride: [rand(1, 3), rand(1, 3)], wavelet: wavelets[i % 4], bias: i % 3 !== 0,
    });
  }
  return out;
}

type Result = Record<string, wt.Tensor>;

function runAll(): Result[] {
  return cases().map((cs, i) => {
    const x = randomTensor([cs.n, cs.c, cs.h, cs.w], 10 * i);
    const params = randomWTConvParams(cs.c, cs.k, cs.levels, cs.bias, 10 * i + 1);
    const opts = { levels: cs.levels, stride: cs.stride, wavelet: cs.wavelet };
    const y = wt.wtconv2d(x, params, opts);
    const grads = wt.wtconv2dBackward(x, params, randomTensor([...y.shape], 10 * i + 2), opts);
    const bands = wt.dwt2d(x, { levels: cs.levels, wavelet: cs.wavelet });
    const r: Result = { y, ...Object.fromEntries(Object.entries(grads).map(([k, v]) => [`grad.${k}`, v])) };
    bands.forEach((b, l) => (r[`bands.${l}`] = b));
    r.idwt = wt.idwt2d(bands, { shapes: undefined, wavelet: cs.wavelet });
    return r;
  });
}

describe('wasm agrees with native', () => {
  it('on 27 random WTConv2d / DWT configurations', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const native = runAll();
    for (const threads of [2, 1]) {
      await wt.init({ backend: 'wasm', threads });
      const wasm = runAll();
      native.forEach((ref, i) => {
        for (const [k, t] of Object.entries(ref)) {
          expect(wasm[i][k].shape, `case ${i} ${k}`).toEqual(t.shape);
          const e = parityError(wasm[i][k].data, t.data);
          const isParamGrad = k.startsWith('grad.') && k !== 'grad.x';
          expect(e.relL2, `case ${i} ${k} (${JSON.stringify(cases()[i])}), threads ${threads}`).toBeLessThanOrEqual(isParamGrad ? 1e-5 : 1e-6);
        }
      });
    }
  });
});
