// CPU benchmark of the DCLS layer's own cost: a Dcls2d layer (kernel built from
// kernelCount weights at learnable positions, then a convolution with it) against
// a Conv2d with the same dilated kernel size, forward + backward, at 56x56. The
// difference is the kernel construction and its backward (weights and positions);
// the goal is at most 10%. Workloads: the depthwise layer of ConvNeXt-dcls (C96,
// 34 weights in 17x17, groups = C) and a dense one (C64 -> 64, 9 weights in 7x7).
// The two run alternately; the overhead is the median of the paired ratios.
// Prints medians and the overhead, and writes bench/results/dcls-<date>.json.
//
//   node bench/dcls.mjs [--repeat 10] [--threads 2] [--out FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchOptions, median, root, wt } from './common.mjs';

const { opts, REPEAT, THREADS } = benchOptions();

const WORKLOADS = [
  { name: 'd1 depthwise C96 N8 56² 17x17 (34 weights)', n: 8, c: 96, out: 96, size: 56, k: 17, count: 34, groups: 96 },
  { name: 'd2 dense C64->64 N8 56² 7x7 (9 weights)', n: 8, c: 64, out: 64, size: 56, k: 7, count: 9, groups: 1 },
];

/** Runs a and b alternately (so slow phases of a shared machine hit both): medians of each and of the ratios a / b. */
function timePair(a, b) {
  for (let i = 0; i < 2; i++) (a(), b());
  const ta = [], tb = [], ratio = [];
  for (let i = 0; i < REPEAT; i++) {
    let t = performance.now();
    a();
    ta.push(performance.now() - t);
    t = performance.now();
    b();
    tb.push(performance.now() - t);
    ratio.push(ta[i] / tb[i]);
  }
  return { a: median(ta), b: median(tb), ratio: median(ratio) };
}
const random = (shape, seed) => {
  let s = seed;
  return new wt.Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1), shape);
};

const rows = [];
for (const [label, init] of [['native', { backend: 'native', threads: THREADS }], ['wasm', { backend: 'wasm', threads: THREADS }]]) {
  await wt.init(init);
  for (const w of WORKLOADS) {
    const x = random([w.n, w.c, w.size, w.size], 1);
    const pad = (w.k - 1) / 2;
    const dcls = new wt.Dcls2d({ inChannels: w.c, outChannels: w.out, kernelCount: w.count, dilatedKernelSize: w.k, padding: pad, groups: w.groups, seed: 1 });
    const conv = new wt.Conv2d({ inChannels: w.c, outChannels: w.out, kernelSize: w.k, padding: pad, groups: w.groups, seed: 1 });
    const gy = random([w.n, w.out, w.size, w.size], 2);
    // Both write into the output and gradients of the call before, as a
    // training loop would (fresh memory per call is timed as page faults).
    const dclsOut = dcls.forward(x), convOut = conv.forward(x);
    let dclsGrads = dcls.backward(gy), convGrads = conv.backward(gy);
    const t = timePair(() => {
      dcls.forward(x, dclsOut);
      dclsGrads = dcls.backward(gy, dclsGrads);
    }, () => {
      conv.forward(x, convOut);
      convGrads = conv.backward(gy, convGrads);
    });
    rows.push({ backend: label, workload: w.name, dclsMs: t.a, convMs: t.b, overhead: t.ratio - 1 });
  }
}

console.log(`DCLS layer vs a plain conv with the same dilated kernel, forward + backward, ${THREADS} threads, medians of ${REPEAT} runs in ms`);
for (const r of rows) {
  console.log(`  ${r.backend.padEnd(7)} ${r.workload.padEnd(44)} Dcls2d ${r.dclsMs.toFixed(1).padStart(8)}   Conv2d ${r.convMs.toFixed(1).padStart(8)}   overhead ${(100 * r.overhead).toFixed(1)}%`);
}
const out = opts.out ?? path.join(root, 'bench', 'results', `dcls-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version }, threads: THREADS, repeat: REPEAT, rows }, null, 2) + '\n');
console.log(`results: ${path.relative(root, out)}`);
