// The CUDA backend end to end without a GPU: the addon's host emulator
// (build/cuda-emu/Release/wtconv_cuda_emu.node) runs the same operators and
// kernels as the GPU build, block by block on the CPU. The checks are those
// that bench/gpu/run.sh runs against a real GPU (test/cuda/checks.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { cudaChecks } from './cuda/checks.js';
import { FIXTURES_DIR } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.WTCONV_CUDA_PATH = path.join(root, 'build', 'cuda-emu', 'Release', 'wtconv_cuda_emu.node');

describe('cuda backend on the host emulator', () => {
  it('is chosen by init() and names its device', async () => {
    const info = await wt.init({ backend: 'cuda', threads: 2 });
    expect(info.name).toBe('cuda');
    expect(info.device).toMatch(/emulator/);
    expect(info.isa).toBe('host-emulator');
    expect(info.reason).toMatch(/wtconv_cuda_emu\.node.*wavelet tables from native/);
    expect(await wt.availableBackends()).toEqual(['cuda', 'native', 'wasm']);
  });

  for (const check of cudaChecks({ fixturesDir: FIXTURES_DIR })) {
    it(check.name, check.run);
  }
});
