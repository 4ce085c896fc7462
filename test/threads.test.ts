// The threaded backends really run on several threads.
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomTensor, randomWTConvParams } from './helpers.js';

const x = randomTensor([4, 16, 96, 96], 1);
const params = randomWTConvParams(16, 5, 2, true, 2);

/**
 * Threads that ran a share of `op`. Threads take chunks dynamically, so on a
 * busy machine a worker may wake only after the caller took every chunk of one
 * region; a worker that never joins in five regions is a failure.
 */
function threadsUsed(op: () => unknown): number {
  let used = 0;
  for (let attempt = 0; attempt < 5 && used < 2; attempt++) {
    op();
    used = wt.runtimeStats().threadsUsedLast;
  }
  return used;
}

describe('threads', () => {
  for (const backend of ['native', 'wasm'] as const) {
    it(`${backend}: 2 threads each run a share of the work; 1 thread runs alone`, async () => {
      const info = await wt.init({ backend, threads: 2 });
      expect(info.threads).toBe(2);
      if (backend === 'wasm') expect(info.variant).toBe('threaded');
      const y2 = wt.wtconv2d(x, params, { levels: 2 });
      expect(threadsUsed(() => wt.wtconv2d(x, params, { levels: 2 }))).toBe(2);
      expect(threadsUsed(() => wt.wtconv2dBackward(x, params, y2, { levels: 2 }))).toBe(2);

      const one = await wt.init({ backend, threads: 1 });
      expect(one.threads).toBe(1);
      if (backend === 'wasm') expect(one.variant).toBe('single-threaded');
      const y1 = wt.wtconv2d(x, params, { levels: 2 });
      expect(wt.runtimeStats().threadsUsedLast).toBe(1);
      // The split does not change any sum: bit-identical outputs.
      expect(y1.data.findIndex((v, i) => v !== y2.data[i])).toBe(-1);
    });
  }

  it('backend() reports what runs and why', async () => {
    const info = await wt.init();
    expect(info.name).toBe('native');
    expect(wt.backend().reason).toMatch(/native addon loaded/);
    expect(wt.backend().simd).toBe(true);
    expect(await wt.availableBackends()).toEqual(['native', 'wasm']);
  });
});
