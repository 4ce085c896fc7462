// The fast WTConv2d path (vector kernels on padded planes, Haar fast path,
// register blocks of rows) against a plain float64 reference written from the
// specification, on the shapes where such kernels break: planes narrower than a
// vector or than the kernel, odd sizes at every level, row counts that do not
// fill a register block, kernel sizes without a specialised kernel, strides.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, randomWTConvParams } from './helpers.js';
import { wtconv2dReference } from './reference/wtconv2d.js';

const CASES = [
  { n: 1, c: 2, h: 3, w: 2, k: 11, levels: 2, stride: [1, 1], wavelet: 'db1' },   // plane smaller than the kernel
  { n: 1, c: 1, h: 1, w: 37, k: 5, levels: 4, stride: [1, 1], wavelet: 'db1' },   // one row, odd width at every level
  { n: 2, c: 2, h: 23, w: 17, k: 13, levels: 3, stride: [1, 1], wavelet: 'db1' }, // generic kernel size, odd at every level
  { n: 1, c: 3, h: 33, w: 65, k: 6, levels: 2, stride: [2, 3], wavelet: 'db1' },  // a vector plus one column; stride
  { n: 1, c: 2, h: 18, w: 31, k: 8, levels: 2, stride: [1, 1], wavelet: 'db2' },  // generic DWT path
  { n: 1, c: 1, h: 9, w: 16, k: 3, levels: 1, stride: [3, 1], wavelet: 'db3' },   // exactly one vector wide
  { n: 1, c: 1, h: 6, w: 7, k: 9, levels: 5, stride: [1, 1], wavelet: 'db4' },    // more levels than the size needs
] as const;

for (const b of BACKENDS) {
  describe(`WTConv2d edge shapes on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    CASES.forEach((cs, i) => {
      it(JSON.stringify(cs), () => {
        const x = randomTensor([cs.n, cs.c, cs.h, cs.w], 40 + i);
        const params = randomWTConvParams(cs.c, cs.k, cs.levels, i % 2 === 0, 60 + i);
        const opts = { levels: cs.levels, stride: [...cs.stride] as [number, number], wavelet: cs.wavelet as wt.WaveletName };
        const y = wt.wtconv2d(x, params, opts);
        const ref = wtconv2dReference(x, params, opts);
        expect(y.size).toBe(ref.length);
        let err = 0, norm = 0, worst = 0;
        for (let j = 0; j < ref.length; j++) {
          err += (y.data[j] - ref[j]) ** 2;
          norm += ref[j] ** 2;
          worst = Math.max(worst, Math.abs(y.data[j] - ref[j]));
        }
        expect(Math.sqrt(err / norm)).toBeLessThan(1e-5);
        expect(worst).toBeLessThan(1e-4 * Math.max(1, ...Array.from(ref, Math.abs)));
      });
    });
  });
}
