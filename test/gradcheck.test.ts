// Finite-difference checks of every gradient. WTConv2d and the DWT are linear in x
// and at most quadratic in the parameters jointly, so a central difference of
// L = sum(gradY * y), computed in float64, equals the directional derivative up
// to float32 rounding.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, dot, randomTensor, randomWTConvParams, shifted } from './helpers.js';

/** |numeric - analytic| relative to the directional derivative's scale. */
function checkDirection(loss: (s: number) => number, analytic: number, h: number, scale: number): void {
  const numeric = (loss(h) - loss(-h)) / (2 * h);
  expect(Math.abs(numeric - analytic)).toBeLessThanOrEqual(2e-3 * Math.max(1, scale));
}

const CASES = [
  { n: 2, c: 3, h: 9, w: 7, k: 3, levels: 2, stride: 1, wavelet: 'db1', bias: true },
  { n: 1, c: 2, h: 12, w: 10, k: 4, levels: 2, stride: 2, wavelet: 'db2', bias: true },
  { n: 1, c: 2, h: 7, w: 11, k: 5, levels: 3, stride: [2, 3] as [number, number], wavelet: 'db3', bias: false },
  { n: 2, c: 1, h: 5, w: 6, k: 2, levels: 1, stride: 1, wavelet: 'db4', bias: true },
] as const;

for (const b of BACKENDS.slice(0, 2)) {
  describe(`finite differences on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    CASES.forEach((cs, ci) => {
      it(`wtconv2d ${JSON.stringify(cs)}`, () => {
        const x = randomTensor([cs.n, cs.c, cs.h, cs.w], 100 + ci);
        const params = randomWTConvParams(cs.c, cs.k, cs.levels, cs.bias, 200 + ci);
        const opts = { levels: cs.levels, stride: cs.stride as number | [number, number], wavelet: cs.wavelet as wt.WaveletName };
        const y = wt.wtconv2d(x, params, opts);
        const gy = randomTensor([...y.shape], 300 + ci);
        const grads = wt.wtconv2dBackward(x, params, gy, opts);
        const h = 0.05;
        // x
        const dx = randomTensor([...x.shape], 400 + ci);
        const gradScale = Math.sqrt(dot(grads.x.data, grads.x.data) * dx.size / 3);
        checkDirection((s) => dot(gy.data, wt.wtconv2d(shifted(x, dx, s), params, opts).data), dot(grads.x.data, dx.data), h, gradScale);
        // each parameter on its own
        for (const [name, p] of Object.entries(params)) {
          const dp = randomTensor([...p.shape], 500 + ci + name.length);
          const at = (s: number) => dot(gy.data, wt.wtconv2d(x, { ...params, [name]: shifted(p, dp, s) }, opts).data);
          const g = grads[name];
          expect(g.shape).toEqual(p.shape);
          checkDirection(at, dot(g.data, dp.data), h, Math.sqrt(dot(g.data, g.data) * dp.size / 3));
        }
      });
    });

    for (const wavelet of ['db1', 'db2', 'db3', 'db4'] as const) {
      it(`dwt2d / idwt2d ${wavelet}, odd sizes, 3 levels`, () => {
        const x = randomTensor([2, 2, 13, 10], 600);
        const opts = { levels: 3, wavelet };
        const bands = wt.dwt2d(x, opts);
        const gb = bands.map((t, l) => randomTensor([...t.shape], 700 + l));
        const gx = wt.dwt2dBackward(x, gb, opts);
        const loss = (xs: wt.Tensor) => wt.dwt2d(xs, opts).reduce((s, t, l) => s + dot(gb[l].data, t.data), 0);
        const dx = randomTensor([...x.shape], 800);
        checkDirection((s) => loss(shifted(x, dx, s)), dot(gx.data, dx.data), 0.05, Math.sqrt(dot(gx.data, gx.data) * dx.size / 3));

        const shapes: [number, number][] = [[13, 10], [bands[0].shape[3], bands[0].shape[4]], [bands[1].shape[3], bands[1].shape[4]]];
        const gy = randomTensor([2, 2, 13, 10], 900);
        const gbands = wt.idwt2dBackward(bands, gy, { shapes, wavelet });
        const dirs = bands.map((t, l) => randomTensor([...t.shape], 1000 + l));
        const iloss = (s: number) => dot(gy.data, wt.idwt2d(bands.map((t, l) => shifted(t, dirs[l], s)), { shapes, wavelet }).data);
        const analytic = gbands.reduce((s, g, l) => s + dot(g.data, dirs[l].data), 0);
        checkDirection(iloss, analytic, 0.05, Math.sqrt(gbands.reduce((s, g) => s + dot(g.data, g.data) * g.size, 0) / 3));
      });
    }
  });
}
