// Depthwise conv2d with square kernels at stride 1 runs the padded-plane vector
// kernels (forward; backward too with 'same' padding); checked against float64
// loops for large kernels, asymmetric sizes, outputs narrower than a vector, a
// 1x1 plane, and odd heights of wide planes with even and 1x1 kernels.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor } from './helpers.js';

const CASES: [number, number, number, number, number, number][] = [
  // n, c, h, w, k, padding
  [2, 3, 20, 23, 17, 8],
  [1, 4, 9, 5, 5, 0],
  [1, 2, 7, 30, 3, 2],
  [1, 1, 1, 1, 1, 0],
  [1, 2, 12, 40, 31, 15],
  // Odd heights on planes at least 16 wide (pairs of rows, then one), even and 1x1 kernels.
  [1, 3, 12, 37, 4, 1],
  [1, 2, 10, 33, 2, 0],
  [1, 2, 5, 40, 1, 0],
  // Columns after the 16-wide blocks: 3 vectors, and 4 with a partial last one (odd height).
  [1, 2, 8, 28, 5, 2],
  [1, 2, 7, 13, 3, 1],
];

for (const b of BACKENDS) {
  describe(`depthwise conv2d, square kernels at stride 1, on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });
    for (const [n, c, h, w, k, p] of CASES) {
      it(`N${n} C${c} ${h}x${w} k${k} padding ${p}`, () => {
        const x = randomTensor([n, c, h, w], 1);
        const weight = randomTensor([c, 1, k, k], 2);
        const bias = randomTensor([c], 3);
        const y = wt.conv2d(x, weight, bias, { padding: p, groups: c });
        const oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1;
        expect(y.shape).toEqual([n, c, oh, ow]);
        let err = 0, norm = 0;
        for (let i = 0; i < n; i++)
          for (let ch = 0; ch < c; ch++)
            for (let yy = 0; yy < oh; yy++)
              for (let xx = 0; xx < ow; xx++) {
                let s = bias.data[ch];
                for (let a = 0; a < k; a++)
                  for (let bb = 0; bb < k; bb++) {
                    const iy = yy + a - p, ix = xx + bb - p;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) s += weight.data[(ch * k + a) * k + bb] * x.data[((i * c + ch) * h + iy) * w + ix];
                  }
                err += (y.data[((i * c + ch) * oh + yy) * ow + xx] - s) ** 2;
                norm += s * s;
              }
        expect(Math.sqrt(err / norm)).toBeLessThan(1e-6);

        // backward: grad x, weight and bias of sum(gy * y)
        const gy = randomTensor([n, c, oh, ow], 4);
        const g = wt.conv2dBackward(x, weight, bias, gy, { padding: p, groups: c });
        const gx = new Float64Array(x.size), gw = new Float64Array(weight.size), gb = new Float64Array(c);
        for (let i = 0; i < n; i++)
          for (let ch = 0; ch < c; ch++)
            for (let yy = 0; yy < oh; yy++)
              for (let xx = 0; xx < ow; xx++) {
                const v = gy.data[((i * c + ch) * oh + yy) * ow + xx];
                gb[ch] += v;
                for (let a = 0; a < k; a++)
                  for (let bb = 0; bb < k; bb++) {
                    const iy = yy + a - p, ix = xx + bb - p;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    const xi = ((i * c + ch) * h + iy) * w + ix;
                    gx[xi] += v * weight.data[(ch * k + a) * k + bb];
                    gw[(ch * k + a) * k + bb] += v * x.data[xi];
                  }
              }
        const rel = (got: Float32Array, want: Float64Array) => {
          let e = 0, m = 0;
          want.forEach((v, i) => ((e += (got[i] - v) ** 2), (m += v * v)));
          return Math.sqrt(e / Math.max(m, 1e-30));
        };
        expect(rel(g.x.data, gx)).toBeLessThan(1e-6);
        expect(rel(g.weight.data, gw)).toBeLessThan(1e-6);
        expect(rel(g.bias!.data, gb)).toBeLessThan(1e-6);
      });
    }
  });
}
