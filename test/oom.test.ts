// Out of memory in the WebAssembly backend is a WTConvError E_OOM, never an
// abort, and the module keeps working afterwards.
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomTensor, randomWTConvParams } from './helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(wt.WTConvError);
    return (e as wt.WTConvError).code;
  }
  return 'no error';
}

describe('out of memory (wasm, 4 GiB limit)', () => {
  it('gives E_OOM for a request the heap cannot hold, then keeps working', async () => {
    await wt.init({ backend: 'wasm', threads: 2 });
    const params = randomWTConvParams(1, 3, 1, true, 1);
    const small = randomTensor([1, 1, 16, 16], 2);
    const expected = wt.wtconv2d(small, params, { levels: 1 });

    // 2^27 elements (512 MiB): beyond what the core may address in a 32-bit heap.
    const huge = wt.Tensor.zeros([1, 1, 8192, 16384]);
    expect(codeOf(() => wt.wtconv2d(huge, params, { levels: 1 }))).toBe('E_OOM');

    // Just below it: the tensors fit, but the scratch of two threads (about 2 x 2.2 GiB) does not.
    const big = wt.Tensor.zeros([1, 1, 8192, 16383]);
    expect(codeOf(() => wt.wtconv2d(big, params, { levels: 1 }))).toBe('E_OOM');

    expect(wt.wtconv2d(small, params, { levels: 1 }).data).toEqual(expected.data);
    wt.releaseMemory();
    expect(wt.wtconv2d(small, params, { levels: 1 }).data).toEqual(expected.data);
  });
});

describe('out of memory (native, failed allocation)', () => {
  it('a workspace no address space can hold is E_OOM, then the addon keeps working', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const params = randomWTConvParams(2, 3, 2, true, 1);
    const small = randomTensor([1, 2, 9, 7], 2);
    const expected = wt.wtconv2d(small, params, { levels: 2 });
    const { current } = await import('../ts/runtime.js');
    const { In, Out } = await import('../ts/backends/backend.js');
    // Below the TypeScript checks: a 2^29 x 2^29 signal passes the core's size checks (every
    // product fits 64 bits) but its scratch (about 5 * 2^58 bytes per thread) makes the
    // allocation itself fail, before any tensor is touched.
    const tiny = new Float32Array(16);
    const huge = 2 ** 29;
    for (const [kernel, args] of [
      ['idwt2dForward', [1, 1, huge, huge, 1, 1, new In([tiny]), new Out(tiny)]],
      ['dwt2dBackward', [1, 1, huge, huge, 1, 1, new In([tiny]), new Out(tiny)]],
      ['idwt2dBackward', [1, 1, huge, huge, 1, 1, new In(tiny), new Out([tiny])]],
    ] as const) {
      let error: unknown;
      try {
        current().run(kernel, args);
      } catch (e) {
        error = e;
      }
      expect(error, kernel).toBeInstanceOf(wt.WTConvError);
      expect((error as wt.WTConvError).code, kernel).toBe('E_OOM');
      expect((error as Error).message).toMatch(/workspace/);
      expect(wt.wtconv2d(small, params, { levels: 2 }).data).toEqual(expected.data);
    }
    wt.releaseMemory();
    expect(wt.wtconv2d(small, params, { levels: 2 }).data).toEqual(expected.data);
  });
});
