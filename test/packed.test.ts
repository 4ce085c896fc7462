// The package as npm users get it: `npm pack` (prepack places the native addon in
// prebuilds/linux-x64/), installed from the tarball into an empty project with no
// network. The consumer loads it with require and import, type-checks against it with
// tsc, bundles it with esbuild for a browser (run in headless Chromium), uses the
// prebuilt addon, and falls back to WebAssembly, saying why, when the addon is gone
// or broken.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module of the example
import { startServer } from '../examples/browser/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(import.meta.url);
const tmp = mkdtempSync(path.join(tmpdir(), 'wtconv-packed-'));
const app = path.join(tmp, 'app');
const installed = path.join(app, 'node_modules', 'wtconv');
const run = (cmd: string, args: string[], cwd = app) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WTCONV_NATIVE_PATH: '' } });
const node = (args: string[]) => run(process.execPath, args);

// The same computation in every consumer: a seeded layer on a fixed input.
const COMPUTE = `
  const layer = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 2, seed: 7 });
  const x = wt.tensor(Float32Array.from({ length: 2 * 12 * 12 }, (_, i) => Math.sin(i)), [1, 2, 12, 12]);
  const y = Array.from(layer.forward(x).data);`;
const report = (load: string) => `
  const wt = ${load};
  const info = await wt.init();
  ${COMPUTE}
  console.log(JSON.stringify({ name: info.name, variant: info.variant, reason: info.reason, y }));`;

function closeTo(a: number[], b: number[]): number {
  let e = 0;
  let r = 0;
  for (let i = 0; i < b.length; i++) {
    e += (a[i] - b[i]) ** 2;
    r += b[i] ** 2;
  }
  return a.length === b.length ? Math.sqrt(e / r) : Infinity;
}

describe('the packed tarball installed in an empty project', () => {
  let tarball = '';
  let viaRequire: { name: string; reason: string; y: number[] };

  beforeAll(() => {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], root));
    tarball = path.join(tmp, packed[0].filename);
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('prebuilds/linux-x64/wtconv.node');
    for (const f of ['wtconv-threaded.wasm', 'wtconv-threaded.cjs', 'wtconv-threaded.worker.cjs', 'wtconv-simd.wasm', 'wtconv-simd.cjs']) {
      expect(files).toContain(`dist/wasm/${f}`);
    }
    expect(files.filter((f) => /^(core|ts|test|build|node)\//.test(f))).toEqual([]);
    expect(existsSync(path.join(root, 'prebuilds', 'linux-x64', 'wtconv.node'))).toBe(false);  // postpack removed the copy
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // Installed as on a machine without a compiler: PATH holds node and npm only.
    const bin = path.join(tmp, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    symlinkSync(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim()), path.join(bin, 'npm'));
    execFileSync(path.join(bin, 'npm'), ['install', '--offline', '--no-audit', '--no-fund', tarball], {
      cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: bin },
    });
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json', 'prebuilds']);
  }, 120_000);

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('works with require and import, on the prebuilt native addon', () => {
    viaRequire = JSON.parse(node(['-e', `(async () => { ${report("require('wtconv')")} })()`]));
    const viaImport = JSON.parse(node(['--input-type=module', '-e', report("await import('wtconv')")]));
    for (const r of [viaRequire, viaImport]) {
      expect(r.name).toBe('native');
      expect(r.reason).toMatch(/native addon loaded from node_modules\/wtconv\/prebuilds\/linux-x64\/wtconv\.node/);
      expect(r.y.length).toBe(2 * 12 * 12);
      expect(r.y.every(Number.isFinite)).toBe(true);
    }
    expect(closeTo(viaImport.y, viaRequire.y)).toBe(0);
    const cli = node([path.join(app, 'node_modules', '.bin', 'wtconv'), 'info', '--shape', '1,2,8,8', '--repeat', '1']);
    expect(cli).toMatch(/auto-selected backend: native/);
  });

  it('type-checks a consumer (ESM and CommonJS) with tsc', () => {
    const body = `
      const info: wt.BackendInfo = await wt.init({ backend: 'auto', threads: 1 });
      const name: 'cuda' | 'native' | 'wasm' = info.name;
      const layer = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 1 });
      const y: wt.Tensor = layer.forward(wt.tensor(new Float32Array(2 * 8 * 8), [1, 2, 8, 8]));
      const grads: Record<string, wt.Tensor> = layer.backward(y);
      const bands: wt.Tensor[] = wt.dwt2d(y, { levels: 2, wavelet: 'db2' });
      // @ts-expect-error a string is not a Tensor
      layer.forward('x');
      // @ts-expect-error no such backend
      await wt.init({ backend: 'gpu' });
      // @ts-expect-error no such wavelet
      wt.dwt2d(y, { levels: 1, wavelet: 'db9' });
      console.log(name, grads.x.shape, bands.length);`;
    writeFileSync(path.join(app, 'esm.mts'), `import * as wt from 'wtconv';\n${body}\nexport {};\n`);
    writeFileSync(path.join(app, 'cjs.cts'), `import wt = require('wtconv');\nasync function main() {\n${body}\n}\nmain();\n`);
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], types: [], skipLibCheck: false },
      files: ['esm.mts', 'cjs.cts'],
    }));
    const tsc = path.join(path.dirname(requireHere.resolve('typescript/package.json')), 'bin', 'tsc');
    let out = '';
    try {
      out = node([tsc, '-p', 'tsconfig.json']);
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    // Clean, with every @ts-expect-error used: the declarations are real types, not `any`.
    expect(out).toBe('');
  });

  it('bundles with esbuild for the browser and runs in Chromium, the .wasm found through wasmPaths', async () => {
    const web = path.join(app, 'web');
    mkdirSync(path.join(web, 'assets'), { recursive: true });
    writeFileSync(path.join(web, 'main.mjs'), `
      import * as wt from 'wtconv';
      const out = {};
      try { await wt.init(); out.withoutPaths = 'ok'; } catch (e) { out.withoutPaths = e.code + ': ' + e.message; }
      // The documented option: where the copied dist/wasm/ files are.
      const info = await wt.init({ wasmPaths: new URL('./wtconv/', import.meta.url).href });
      ${COMPUTE}
      Object.assign(out, { name: info.name, variant: info.variant, threads: info.threads, y });
      window.result = out;`);
    writeFileSync(path.join(web, 'index.html'), '<!doctype html><link rel="icon" href="data:,"><script type="module" src="assets/app.js"></script>');
    const { build } = await import('esbuild');
    await build({ absWorkingDir: app, entryPoints: [path.join(web, 'main.mjs')], outfile: path.join(web, 'assets', 'app.js'), bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent' });
    const bundle = readFileSync(path.join(web, 'assets', 'app.js'), 'utf8');
    expect(bundle).not.toMatch(/require\("(node:)?(fs|path|worker_threads|child_process)"\)/);
    cpSync(path.join(installed, 'dist', 'wasm'), path.join(web, 'assets', 'wtconv'), { recursive: true });

    const server = await startServer({ root: web, isolated: true });
    const profile = mkdtempSync(path.join(tmpdir(), 'wtconv-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 60_000 });
      const r = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as { withoutPaths: string; name: string; variant: string; threads: number; y: number[] };
      expect(errors).toEqual([]);
      // Without wasmPaths the error names the URL it fetched and what came back.
      expect(r.withoutPaths).toMatch(/^E_BACKEND: http:\/\/127\.0\.0\.1:\d+\/wasm\/wtconv-threaded\.wasm \(HTTP 404\) is not WebAssembly: expected magic word 00 61 73 6d, found 6e 6f 74/);
      expect([r.name, r.variant]).toEqual(['wasm', 'threaded']);
      expect(r.threads).toBeGreaterThanOrEqual(2);
      expect(closeTo(r.y, viaRequire.y)).toBeLessThan(1e-5);  // the same numbers as the native addon
    } finally {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('falls back to WebAssembly and says why when the addon is broken or deleted', () => {
    const addon = path.join(installed, 'prebuilds', 'linux-x64', 'wtconv.node');
    writeFileSync(addon, 'not a shared object');
    const broken = JSON.parse(node(['-e', `(async () => { ${report("require('wtconv')")} })()`]));
    expect([broken.name, broken.variant]).toEqual(['wasm', 'threaded']);
    expect(broken.reason).toMatch(/prebuilds\/linux-x64\/wtconv\.node: failed to load in a child process/);
    expect(closeTo(broken.y, viaRequire.y)).toBeLessThan(1e-5);

    rmSync(path.join(installed, 'prebuilds'), { recursive: true });
    const gone = JSON.parse(node(['--input-type=module', '-e', report("await import('wtconv')")]));
    expect([gone.name, gone.variant]).toEqual(['wasm', 'threaded']);
    expect(gone.reason).toMatch(/native: no usable native addon for linux-x64 \(tried \S*prebuilds\/linux-x64\/wtconv\.node: not found;/);
    const cli = node([path.join(app, 'node_modules', '.bin', 'wtconv'), 'info', '--shape', '1,2,8,8', '--repeat', '1']);
    expect(cli).toMatch(/auto-selected backend: wasm/);
    expect(cli).toMatch(/no usable native addon for linux-x64/);
    expect(cli).toMatch(/not available here: .*native/);
  });
});
