// Test data and the parity measure, free of vitest so that the GPU runner
// (test/cuda/checks.ts, bundled without a test framework) shares them.
import * as wt from '../ts/index.js';
import { Random } from '../ts/random.js';

/** SPEC section 5: relative L2 error <= 1e-5 and every element within 1e-4 * max(1, max|ref|); NaN fails. */
export function parityError(actual: Float32Array, ref: Float32Array): { relL2: number; maxAbs: number; bound: number } {
  let err2 = 0;
  let ref2 = 0;
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = actual[i] - ref[i];
    err2 += d * d;
    ref2 += ref[i] * ref[i];
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  const relL2 = ref2 > 0 ? Math.sqrt(err2 / ref2) : Math.sqrt(err2);
  return { relL2: Number.isNaN(relL2) ? Infinity : relL2, maxAbs, bound: 1e-4 * Math.max(1, maxRef) };
}

/** Seeded uniform tensor in [-1, 1). */
export function randomTensor(shape: number[], seed: number): wt.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new wt.Tensor(new Random(seed).uniform(new Float32Array(size), 1), shape);
}

/** Random WTConv2d parameters under the state_dict names. */
export function randomWTConvParams(c: number, k: number, levels: number, bias: boolean, seed: number): Record<string, wt.Tensor> {
  const p: Record<string, wt.Tensor> = {
    'base_conv.weight': randomTensor([c, 1, k, k], seed),
    'base_scale.weight': randomTensor([1, c, 1, 1], seed + 1),
  };
  if (bias) p['base_conv.bias'] = randomTensor([c], seed + 2);
  for (let i = 0; i < levels; i++) {
    p[`wavelet_convs.${i}.weight`] = randomTensor([4 * c, 1, k, k], seed + 10 + i);
    p[`wavelet_scale.${i}.weight`] = randomTensor([1, 4 * c, 1, 1], seed + 50 + i);
  }
  return p;
}
