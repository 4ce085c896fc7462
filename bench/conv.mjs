// CPU benchmark of the general convolutions and the GEMM behind them: the
// conv2d workloads of ../shared/peers (3x3, 1x1, depthwise 17x17, 4x4 stride-4
// patchify) on ours (native, WASM threaded, WASM single-threaded) against ONNX
// Runtime for Node and Web and TF.js's conv2d / depthwiseConv2d on its WASM
// backend (channels-last data, its output checked against ours first) on the
// same weights, and square GEMMs (as 1x1 convs: y (n x n) = W (n x n) * x (n x n))
// as GFLOP/s against the measured peak. Each forward of ours takes turns with
// its counterparts' (native with ORT-node, WASM threaded with ORT-web and TF.js;
// timeWithPeers).
// Prints medians and ratios and writes bench/results/conv-<date>.json.
//
//   node bench/conv.mjs [--workloads c1,c2,c3,c4] [--gemm 512,1024] [--repeat 10] [--threads 2] [--out FILE]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchOptions, heapCopy, loadTfjs, nativePeak, nhwcDistance, peersDir, randomFloats, root, timeIt, timeWithPeers, toNhwc, wt } from './common.mjs';

const { opts, REPEAT, THREADS } = benchOptions({
  workloads: { type: 'string', default: 'c1,c2,c3,c4' },
  gemm: { type: 'string', default: '512,1024' },
});

const WORKLOADS = {
  c1: 'conv2d_c1_n8c64s56k3',
  c2: 'conv2d_c2_n8c256to64s56k1',
  c3: 'conv2d_c3_n8c96s56k17dw',
  c4: 'conv2d_c4_n1c3s224k4s4',
};
const selected = opts.workloads ? opts.workloads.split(',').map((name) => {
  if (!WORKLOADS[name]) throw new Error(`--workloads: unknown '${name}' (accepted: ${Object.keys(WORKLOADS).join(', ')})`);
  return { name, file: WORKLOADS[name] };
}) : [];
const gemmSizes = opts.gemm ? opts.gemm.split(',').map(Number) : [];

const randomTensor = (shape, seed) => new wt.Tensor(randomFloats(shape.reduce((a, b) => a * b, 1), seed), shape);

/** The native peak (bench/peak/peak.cc), or null where it cannot be built. */
function peakOrNull() {
  try {
    return nativePeak(THREADS);
  } catch {
    return null;
  }
}

const ours = [
  ['native', { backend: 'native', threads: THREADS }, 'ort-node'],
  ['wasm threaded', { backend: 'wasm', threads: THREADS }, 'ort-web'],
  ['wasm 1 thread', { backend: 'wasm', threads: 1 }],
];
const peers = {};
for (const [label, mod] of [['ort-node', 'onnxruntime-node'], ['ort-web', 'onnxruntime-web']]) {
  try {
    peers[label] = await import(mod);
    if (label === 'ort-web') peers[label].env.wasm.numThreads = THREADS;
  } catch (e) {
    peers[label] = null;
  }
}

const tfjs = await loadTfjs(THREADS);

/**
 * The workload as a TF.js user runs it (channels-last data, the tensor made and
 * the output read back per call, as ours copies in and out), or why it cannot be.
 */
function tfjsConv(c, x, weight, bias) {
  if (!tfjs.tf) return { absent: tfjs.error };
  const { tf } = tfjs;
  const depthwise = c.groups === c.channels && c.out_channels === c.channels;
  if (c.groups !== 1 && !depthwise) return { absent: `groups ${c.groups}: TF.js has no grouped conv2d` };
  const k = c.kernel_size;
  // (out, in / groups, k, k) -> [k, k, in, out] (conv2d) or [k, k, channels, 1] (depthwise)
  const filter = tf.tidy(() => tf.transpose(tf.tensor4d(weight.data, weight.shape), depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]));
  const b = tf.tensor1d(bias.data);
  const nhwc = toNhwc(x.data, x.shape), shape = [c.N, c.H, c.W, c.channels];
  const run = () => {
    const input = tf.tensor4d(nhwc, shape);
    const y = tf.tidy(() => tf.add(depthwise ? tf.depthwiseConv2d(input, filter, c.stride, c.padding) : tf.conv2d(input, filter, c.stride, c.padding), b));
    const data = y.dataSync();
    tf.dispose([input, y]);
    return data;
  };
  return { run, version: tfjs.version, threads: tfjs.threads, simd: tfjs.simd };
}

const rows = [];
for (const wl of selected) {
  const { tensors, metadata } = wt.loadSafetensors(new Uint8Array(readFileSync(path.join(peersDir, `${wl.file}.weights.safetensors`))));
  const c = JSON.parse(metadata.config);
  const shape = [c.N, c.channels, c.H, c.W];
  const x = randomTensor(shape, 1);
  const convOpts = { stride: c.stride, padding: c.padding, groups: c.groups };
  const row = { workload: wl.name, file: wl.file, config: c, times: {} };
  // The ONNX Runtime sessions first: each forward of ours takes turns with its
  // counterpart's (native with ORT-node, WASM threaded with ORT-web).
  const model = path.join(peersDir, `${wl.file}.onnx`);
  const sessions = {};
  for (const [label, options] of [['ort-node', { intraOpNumThreads: THREADS, interOpNumThreads: 1 }], ['ort-web', { executionProviders: ['wasm'] }]]) {
    const ort = peers[label];
    if (!ort) continue;
    const session = await ort.InferenceSession.create(label === 'ort-web' ? readFileSync(model) : model, options);
    const input = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, shape) };
    sessions[label] = () => session.run(input);
  }
  const tf = tfjsConv(c, x, tensors.weight, tensors.bias);
  for (const [label, init, peer] of ours) {
    await wt.init(init);
    const y = wt.conv2d(x, tensors.weight, tensors.bias, convOpts);
    if (label === 'native' && tf.run) {
      const distance = nhwcDistance(tf.run(), y.data, y.shape);
      if (!(distance <= 1e-5)) Object.assign(tf, { run: null, absent: `its output differs from ours (relative L2 ${distance.toExponential(2)})` });
    }
    // Forward writes into one preallocated output (the `out` option), as a serving
    // loop would and as ONNX Runtime's arena does, and forward + backward also
    // writes the gradients into those of the call before (`gradOut`), as a
    // training loop would: fresh memory per call costs page faults, which the
    // kernel serialises across threads.
    const out = wt.Tensor.zeros(y.shape);
    // The threaded WASM module is also timed on tensors made by wt.zeros, which
    // live in its heap (a Conv2d module keeps its weight there too): no copies
    // in or out of each call (its 'heap' times).
    const heap = label === 'wasm threaded'
      ? { x: heapCopy(x), weight: heapCopy(tensors.weight), bias: tensors.bias && heapCopy(tensors.bias), out: wt.zeros(y.shape) }
      : null;
    const times = await timeWithPeers(() => wt.conv2d(x, tensors.weight, tensors.bias, { ...convOpts, out }), {
      ...(peer ? { [peer]: sessions[peer] ?? null } : {}),
      'tfjs-wasm': peer === 'ort-web' ? tf.run : null,
      heap: heap && (() => wt.conv2d(heap.x, heap.weight, heap.bias, { ...convOpts, out: heap.out })),
    }, REPEAT);
    if (heap) for (const t of Object.values(heap)) t?.dispose();
    let grads = wt.conv2dBackward(x, tensors.weight, tensors.bias, y, convOpts);
    const forwardBackward = await timeIt(() => {
      wt.conv2d(x, tensors.weight, tensors.bias, { ...convOpts, out });
      grads = wt.conv2dBackward(x, tensors.weight, tensors.bias, y, { ...convOpts, gradOut: grads });
    }, REPEAT);
    row.times[label] = { forward: times.ours, forwardBackward, ...(heap ? { heapTensors: { forward: times.heap } } : {}) };
    if (times[peer] !== undefined) row.times[peer] = { forward: times[peer], takingTurnsWith: label };
    if (times['tfjs-wasm'] !== undefined) row.times['tfjs-wasm'] = { forward: times['tfjs-wasm'], version: tf.version, threads: tf.threads, simd: tf.simd, takingTurnsWith: label };
  }
  if (!row.times['tfjs-wasm']) row.times['tfjs-wasm'] = { absent: tf.absent };
  rows.push(row);
}

const peak = gemmSizes.length ? peakOrNull() : null;
const gemm = [];
for (const n of gemmSizes) {
  const x = randomTensor([1, n, 1, n], 2);
  const w = randomTensor([n, n, 1, 1], 3);
  const entry = { n, gflops: {} };
  for (const [label, init] of ours) {
    await wt.init(init);
    const out = wt.Tensor.zeros([1, n, 1, n]);
    entry.gflops[label] = (2 * n ** 3) / (await timeIt(() => wt.conv2d(x, w, null, { out }), REPEAT)) / 1e6;
  }
  if (peak) entry.nativeFractionOfPeak = entry.gflops.native / peak;
  gemm.push(entry);
}

const ms = (v) => (v === undefined ? '—' : v.toFixed(2));
const ratio = (a, b) => (a === undefined || b === undefined ? '—' : `${(b / a).toFixed(2)}×`);
console.log('workload | native fwd | wasm fwd | wasm heap fwd | wasm-1t fwd | ort-node fwd | ort-web fwd | tfjs-wasm fwd | native f+b | native vs ort-node | wasm vs ort-web | wasm heap vs ort-web | wasm vs tfjs-wasm');
for (const r of rows) {
  const t = r.times;
  console.log([r.workload, ms(t.native.forward), ms(t['wasm threaded'].forward), ms(t['wasm threaded'].heapTensors?.forward), ms(t['wasm 1 thread'].forward), ms(t['ort-node']?.forward),
    ms(t['ort-web']?.forward), ms(t['tfjs-wasm']?.forward), ms(t.native.forwardBackward), ratio(t.native.forward, t['ort-node']?.forward),
    ratio(t['wasm threaded'].forward, t['ort-web']?.forward), ratio(t['wasm threaded'].heapTensors?.forward, t['ort-web']?.forward),
    ratio(t['wasm threaded'].forward, t['tfjs-wasm']?.forward)].join(' | '));
}
for (const g of gemm) {
  const pct = g.nativeFractionOfPeak ? ` (${(100 * g.nativeFractionOfPeak).toFixed(0)}% of the measured ${peak.toFixed(0)} GFLOP/s)` : '';
  console.log(`GEMM ${g.n}^3: native ${g.gflops.native.toFixed(1)} GFLOP/s${pct}, wasm ${g.gflops['wasm threaded'].toFixed(1)}, wasm 1 thread ${g.gflops['wasm 1 thread'].toFixed(1)}`);
}
const out = opts.out ?? path.join(root, 'bench', 'results', `conv-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), threads: THREADS, repeat: REPEAT, cpu: os.cpus()[0]?.model, peak, rows, gemm }, null, 2));
console.log(`wrote ${path.relative(process.cwd(), out)}`);
process.exit(0);
