// Bundles ts/ with esbuild: dist/node/index.{mjs,cjs} and dist/browser/index.mjs,
// plus the CLI. The browser bundle gets ts/platform/browser.ts instead of node.ts.
import { build } from 'esbuild';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const platformPlugin = (which) => ({
  name: 'wtconv-platform',
  setup(b) {
    b.onResolve({ filter: /platform\/current\.js$/ }, () => ({ path: path.join(root, 'ts', 'platform', `${which}.ts`) }));
  },
});
const cjsImportMeta = {
  define: { 'import.meta.url': '__wtconv_import_meta_url' },
  banner: { js: "const __wtconv_import_meta_url = require('url').pathToFileURL(__filename).href;" },
};
const common = { bundle: true, sourcemap: true, target: 'es2022', logLevel: 'warning', absWorkingDir: root };
// wtconv/tfjs: TF.js stays the user's, and wtconv is imported by name so the layer shares
// the runtime that the user's `wt.init()` initialises.
const tfjsEntry = {
  ...common,
  entryPoints: ['ts/tfjs/index.ts'],
  platform: 'neutral',
  external: ['@tensorflow/*'],
  plugins: [{ name: 'wtconv-self', setup(b) { b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: 'wtconv', external: true })); } }],
};

await Promise.all([
  build({ ...common, entryPoints: ['ts/index.ts'], outfile: 'dist/node/index.mjs', format: 'esm', platform: 'node', plugins: [platformPlugin('node')] }),
  build({ ...common, ...cjsImportMeta, entryPoints: ['ts/index.ts'], outfile: 'dist/node/index.cjs', format: 'cjs', platform: 'node', plugins: [platformPlugin('node')] }),
  build({ ...common, entryPoints: ['ts/index.ts'], outfile: 'dist/browser/index.mjs', format: 'esm', platform: 'browser', plugins: [platformPlugin('browser')] }),
  build({ ...tfjsEntry, outfile: 'dist/tfjs/index.mjs', format: 'esm' }),
  build({ ...tfjsEntry, outfile: 'dist/tfjs/index.cjs', format: 'cjs' }),
  build({ ...common, ...cjsImportMeta, entryPoints: ['ts/cli.ts'], outfile: 'dist/node/cli.cjs', format: 'cjs', platform: 'node', plugins: [platformPlugin('node')] }),
]);
