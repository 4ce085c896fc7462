// esbuild bundles of the GPU runners (bench/gpu/pack.sh): the package's node
// platform, ESM, so import.meta.url places the package root two levels up.
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, '.gpu-pack', 'dist', 'node'));
const platform = {
  name: 'wtconv-platform',
  setup(b) {
    b.onResolve({ filter: /platform\/current\.js$/ }, () => ({ path: path.join(root, 'ts', 'platform', 'node.ts') }));
  },
};
await build({
  absWorkingDir: root,
  entryPoints: { 'gpu-tests': 'bench/gpu/gpu-tests.ts', bench: 'bench/gpu/bench.ts', workloads: 'bench/gpu/workloads.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  plugins: [platform],
});
