// Parity with PyTorch: every shared fixture of WTConv2d and the DWT, on every backend (SPEC section 5).
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, expectParity, fixtureNames, loadFixture } from './helpers.js';

for (const b of BACKENDS) {
  describe(`fixtures on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    for (const name of fixtureNames('wtconv2d_')) {
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toBe('wtconv2d');
        const params: Record<string, wt.Tensor> = {};
        for (const [k, v] of Object.entries(t)) if (!['x', 'y', 'grad_y'].includes(k) && !k.startsWith('grad.')) params[k] = v;
        const opts = { levels: config.levels as number, stride: config.stride as number, wavelet: config.wavelet as wt.WaveletName };
        expectParity(wt.wtconv2d(t.x, params, opts), t.y, 'y');
        const grads = wt.wtconv2dBackward(t.x, params, t.grad_y, opts);
        const expected = Object.keys(t).filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
        expect(Object.keys(grads).sort()).toEqual(expected.sort());
        for (const k of expected) expectParity(grads[k], t[`grad.${k}`], `grad.${k}`);
      });
    }

    for (const name of fixtureNames('dwt2d_')) {
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toBe('dwt2d');
        const levels = config.levels as number;
        const opts = { levels, wavelet: config.wavelet as wt.WaveletName };
        const bands = wt.dwt2d(t.x, opts);
        expect(bands.length).toBe(levels);
        bands.forEach((band, l) => expectParity(band, t[`bands.${l}`], `bands.${l}`));
        // Into given tensors (holding stale values): the same numbers, in those tensors.
        const out = bands.map((b) => new wt.Tensor(new Float32Array(b.data.length).fill(Number.NaN), b.shape));
        const into = wt.dwt2d(t.x, { ...opts, out });
        into.forEach((band, l) => {
          expect(band).toBe(out[l]);
          expect(band.data).toEqual(bands[l].data);
        });
        const gradBands = Array.from({ length: levels }, (_, l) => t[`grad_bands.${l}`]);
        expectParity(wt.dwt2dBackward(t.x, gradBands, opts), t['grad.x'], 'grad.x');

        // The inverse, from the reference bands, with each level's input size.
        const shapes: [number, number][] = [[t.x.shape[2], t.x.shape[3]]];
        for (let l = 1; l < levels; l++) shapes.push([t[`bands.${l - 1}`].shape[3], t[`bands.${l - 1}`].shape[4]]);
        const refBands = Array.from({ length: levels }, (_, l) => t[`bands.${l}`]);
        const iopts = { shapes, wavelet: opts.wavelet };
        expectParity(wt.idwt2d(refBands, iopts), t['idwt.y'], 'idwt.y');
        const ig = wt.idwt2dBackward(refBands, t['idwt.grad_y'], iopts);
        ig.forEach((g, l) => expectParity(g, t[`idwt.grad.bands.${l}`], `idwt.grad.bands.${l}`));
      });
    }
  });
}
