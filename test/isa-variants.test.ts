// Each ISA variant of the microkernels (the padded depthwise kernels, the GEMM
// microkernel and the GELU / dropout spans: the same source built for SSE2,
// AVX2 and AVX-512 without run-time dispatch, and for WebAssembly SIMD128)
// against a plain reference: bench/kernels/kernels.cc in its `check` mode. The
// element-wise spans give the same bits in every variant (their digests agree).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cpuFlags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
// A variant runs here when the CPU has its instructions; the dispatching build
// picks among the same variants at load time.
const runnable: Record<string, boolean> = {
  sse2: cpuFlags.includes('sse2'),
  avx2: cpuFlags.includes('avx2') && cpuFlags.includes('fma'),
  avx512: ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => cpuFlags.includes(f)),
  wasm: true,
};

describe('microkernel ISA variants', () => {
  const built = execFileSync('bash', [path.join(root, 'bench/kernels/build.sh')], { encoding: 'utf8' }).trim().split('\n');
  const variants = built.filter((v) => runnable[v]);

  it(`builds sse2, avx2, avx512 and wasm, and this CPU runs ${variants.join(', ')}`, () => {
    expect(built).toEqual(['sse2', 'avx2', 'avx512', 'wasm']);
    expect(variants).toContain('sse2');
    expect(variants).toContain('wasm');
  });

  const digests: Record<string, string> = {};
  for (const v of ['sse2', 'avx2', 'avx512', 'wasm']) {
    it(`${v}: every kernel matches the reference (${runnable[v] ? 'run here' : 'CPU lacks the instructions: checked on machines that have them'})`, () => {
      if (!runnable[v]) {
        // Not runnable on this CPU: the build above still proves it compiles.
        expect(built).toContain(v);
        return;
      }
      const exe = v === 'wasm' ? [process.execPath, path.join(root, 'build/kernels/kernels-wasm.cjs')] : [path.join(root, `build/kernels/kernels-${v}`)];
      const out = execFileSync(exe[0], [...exe.slice(1), 'check'], { encoding: 'utf8' });
      const tile = { sse2: '6x8', avx2: '6x16', avx512: '6x32', wasm: '4x8' }[v];
      const isa = v === 'sse2' || v === 'wasm' ? 'baseline' : v;
      expect(out).toMatch(new RegExp(`^118 cases passed, 336 gemm cases passed, 180 gemm_nt cases passed \\(${isa} microkernel, ${tile}\\)$`, 'm'));
      const digest = out.match(/^activation spans passed, digest ([0-9a-f]{8})$/m);
      expect(digest, 'the activation spans line').not.toBeNull();
      digests[v] = digest![1];
    });
  }

  it('the GELU and dropout spans give the same bits in every variant run here', () => {
    expect(Object.keys(digests).sort()).toEqual([...variants].sort());
    expect(new Set(Object.values(digests)).size).toBe(1);
  });
});
