// What the CPU benchmarks share: where things are, the package, the common
// command-line options, medians and timing, seeded inputs, the native peak probe.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
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

/** Median time in ms of `repeat` calls of fn after its warm-up (see timePaired). */
export async function timeIt(fn, repeat) {
  return (await timePaired([fn], repeat))[0];
}

/** Idle time, then untimed calls, at the head of each block of timePaired. */
const SETTLE_MS = 100;
const LEAD_IN_MS = 25;
/**
 * Untimed calls of each contestant before any is timed (at least two): JIT
 * compilers finish on background threads meanwhile, which would otherwise
 * take a core from the first blocks (the threaded WASM WaveMix predict() ran
 * 14.6-17.5 ms over its first 20 calls and 12.4-13.0 after).
 */
const WARM_UP_MS = 1000;

/**
 * Median times in ms of `repeat` calls of each of fns, taking turns in short
 * blocks after a warm-up of each (WARM_UP_MS). This host's speed drifts by up to 2x
 * between minutes; taking turns, the drift moves every contestant alike, so the
 * ratio of two medians holds where medians taken one after the other do not.
 * Each block starts with SETTLE_MS idle and then untimed calls (one, or more
 * for LEAD_IN_MS), which absorb what the previous contestant leaves behind
 * (ONNX Runtime's threads spin for tens of ms after a run, taking a core from
 * whoever runs next: measured, our next call ran 1.4x slower). A contestant is
 * a function (timed here) or { timed(count) } that makes count calls and
 * returns their times (a peer in another process, see PeerServer).
 */
export async function timePaired(fns, repeat, block = 3) {
  const run = async (fn, count) => {
    if (typeof fn !== 'function') return fn.timed(count);
    const times = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    return times;
  };
  for (const fn of fns) {
    const t = performance.now();
    for (let calls = 0; calls < 2 || performance.now() - t < WARM_UP_MS; calls++) await run(fn, 1);
  }
  const times = fns.map(() => []);
  while (times[0].length < repeat) {
    const calls = Math.min(block, repeat - times[0].length);
    for (let j = 0; j < fns.length; j++) {
      if (fns.length > 1) {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        const t = performance.now();
        do await run(fns[j], 1); while (performance.now() - t < LEAD_IN_MS);
      }
      times[j].push(...(await run(fns[j], calls)));
    }
  }
  return times.map(median);
}

/**
 * A peer script in another process (`/usr/bin/python3 script ... --serve`):
 * it prints a JSON header line, then answers each line "KIND COUNT" with
 * {"times": [ms, ...]} of COUNT calls it timed itself. contestant(kind) is
 * what timePaired takes.
 */
export class PeerServer {
  static async start(script, args) {
    const proc = spawn('/usr/bin/python3', [script, ...args, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const server = new PeerServer(proc);
    server.header = await server.next();
    return server;
  }

  constructor(proc) {
    this.proc = proc;
    this.lines = [];
    this.waiting = null;
    this.stderr = '';
    proc.stderr.on('data', (d) => (this.stderr += d));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (this.waiting) {
        const { resolve } = this.waiting;
        this.waiting = null;
        resolve(line);
      } else {
        this.lines.push(line);
      }
    });
    proc.on('exit', (code) => this.waiting?.reject(new Error(`${path.basename(proc.spawnargs[1])} exited (${code}): ${this.stderr.trim().split('\n').pop()}`)));
  }

  async next() {
    const line = this.lines.length ? this.lines.shift() : await new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
    return JSON.parse(line);
  }

  async request(kind, count) {
    this.proc.stdin.write(`${kind} ${count}\n`);
    return (await this.next()).times;
  }

  contestant(kind) {
    return { timed: (count) => this.request(kind, count) };
  }

  close() {
    this.proc.stdin.end();
  }
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

/** A copy of t made by wt.zeros: in the threaded WASM module's heap when that backend is active. */
export function heapCopy(t) {
  const r = wt.zeros(t.shape);
  r.data.set(t.data);
  return r;
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
