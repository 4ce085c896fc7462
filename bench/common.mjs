// What the CPU benchmarks share: where things are, the package, the common
// command-line options, medians and timing, seeded inputs, the native peak probe.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const peersDir = path.resolve(root, '..', 'shared', 'peers');
export const wt = await import(path.join(root, 'dist', 'node', 'index.mjs'));

/** --repeat, --threads and --out, plus a benchmark's own options: { opts, REPEAT, THREADS }. */
export function benchOptions(extra = {}) {
  const { values: opts } = parseArgs({
    options: {
      ...extra,
      repeat: { type: 'string', default: '10' },
      threads: { type: 'string', default: String(Math.min(os.availableParallelism(), 2)) },
      out: { type: 'string' },
    },
  });
  return { opts, REPEAT: Number(opts.repeat), THREADS: Number(opts.threads) };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median time in ms of `repeat` calls of fn after two warm-up calls. */
export async function timeIt(fn, repeat) {
  return (await timePaired([fn], repeat))[0];
}

/** Idle time, then untimed calls, at the head of each block of timePaired. */
const SETTLE_MS = 100;
const LEAD_IN_MS = 25;

/**
 * Median times in ms of `repeat` calls of each of fns, taking turns in short
 * blocks after two warm-up rounds. This host's speed drifts by up to 2x
 * between minutes; taking turns, the drift moves every contestant alike, so the
 * ratio of two medians holds where medians taken one after the other do not.
 * Each block starts with SETTLE_MS idle and then untimed calls (one, or more
 * for LEAD_IN_MS), which absorb what the previous contestant leaves behind
 * (ONNX Runtime's threads spin for tens of ms after a run, taking a core from
 * whoever runs next: measured, our next call ran 1.4x slower).
 */
export async function timePaired(fns, repeat, block = 3) {
  for (let i = 0; i < 2; i++) for (const fn of fns) await fn();
  const times = fns.map(() => []);
  while (times[0].length < repeat) {
    const calls = Math.min(block, repeat - times[0].length);
    for (let j = 0; j < fns.length; j++) {
      if (fns.length > 1) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const t = performance.now();
        do await fns[j](); while (performance.now() - t < LEAD_IN_MS);
      }
      for (let i = 0; i < calls; i++) {
        const t = performance.now();
        await fns[j]();
        times[j].push(performance.now() - t);
      }
    }
  }
  return times.map(median);
}

/**
 * Ours and its counterparts taking turns (timePaired): `peers` maps a label to
 * its call, or to null where that peer is absent or not paired with this run of
 * ours. Returns the medians keyed 'ours' and each label timed.
 */
export async function timeWithPeers(ours, peers, repeat) {
  const present = Object.entries(peers).filter(([, fn]) => fn);
  const times = await timePaired([ours, ...present.map(([, fn]) => fn)], repeat);
  return Object.fromEntries([['ours', times[0]], ...present.map(([label], i) => [label, times[i + 1]])]);
}

/** `size` floats in [-0.5, 0.5) from a linear congruential generator: the same input on every run. */
export function randomFloats(size, seed) {
  const x = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  return x;
}

/** bench/peak/peak.cc built natively (FMA) into build/bench/peak when missing or older than its source. */
export function nativePeakBinary() {
  const bin = path.join(root, 'build', 'bench', 'peak');
  const src = path.join(root, 'bench', 'peak', 'peak.cc');
  if (!existsSync(bin) || statSync(src).mtimeMs > statSync(bin).mtimeMs) {
    mkdirSync(path.dirname(bin), { recursive: true });
    execFileSync('g++', ['-O3', '-march=native', '-ffp-contract=fast', '-pthread', src, '-o', bin]);
  }
  return bin;
}

/** GFLOP/s of the native peak probe on `threads` threads. */
export function nativePeak(threads) {
  return JSON.parse(execFileSync(nativePeakBinary(), [String(threads)], { encoding: 'utf8' })).gflops;
}

/** TF.js (core + its WASM backend, dev dependencies) asked for `threads` threads, or why not. */
export async function loadTfjs(threads) {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
    wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) return { error: "TF.js's wasm backend did not initialise" };
    return { tf, version: tf.version_core, threads: wasm.getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') };
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  }
}

/** x (n, c, h, w) as channels-last data, the layout a TF.js user holds. */
export function toNhwc(x, [n, c, h, w]) {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(i * h * w + p) * c + ch] = x[(i * c + ch) * h * w + p];
  return out;
}

/** Relative L2 distance between TF.js's NHWC output and ours (NCHW). */
export function nhwcDistance(nhwc, ours, [n, c, h, w]) {
  let e2 = 0, r2 = 0;
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) {
    const a = ours[(i * c + ch) * h * w + p], d = nhwc[(i * h * w + p) * c + ch] - a;
    e2 += d * d;
    r2 += a * a;
  }
  return Math.sqrt(e2 / r2);
}
