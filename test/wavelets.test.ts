// The wavelet tables of the TypeScript layer and of the core agree with PyWavelets.
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS } from './helpers.js';

// PyWavelets 1.4: pywt.Wavelet('db2') filters.
const DB2 = {
  decLo: [-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416],
  decHi: [-0.48296291314453416, 0.8365163037378079, -0.2241438680420134, -0.12940952255126037],
  recLo: [0.48296291314453416, 0.8365163037378079, 0.2241438680420134, -0.12940952255126037],
  recHi: [-0.12940952255126037, -0.2241438680420134, 0.8365163037378079, -0.48296291314453416],
};

describe('wavelets', () => {
  it('derive dec_hi, rec_lo, rec_hi as PyWavelets does', () => {
    const f = wt.waveletFilters1d('db2');
    for (const k of ['decLo', 'decHi', 'recLo', 'recHi'] as const) expect(f[k]).toEqual(DB2[k]);
    expect(wt.waveletFilters1d('haar').recHi).toEqual([0.7071067811865476, -0.7071067811865476]);
  });

  for (const b of BACKENDS.slice(0, 2)) {
    it(`the core's tables on ${b.label} match`, async () => {
      await wt.init(b.options);
      const { current } = await import('../ts/runtime.js');
      for (let id = 1; id <= 4; id++) {
        const core = current().waveletFilters(id);
        const f = wt.waveletFilters1d(wt.WAVELETS[id - 1]);
        expect(Array.from(core)).toEqual(Array.from(new Float32Array([...f.decLo, ...f.decHi, ...f.recLo, ...f.recHi])));
      }
    });
  }
});
