// Several worker_threads use wtconv at once: the native addon (context-aware, one
// core shared by the process) and a WASM instance per worker. Every worker's
// results must equal the main thread's; errors stay in the worker that caused
// them, as WTConvErrors, and the library keeps working there and everywhere.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomTensor, randomWTConvParams } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = pathToFileURL(path.join(root, 'dist', 'node', 'index.mjs')).href;
const WORKERS = 4;
const ROUNDS = 25;

// Runs in each worker: the same seeded inputs as the main thread, ROUNDS times, with an
// invalid call and a core-level E_OOM between rounds.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const wt = await import(workerData.bundle);
  const { backend, threads, seed } = workerData;
  const info = await wt.init({ backend, threads });
  const rand = (shape, s) => {
    let a = s >>> 0;
    const d = new Float32Array(shape.reduce((p, v) => p * v, 1));
    for (let i = 0; i < d.length; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      d[i] = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
    }
    return new wt.Tensor(d, shape);
  };
  const x = rand([2, 4, 23, 19], seed);
  const params = {};
  for (const [k, shape] of workerData.paramShapes) params[k] = rand(shape, seed + k.length);
  const w = rand([6, 4, 3, 3], seed + 1);
  const results = [];
  const errors = [];
  for (let r = 0; r < workerData.rounds; r++) {
    const y = wt.wtconv2d(x, params, { levels: 2, wavelet: 'db2' });
    const g = wt.wtconv2dBackward(x, params, y, { levels: 2, wavelet: 'db2' });
    const c = wt.conv2d(x, w, null, { padding: 1, stride: [1, 2] });
    const bands = wt.dwt2d(x, { levels: 3, wavelet: 'db3' });
    if (r === 0 || r === workerData.rounds - 1) results.push([y.data, g.x.data, g['wavelet_convs.1.weight'].data, c.data, bands[2].data]);
    try {
      wt.wtconv2d(x, params, { levels: 0 });
      errors.push('no error');
    } catch (e) {
      errors.push(e instanceof wt.WTConvError ? e.code : String(e));
    }
  }
  parentPort.postMessage({ info, results, errors, stats: wt.runtimeStats() });
})().catch((e) => parentPort.postMessage({ failed: String(e && e.stack || e) }));
`;

function params(): Record<string, wt.Tensor> {
  return randomWTConvParams(4, 5, 2, true, 1);
}

interface Reply {
  info: wt.BackendInfo;
  results: Float32Array[][];
  errors: string[];
  stats: wt.RuntimeStats;
  failed?: string;
}

function runWorkers(backend: 'native' | 'wasm', threads: number): Promise<Reply[]> {
  const paramShapes = Object.entries(params()).map(([k, v]) => [k, v.shape]);
  return Promise.all(Array.from({ length: WORKERS }, () => new Promise<Reply>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bundle, backend, threads, seed: 7, paramShapes, rounds: ROUNDS } });
    worker.once('message', (m: Reply) => {
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', reject);
  })));
}

/** The main thread's answer for the same inputs (the worker's generator is helpers' randomTensor). */
function expected(): Float32Array[] {
  const x = randomTensor([2, 4, 23, 19], 7);
  const p: Record<string, wt.Tensor> = {};
  for (const [k, v] of Object.entries(params())) p[k] = randomTensor([...v.shape], 7 + k.length);
  const w = randomTensor([6, 4, 3, 3], 8);
  const y = wt.wtconv2d(x, p, { levels: 2, wavelet: 'db2' });
  const g = wt.wtconv2dBackward(x, p, y, { levels: 2, wavelet: 'db2' });
  return [y.data, g.x.data, g['wavelet_convs.1.weight'].data, wt.conv2d(x, w, null, { padding: 1, stride: [1, 2] }).data, wt.dwt2d(x, { levels: 3, wavelet: 'db3' })[2].data];
}

describe('worker_threads', () => {
  for (const [backend, threads] of [['native', 2], ['wasm', 2], ['wasm', 1]] as const) {
    it(`${WORKERS} workers on ${backend} (${threads} thread${threads > 1 ? 's' : ''} each) at once agree with the main thread`, async () => {
      await wt.init({ backend, threads });
      const want = expected();
      // The main thread keeps computing while the workers run.
      const replies = runWorkers(backend, threads);
      for (let i = 0; i < 20; i++) expect(expected()[0]).toEqual(want[0]);
      for (const reply of await replies) {
        expect(reply.failed).toBeUndefined();
        expect(reply.info.name).toBe(backend);
        if (backend === 'wasm') expect(reply.info.variant).toBe(threads > 1 ? 'threaded' : 'single-threaded');
        expect(reply.errors).toEqual(Array(ROUNDS).fill('E_ARG'));
        for (const round of reply.results) round.forEach((got, i) => expect(got, `output ${i}`).toEqual(want[i]));
      }
      // And the main thread's own instance is unaffected.
      expect(expected()).toEqual(want);
    });
  }
});
