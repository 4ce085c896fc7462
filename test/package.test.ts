// The built package as users load it: ESM and CommonJS entries, the CLI, and the
// fallback to WebAssembly when the native addon is absent.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = (args: string[], cwd = root, env: NodeJS.ProcessEnv = {}) =>
  execFileSync(process.execPath, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const script = `
  const wt = await LOAD;
  const info = await wt.init();
  const layer = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 2, seed: 1 });
  const y = layer.forward(wt.Tensor.zeros([1, 2, 9, 9]));
  let nativeError = null;
  try { await wt.init({ backend: 'native' }); } catch (e) { nativeError = e.code; }
  console.log(JSON.stringify({ name: info.name, variant: info.variant, reason: info.reason, shape: y.shape, nativeError }));
`;

describe('the built package', () => {
  // A copy of the package with dist/ but no native addon.
  const bare = mkdtempSync(path.join(tmpdir(), 'wtconv-bare-'));
  cpSync(path.join(root, 'dist'), path.join(bare, 'dist'), { recursive: true });
  cpSync(path.join(root, 'package.json'), path.join(bare, 'package.json'));
  afterAll(() => rmSync(bare, { recursive: true, force: true }));

  it('loads through import (ESM) and require (CJS) and picks the native addon', () => {
    const esm = JSON.parse(node(['--input-type=module', '-e', script.replace('LOAD', `import(${JSON.stringify(path.join(root, 'dist/node/index.mjs'))})`)]));
    const cjs = JSON.parse(node(['-e', `(async () => { ${script.replace('LOAD', `require(${JSON.stringify(path.join(root, 'dist/node/index.cjs'))})`)} })()`]));
    for (const r of [esm, cjs]) {
      expect(r.name).toBe('native');
      expect(r.shape).toEqual([1, 2, 9, 9]);
      expect(r.nativeError).toBeNull();
    }
  });

  it('falls back to threaded WASM without the addon, says why, and refuses backend native', () => {
    const r = JSON.parse(node(['--input-type=module', '-e', script.replace('LOAD', `import(${JSON.stringify(path.join(bare, 'dist/node/index.mjs'))})`)], bare));
    expect(r.name).toBe('wasm');
    expect(r.variant).toBe('threaded');
    expect(r.reason).toMatch(/no usable native addon/);
    expect(r.nativeError).toBe('E_BACKEND');
    expect(r.shape).toEqual([1, 2, 9, 9]);
  });

  it('finds the .wasm files through wasmPaths, and explains a file that is not WebAssembly', () => {
    const probe = (wasmPaths: string) =>
      node(['--input-type=module', '-e', `
        const wt = await import(${JSON.stringify(path.join(bare, 'dist/node/index.mjs'))});
        try { const i = await wt.init({ backend: 'wasm', wasmPaths: ${JSON.stringify(wasmPaths)} }); console.log('ok', i.variant); }
        catch (e) { console.log(e.code, e.message); }`], bare);
    expect(probe(path.join(root, 'dist', 'wasm'))).toMatch(/^ok threaded/);
    expect(probe(path.join(root, 'test'))).toMatch(/^E_BACKEND cannot read .*wtconv-threaded\.wasm/);
    expect(probe(root)).toMatch(/^E_BACKEND cannot read/);
  });

  it('runs the CLI: info, help, and a clean error for a bad option', () => {
    const out = node(['bin/wtconv.cjs', 'info', '--shape', '1,4,16,16', '--repeat', '2']);
    expect(out).toMatch(/auto-selected backend: native/);
    expect(out).toMatch(/^native\s+-\s+\S+\s+\d+\s+[\d.]+\s+[\d.]+$/m);
    expect(out).toMatch(/^wasm\s+threaded\s+wasm-simd128\s+\d+\s+[\d.]+\s+[\d.]+$/m);
    expect(node(['bin/wtconv.cjs', '--help'])).toMatch(/Usage: wtconv <command>/);
    let err = '';
    try {
      node(['bin/wtconv.cjs', 'info', '--shape', '1,2']);
    } catch (e) {
      err = (e as { stderr: string; status: number }).stderr;
      expect((e as { status: number }).status).toBe(2);
    }
    expect(err).toMatch(/^wtconv: --shape: expected 4 positive integer/);
    expect(err).not.toMatch(/at .*\.cjs/);  // no stack trace for a user mistake
  });
});
