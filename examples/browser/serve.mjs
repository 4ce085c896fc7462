// A tiny static server for the page: the repository at /, shared/ (beside the repository)
// at /shared/, optionally with the COOP/COEP headers that make the page cross-origin
// isolated (needed for SharedArrayBuffer, so for the threaded WebAssembly module).
//   node examples/browser/serve.mjs [--isolated] [--port 8080]
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',  // the Emscripten glue and its pthread worker
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/** Starts the server on 127.0.0.1; resolves with its URL and a close(). */
export function startServer({ isolated = false, port = 0, root = repo, shared = path.resolve(root, '..', 'shared') } = {}) {
  const mounts = [['/shared/', shared], ['/', root]];
  const server = createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-store' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    const [prefix, dir] = mounts.find(([p]) => pathname.startsWith(p));
    let file = path.resolve(dir, '.' + pathname.slice(prefix.length - 1));
    if (file !== dir && !file.startsWith(dir + path.sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({ url: `http://127.0.0.1:${actual}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const { buildPage } = await import('./build.mjs');
  await buildPage();
  const { url } = await startServer({ isolated: args.includes('--isolated'), port: at >= 0 ? Number(args[at + 1]) : 8080 });
  console.log(`${url}/examples/browser/  (${args.includes('--isolated') ? 'cross-origin isolated: threaded WebAssembly' : 'not isolated: single-threaded WebAssembly; pass --isolated for threads'})`);
}
