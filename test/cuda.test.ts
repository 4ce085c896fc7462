// The CUDA backend where there is no GPU (here and in CI): the package loads,
// init() falls back to the CPU backends and says why, asking for cuda is
// E_BACKEND with the reason, and the CUDA addon itself loads without libcuda.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = path.join(root, 'build', 'cuda', 'Release', 'wtconv_cuda.node');
delete process.env.WTCONV_CUDA_PATH;

function nvccPresent(): boolean {
  for (const p of ['/usr/local/cuda/bin/nvcc', '/usr/local/bin/nvcc', '/usr/bin/nvcc']) if (existsSync(p)) return true;
  return false;
}

function driverPresent(): boolean {
  try {
    return execFileSync('sh', ['-c', 'ldconfig -p | grep -c "libcuda\\.so"'], { encoding: 'utf8' }).trim() !== '0';
  } catch {
    return false;
  }
}

// For machines without a driver (CI); bench/gpu/run.sh checks machines with a GPU.
describe.runIf(!driverPresent())('cuda unavailable (no GPU or driver)', () => {
  it("init() picks native and backend().reason says why cuda was not", async () => {
    const info = await wt.init();
    expect(info.name).toBe('native');
    expect(info.reason).toMatch(/^cuda: no usable CUDA device; tried: /);
    if (existsSync(addonPath)) {
      expect(info.reason).toMatch(/wtconv_cuda\.node: loads, but CUDA is unavailable: .*(driver|device)/i);
    } else {
      expect(info.reason).toMatch(/wtconv_cuda\.node: not found/);
    }
    expect(wt.backend().device).toBeUndefined();
    expect(await wt.availableBackends()).toEqual(['native', 'wasm']);
  });

  it("init({ backend: 'cuda' }) throws E_BACKEND with the reason and possible solutions", async () => {
    const err = await wt.init({ backend: 'cuda' }).catch((e) => e);
    expect(err).toBeInstanceOf(wt.WTConvError);
    expect(err.code).toBe('E_BACKEND');
    expect(err.message).toMatch(/^backend cuda: no usable CUDA device/);
    expect(err.message).toMatch(/Possible solutions:[\s\S]*NVIDIA driver[\s\S]*cuda\/build\.sh[\s\S]*CPU backends/);
    // The previous backend stays usable after a failed init.
    const x = wt.tensor(new Float32Array(16).fill(1), [1, 1, 4, 4]);
    expect(wt.dwt2d(x, { levels: 1 })[0].data[0]).toBeCloseTo(2, 6);
  });

  it("t.to('cuda') throws E_BACKEND; host tensors report device 'cpu'", async () => {
    await wt.init({ backend: 'native' });
    const t = wt.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(t.device).toBe('cpu');
    expect(t.to('cpu')).toBe(t);
    expect(t.toHost()).toBe(t);
    expect(() => t.to('cuda')).toThrowError(expect.objectContaining({ code: 'E_BACKEND', message: expect.stringMatching(/cuda backend is not in use/) }));
    expect(() => t.to('gpu' as 'cuda')).toThrowError(expect.objectContaining({ code: 'E_ARG' }));
    t.dispose();  // nothing on a device: a no-op
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('the CUDA addon is built where nvcc is, and loads without libcuda, reporting why it cannot run', () => {
    expect(existsSync(addonPath)).toBe(nvccPresent());
    if (!existsSync(addonPath)) return;
    // No libcuda / libcudart in its dependencies: cudart is static, the driver is found at run time.
    const deps = execFileSync('ldd', [addonPath], { encoding: 'utf8' });
    expect(deps).not.toMatch(/libcuda|libcudart/);
    const out = execFileSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonPath)}); console.log(JSON.stringify({ info: a.runtimeInfo(), probe: a.probe() }))`], { encoding: 'utf8' });
    const { info, probe } = JSON.parse(out);
    expect(info).toMatchObject({ version: wt.version, tier: 'fused', emulator: false });
    expect(probe.count).toBe(-1);
    expect(probe.runtimeVersion).toBeGreaterThanOrEqual(12000);
    expect(probe.reason).toMatch(/driver|device/i);
  });
});
