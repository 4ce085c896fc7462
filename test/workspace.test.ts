// Operators are planned once per shape: after a warm-up call, repeated calls
// reuse the scratch workspace (and, in WASM, the tensor arena) without growing
// or reallocating anything.
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, randomWTConvParams } from './helpers.js';

describe('no allocation per call after warm-up', () => {
  for (const b of BACKENDS) {
    it(`on ${b.label}`, async () => {
      await wt.init(b.options);
      const x = randomTensor([2, 8, 40, 36], 1);
      const params = randomWTConvParams(8, 5, 3, true, 2);
      const opts = { levels: 3 };
      const step = () => {
        const y = wt.wtconv2d(x, params, opts);
        wt.wtconv2dBackward(x, params, y, opts);
        wt.idwt2d(wt.dwt2d(x, opts));
      };
      step();
      const warm = wt.runtimeStats();
      expect(warm.workspaceBytes).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) step();
      const after = wt.runtimeStats();
      expect(after.workspaceBytes).toBe(warm.workspaceBytes);
      if (b.options.backend === 'wasm') expect(after.heapBytes).toBe(warm.heapBytes);
      // The scratch memory is small next to the tensors: a few planes per thread.
      expect(warm.workspaceBytes).toBeLessThan(4 * x.size * 4);
    });
  }
});

describe("the 'out' option", () => {
  it('writes the forward result into a given tensor, checked for shape and aliasing', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const x = randomTensor([1, 3, 20, 18], 3);
    const params = randomWTConvParams(3, 3, 2, true, 4);
    const expected = wt.wtconv2d(x, params, { levels: 2 });
    const out = wt.Tensor.zeros([1, 3, 20, 18]);
    expect(wt.wtconv2d(x, params, { levels: 2, out })).toBe(out);
    expect(out.data).toEqual(expected.data);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as wt.WTConvError).code;
      }
      return 'none';
    };
    expect(code(() => wt.wtconv2d(x, params, { levels: 2, out: wt.Tensor.zeros([1, 3, 20, 17]) }))).toBe('E_SHAPE');
    expect(code(() => wt.wtconv2d(x, params, { levels: 2, out: x }))).toBe('E_ARG');
  });
});
