// Node.js: the native addon from prebuilds/ or build/, the WASM modules from dist/wasm/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WTConvError } from '../errors.js';
import type { NativeAddon } from '../backends/native.js';
import type { CudaAddon, CudaProbe } from '../backends/cuda.js';
import type { WasmModule } from '../backends/wasm.js';
import { WASM_FILES, checkWasmBytes, resolveWasmFile, type Platform, type WasmLoadOptions } from './types.js';

// This file sits two levels below the package root, in ts/platform/ as a source
// and in dist/node/ once bundled.
const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, '..', '..');
const requireHere = createRequire(import.meta.url);

import { VERSION as ADDON_VERSION } from "../version.js";

function nativeCandidates(): string[] {
  const env = process.env.WTCONV_NATIVE_PATH;
  return [
    ...(env ? [path.resolve(env)] : []),
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'wtconv.node'),
    path.join(packageRoot, 'build', 'native', 'Release', 'wtconv.node'),
  ];
}

// Each addon is loaded in a child process before this one trusts it: a binary that
// crashes (built for a newer CPU or glibc, truncated, ...) must not take the host down.
const probed = new Map<string, string | null>();
function probeInChild(file: string): string | null {
  const key = `${file}@${statSync(file).mtimeMs}`;
  const known = probed.get(key);
  if (known !== undefined) return known;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)}).runtimeInfo()`], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  const errorLine = (r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l))[0] ?? '';
  const problem = r.error
    ? `could not be test-loaded (${r.error.message})`
    : r.signal
      ? `crashed when test-loaded in a child process (${r.signal})`
      : r.status !== 0
        ? `failed to load in a child process${errorLine ? ` (${errorLine.trim()})` : ''}`
        : null;
  probed.set(key, problem);
  return problem;
}

function cudaCandidates(): string[] {
  const env = process.env.WTCONV_CUDA_PATH;
  return [
    ...(env ? [path.resolve(env)] : []),
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'wtconv_cuda.node'),
    path.join(packageRoot, 'build', 'cuda', 'Release', 'wtconv_cuda.node'),
  ];
}

// The CUDA addon is probed in a child process first: a driver that crashes on
// initialisation must not take the host process down.
const cudaProbed = new Map<string, { probe?: CudaProbe; problem?: string }>();
function probeCudaInChild(file: string): { probe?: CudaProbe; problem?: string } {
  const key = `${file}@${statSync(file).mtimeMs}`;
  const known = cudaProbed.get(key);
  if (known) return known;
  const script = `const a = require(${JSON.stringify(file)}); const v = a.runtimeInfo().version;
    process.stdout.write(JSON.stringify({ version: v, probe: a.probe() }));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  let result: { probe?: CudaProbe; problem?: string };
  if (r.error) result = { problem: `could not be test-loaded (${r.error.message})` };
  else if (r.signal) result = { problem: `crashed when test-loaded in a child process (${r.signal})` };
  else if (r.status !== 0) {
    const line = (r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l))[0] ?? '';
    result = { problem: `failed to load in a child process${line ? ` (${line.trim()})` : ''}` };
  } else {
    try {
      const out = JSON.parse(r.stdout) as { version: string; probe: CudaProbe };
      result = out.version !== ADDON_VERSION ? { problem: `built for wtconv ${out.version}, this is ${ADDON_VERSION}` } : { probe: out.probe };
    } catch {
      result = { problem: 'its test load printed no probe result' };
    }
  }
  cudaProbed.set(key, result);
  return result;
}

/** The CUDA addon and device 0, or why there is none (no addon, no driver, no GPU). */
export function loadCudaAddon(): { addon?: CudaAddon; probe?: CudaProbe; reason: string } {
  const tried: string[] = [];
  for (const file of cudaCandidates()) {
    if (!existsSync(file)) {
      tried.push(`${file}: not found`);
      continue;
    }
    const child = probeCudaInChild(file);
    if (child.problem) {
      tried.push(`${file}: ${child.problem}`);
      continue;
    }
    if (!child.probe || child.probe.count < 1) {
      tried.push(`${file}: loads, but CUDA is unavailable: ${child.probe?.reason || 'no device'}`);
      continue;
    }
    try {
      const addon = requireHere(file) as CudaAddon;
      const probe = addon.probe();
      if (probe.count < 1) {
        tried.push(`${file}: CUDA is unavailable: ${probe.reason}`);
        continue;
      }
      return { addon, probe, reason: `cuda addon loaded from ${path.relative(process.cwd(), file) || file}: ${probe.name} (compute capability ${probe.computeCapability})` };
    } catch (e) {
      tried.push(`${file}: failed to load (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return {
    reason:
      `no usable CUDA device; tried:\n  ${tried.join('\n  ')}\n` +
      'Possible solutions:\n' +
      '  - install an NVIDIA driver for a GPU of compute capability 7.5 or newer (nvidia-smi must list it)\n' +
      '  - build the CUDA addon: bash cuda/build.sh (needs nvcc), or point WTCONV_CUDA_PATH at a wtconv_cuda.node\n' +
      '  - or keep using the CPU backends (native, then WebAssembly), which run everywhere',
  };
}

export const nodePlatform: Platform = {
  name: 'node',

  cores: () => availableParallelism(),

  loadNativeAddon() {
    const tried: string[] = [];
    for (const file of nativeCandidates()) {
      if (!existsSync(file)) {
        tried.push(`${file}: not found`);
        continue;
      }
      const problem = probeInChild(file);
      if (problem) {
        tried.push(`${file}: ${problem}`);
        continue;
      }
      try {
        const addon = requireHere(file) as NativeAddon;
        const version = addon.runtimeInfo().version;
        if (version !== ADDON_VERSION) {
          tried.push(`${file}: built for wtconv ${version}, this is ${ADDON_VERSION}`);
          continue;
        }
        return { addon, reason: `native addon loaded from ${path.relative(process.cwd(), file) || file}` };
      } catch (e) {
        tried.push(`${file}: failed to load (${(e as Error).message.split('\n')[0]})`);
      }
    }
    return {
      reason:
        `no usable native addon for ${process.platform}-${process.arch} (tried ${tried.join('; ')})\n` +
        'Possible solutions:\n' +
        '  - build it from source: npm run build:native (needs cmake and a C++17 compiler)\n' +
        '  - point WTCONV_NATIVE_PATH at a wtconv.node built for this platform\n' +
        '  - or keep using the WebAssembly backend, which runs everywhere',
    };
  },

  loadCudaAddon,

  async wasmThreadsUsable() {
    return { ok: true, reason: 'Node.js runs the threaded WebAssembly module on worker_threads' };
  },

  async loadWasmModule(options: WasmLoadOptions): Promise<WasmModule> {
    const files = WASM_FILES[options.variant];
    const defaultDir = path.join(packageRoot, 'dist', 'wasm');
    const toPath = (p: string) => (p.startsWith('file:') ? fileURLToPath(p) : p);
    const gluePath = toPath(resolveWasmFile(files.glue, options.wasmPaths, defaultDir));
    const wasmPath = toPath(resolveWasmFile(files.wasm, options.wasmPaths, defaultDir));
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(wasmPath);
    } catch (e) {
      throw new WTConvError('E_BACKEND', `cannot read ${wasmPath}: ${(e as Error).message} (build it with npm run build:wasm, or set the wasmPaths option)`);
    }
    const bad = checkWasmBytes(bytes, wasmPath);
    if (bad) throw new WTConvError('E_BACKEND', bad);
    const create = requireHere(gluePath) as (m: object) => Promise<WasmModule>;
    const dir = path.dirname(gluePath);
    return create({
      wasmBinary: bytes,
      wtconvPoolSize: Math.max(0, options.threads - 1),
      mainScriptUrlOrBlob: gluePath,
      locateFile: (name: string) =>
        name.endsWith('.worker.js') && files.worker
          ? toPath(resolveWasmFile(files.worker, options.wasmPaths, dir))
          : path.join(dir, name),
      print: () => {},
      printErr: (s: string) => process.stderr.write(`wtconv(wasm): ${s}\n`),
    });
  },
};

export const currentPlatform = nodePlatform;
