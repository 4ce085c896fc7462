import { fail } from './errors.js';

/** Wavelets the operators accept: the orthogonal Daubechies family (db1 = Haar). */
export const WAVELETS = ['db1', 'db2', 'db3', 'db4'] as const;
export type WaveletName = (typeof WAVELETS)[number] | 'haar';

/** The core's id of a wavelet name (db1..db4 -> 1..4; 'haar' is db1). */
export function waveletId(name: unknown, what = 'wavelet'): number {
  if (name === 'haar') return 1;
  const i = WAVELETS.indexOf(name as (typeof WAVELETS)[number]);
  if (i < 0) fail('E_ARG', `${what}: expected one of ${WAVELETS.map((w) => `'${w}'`).join(', ')} or 'haar', got ${JSON.stringify(name)}`);
  return i + 1;
}

// PyWavelets' dec_lo of db1..db4; the other three filters follow by the
// quadrature-mirror relations (the core holds the same table: core/src/wavelets.cc,
// and test/wavelets.test.ts checks that both agree).
const DEC_LO: readonly (readonly number[])[] = [
  [0.7071067811865476, 0.7071067811865476],
  [-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416],
  [0.03522629188570953, -0.08544127388202666, -0.13501102001025458, 0.45987750211849154, 0.8068915093110925, 0.33267055295008263],
  [-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309, -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965],
];

export interface WaveletFilters1d {
  decLo: number[];
  decHi: number[];
  recLo: number[];
  recHi: number[];
}

/** The 1-D filters of a wavelet, as PyWavelets gives them. */
export function waveletFilters1d(name: WaveletName): WaveletFilters1d {
  const decLo = [...DEC_LO[waveletId(name) - 1]];
  const recLo = [...decLo].reverse();
  const decHi = recLo.map((v, i) => (i % 2 === 0 ? -v : v));
  const recHi = [...decHi].reverse();
  return { decLo, decHi, recLo, recHi };
}

/**
 * The fixed filters of the PyTorch module's state dict: `wt_filter` (analysis) and
 * `iwt_filter` (synthesis), each (4C, 1, F, F), band b of channel c at row c*4+b.
 */
export function waveletFilters2d(name: WaveletName, channels: number): { wt: Float32Array; iwt: Float32Array; length: number } {
  const { decLo, decHi, recLo, recHi } = waveletFilters1d(name);
  const f = decLo.length;
  const lo = [...decLo].reverse();
  const hi = [...decHi].reverse();
  const bank = (a: number[], b: number[]) => [
    [a, a],
    [b, a],
    [a, b],
    [b, b],
  ];
  const wt = new Float32Array(4 * channels * f * f);
  const iwt = new Float32Array(4 * channels * f * f);
  const fill = (out: Float32Array, pairs: number[][][]) => {
    for (let c = 0; c < channels; c++) {
      for (let band = 0; band < 4; band++) {
        const [rows, cols] = pairs[band];
        for (let r = 0; r < f; r++) for (let k = 0; k < f; k++) out[((c * 4 + band) * f + r) * f + k] = rows[r] * cols[k];
      }
    }
  };
  fill(wt, bank(lo, hi));
  fill(iwt, bank(recLo, recHi));
  return { wt, iwt, length: f };
}
