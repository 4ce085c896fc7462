// Bad input throws WTConvError with the right code, on every backend, and the
// module keeps working afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, randomWTConvParams } from './helpers.js';

const x = randomTensor([2, 3, 8, 8], 1);
const params = randomWTConvParams(3, 3, 2, true, 2);
const opts = { levels: 2 };
const without = (name: string) => Object.fromEntries(Object.entries(params).filter(([k]) => k !== name));

const CASES: [string, wt.WTConvErrorCode, () => unknown][] = [
  ['wrong rank', 'E_SHAPE', () => wt.wtconv2d(randomTensor([3, 8, 8], 1), params, opts)],
  ['data length differs from the shape', 'E_SHAPE', () => new wt.Tensor(new Float32Array(10), [2, 3])],
  ['channel mismatch with parameters', 'E_SHAPE', () => wt.wtconv2d(randomTensor([1, 4, 8, 8], 1), params, opts)],
  ['non-integer size', 'E_SHAPE', () => new wt.Tensor(new Float32Array(3), [1.5, 2])],
  ['non-positive size', 'E_SHAPE', () => wt.tensor([], [0, 3])],
  ['levels 0', 'E_ARG', () => wt.wtconv2d(x, params, { levels: 0 })],
  ['stride 0', 'E_ARG', () => wt.wtconv2d(x, params, { levels: 2, stride: 0 })],
  ['negative stride pair', 'E_ARG', () => wt.wtconv2d(x, params, { levels: 2, stride: [1, -1] })],
  ['unknown wavelet', 'E_ARG', () => wt.wtconv2d(x, params, { levels: 2, wavelet: 'sym5' as wt.WaveletName })],
  ['wrong grad shape', 'E_SHAPE', () => wt.wtconv2dBackward(x, params, randomTensor([2, 3, 4, 8], 3), opts)],
  ['missing parameter', 'E_STATE', () => wt.wtconv2d(x, without('wavelet_scale.1.weight'), opts)],
  ['missing base weight', 'E_STATE', () => wt.wtconv2d(x, without('base_conv.weight'), opts)],
  ['mis-shaped parameter', 'E_SHAPE', () => wt.wtconv2d(x, { ...params, 'base_scale.weight': randomTensor([3], 4) }, opts)],
  ['non-Float32Array data', 'E_DTYPE', () => new wt.Tensor(new Float64Array(4) as unknown as Float32Array, [4])],
  ['plain array as a tensor', 'E_DTYPE', () => wt.wtconv2d([1, 2, 3] as unknown as wt.Tensor, params, opts)],
  ['shape product overflows', 'E_SHAPE', () => wt.Tensor.zeros([2 ** 20, 2 ** 20, 2 ** 20])],
  ['levels not an integer', 'E_ARG', () => wt.dwt2d(x, { levels: 1.5 })],
  ['dwt without levels', 'E_ARG', () => wt.dwt2d(x, {} as wt.Dwt2dOptions)],
  ['wrong number of gradient bands', 'E_SHAPE', () => wt.dwt2dBackward(x, [randomTensor([2, 3, 4, 4, 4], 5)], { levels: 2 })],
  ["dwt option 'out' of the wrong shape", 'E_SHAPE', () => wt.dwt2d(x, { levels: 1, out: [randomTensor([2, 3, 4, 4, 3], 7)] })],
  ["dwt option 'out' with too few bands", 'E_SHAPE', () => wt.dwt2d(x, { levels: 2, out: [randomTensor([2, 3, 4, 4, 4], 7)] })],
  ["dwt option 'out' sharing memory with x", 'E_ARG', () => wt.dwt2d(x, { levels: 1, out: [new wt.Tensor(x.data.subarray(0, 384), [2, 3, 4, 4, 4])] })],
  ['inconsistent idwt shapes', 'E_SHAPE', () => wt.idwt2d(wt.dwt2d(x, { levels: 2 }), { shapes: [[8, 8], [3, 4]] })],
  ['idwt band shape mismatch', 'E_SHAPE', () => wt.idwt2d([randomTensor([2, 3, 3, 4, 4], 6)])],
  ['options not an object', 'E_ARG', () => wt.wtconv2d(x, params, 7 as unknown as wt.WTConv2dOptions)],
  ['params not an object', 'E_ARG', () => wt.wtconv2d(x, null as unknown as wt.WTConv2dParams, opts)],
  ['unknown backend', 'E_ARG', () => wt.init({ backend: 'gpu' as 'wasm' })],
  ['threads 0', 'E_ARG', () => wt.init({ threads: 0 })],
  ['module channels 0', 'E_ARG', () => new wt.WTConv2d({ channels: 0 })],
  ['backward before forward', 'E_STATE', () => new wt.WTConv2d({ channels: 3 }).backward(x)],
];

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(wt.WTConvError);
    expect((e as Error).message.length).toBeGreaterThan(10);
    return (e as wt.WTConvError).code;
  }
  return 'no error';
}

for (const b of BACKENDS) {
  describe(`bad input on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    it(`throws WTConvError with the right code in ${CASES.length} cases`, async () => {
      expect(CASES.length).toBeGreaterThanOrEqual(15);
      for (const [label, code, fn] of CASES) expect(await codeOf(fn), label).toBe(code);
    });

    it('stays usable after errors', async () => {
      await wt.init(b.options);  // the init cases above must not have switched backends
      const before = wt.wtconv2d(x, params, opts);
      for (const [, , fn] of CASES) await codeOf(fn);
      await wt.init(b.options);
      const after = wt.wtconv2d(x, params, opts);
      expect(after.data).toEqual(before.data);
      expect(wt.backend().name).toBe(b.options.backend);
    });
  });
}

for (const b of BACKENDS) {
  describe(`errors from the core itself on ${b.label}`, () => {
    it('are re-checked below the TypeScript validation (C ABI)', async () => {
      await wt.init(b.options);
      // Reach the kernel layer directly with a value the TS layer would refuse.
      const { current } = await import('../ts/runtime.js');
      const { In, Out } = await import('../ts/backends/backend.js');
      let error: unknown;
      try {
        current().run('dwt2dForward', [1, 1, 4, 4, 0, 1, new In(new Float32Array(16)), new Out([])]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(wt.WTConvError);
      expect((error as wt.WTConvError).code).toBe('E_ARG');
      expect((error as Error).message).toMatch(/levels: expected an integer in 1\.\.30, got 0/);
      expect(wt.dwt2d(x, { levels: 1 })[0].shape).toEqual([2, 3, 4, 4, 4]);
    });
  });
}
