// Bundles the page (main.mjs and the wtconv package it imports) with esbuild into build/app.js.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function buildPage() {
  await build({
    entryPoints: [path.join(here, 'main.mjs')],
    outfile: path.join(here, 'build', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildPage();
