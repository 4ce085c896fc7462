// CPU benchmark of WTConv2d (SPEC section 6): ours (native, WASM threaded, WASM
// single-threaded) against ONNX Runtime for Node, ONNX Runtime Web (WASM), the
// layer composed from TF.js ops on TF.js's WASM backend (bench/peers/tfjs_wtconv.mjs,
// its output checked against ours first) and PyTorch, in one run, on the same
// weights; each forward of ours takes turns with its counterparts' (native with
// ORT-node, WASM threaded with ORT-web and TF.js; timeWithPeers), and native's
// forward + backward with PyTorch's. Prints medians and ratios and
// writes bench/results/cpu-<date>.json.
//
//   node bench/cpu.mjs [--workloads b1,b2,b3,b4] [--repeat 10] [--threads 2] [--no-pytorch] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { benchOptions, heapCopy, loadTfjs, median, nativePeak, nhwcDistance, PeerServer, peersDir, randomFloats, root, timeWithPeers, toNhwc, wt } from './common.mjs';
import { createTfjsWTConv } from './peers/tfjs_wtconv.mjs';

const { opts, REPEAT, THREADS } = benchOptions({
  workloads: { type: 'string', default: 'b1,b2,b3,b4' },
  'no-pytorch': { type: 'boolean', default: false },
});

// SPEC section 6.
const WORKLOADS = {
  b1: { file: 'wtconv2d_b1_n16c64s64k5l1', n: 16, c: 64, h: 64, w: 64, k: 5, levels: 1 },
  b2: { file: 'wtconv2d_b2_n16c64s64k5l2', n: 16, c: 64, h: 64, w: 64, k: 5, levels: 2 },
  b3: { file: 'wtconv2d_b3_n1c64s224k5l2', n: 1, c: 64, h: 224, w: 224, k: 5, levels: 2 },
  b4: { file: 'wtconv2d_b4_n8c96s56k5l3', n: 8, c: 96, h: 56, w: 56, k: 5, levels: 3 },
};
const selected = opts.workloads.split(',').map((name) => {
  if (!WORKLOADS[name]) throw new Error(`--workloads: unknown '${name}' (accepted: ${Object.keys(WORKLOADS).join(', ')})`);
  return { name, ...WORKLOADS[name] };
});

/** Multiply-adds of the forward pass counted as 2 flops: the base conv, every
 * level's band convs and scales, and the Haar analysis / synthesis (4 taps per band output). */
function forwardFlops({ n, c, h, w, k, levels }) {
  let flops = 2 * k * k * n * c * h * w + 2 * n * c * h * w;
  for (let l = 0; l < levels; l++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
    const bands = 4 * n * c * h * w;
    flops += 2 * k * k * bands + bands + 2 * (2 * 4 * bands);
  }
  return flops;
}

function measurePeak() {
  const dir = path.join(root, 'build', 'bench');
  mkdirSync(dir, { recursive: true });
  const src = path.join(root, 'bench', 'peak', 'peak.cc');
  const wasm = path.join(dir, 'peak-wasm.cjs');
  const peak = {};
  try {
    peak.native = nativePeak(THREADS);
    peak.native1 = nativePeak(1);
  } catch (e) {
    peak.nativeError = e.message.split('\n')[0];
  }
  try {
    execFileSync('em++', ['-O3', '-msimd128', '-pthread', `-sPTHREAD_POOL_SIZE=${THREADS}`, '-sENVIRONMENT=node', '-sEXIT_RUNTIME=1', '-sSINGLE_FILE=1', src, '-o', wasm],
      { env: { ...process.env, NODE_PATH: process.env.NODE_PATH ?? '/usr/share/nodejs' }, stdio: 'ignore' });
    peak.wasm = JSON.parse(execFileSync(process.execPath, [wasm, String(THREADS)], { encoding: 'utf8' }).trim().split('\n').pop()).gflops;
    peak.wasm1 = JSON.parse(execFileSync(process.execPath, [wasm, '1'], { encoding: 'utf8' }).trim().split('\n').pop()).gflops;
  } catch (e) {
    peak.wasmError = e.message.split('\n')[0];
  }
  return peak;
}

/** Single-thread GFLOP/s of each microkernel (values a second of the GELU spans), per ISA variant this CPU runs (bench/kernels). */
function measureKernels() {
  const out = {};
  try {
    const built = execFileSync('bash', [path.join(root, 'bench', 'kernels', 'build.sh')], { encoding: 'utf8' }).trim().split('\n');
    for (const v of built) {
      const exe = v === 'wasm' ? [process.execPath, path.join(root, 'build/kernels/kernels-wasm.cjs')] : [path.join(root, `build/kernels/kernels-${v}`)];
      try {
        out[v] = JSON.parse(execFileSync(exe[0], [...exe.slice(1), 'bench'], { encoding: 'utf8' }));
      } catch {
        out[v] = 'not runnable on this CPU';
      }
    }
  } catch (e) {
    out.error = e.message.split('\n')[0];
  }
  return out;
}

async function loadOrt() {
  const peers = {};
  try {
    peers.node = await import('onnxruntime-node');
  } catch (e) {
    peers.nodeError = e.message;
  }
  try {
    peers.web = await import('onnxruntime-web');
    peers.web.env.wasm.numThreads = THREADS;
  } catch (e) {
    peers.webError = e.message;
  }
  return peers;
}

function pytorchAvailable() {
  if (opts['no-pytorch']) return 'disabled (--no-pytorch)';
  if (!existsSync('/usr/bin/python3')) return 'absent: /usr/bin/python3 not found';
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, pywt'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'absent: python3-torch / python3-pywt not installed (apt-get install python3-torch python3-pywt)';
  }
}

const ours = [
  { label: 'native', init: { backend: 'native', threads: THREADS }, peer: 'ort-node' },
  { label: 'wasm threaded', init: { backend: 'wasm', threads: THREADS }, peer: 'ort-web' },
  { label: 'wasm 1 thread', init: { backend: 'wasm', threads: 1 } },
  { label: 'native 1 thread', init: { backend: 'native', threads: 1 } },
];

const peers = await loadOrt();
const tfjs = await loadTfjs(THREADS);
const torchMissing = pytorchAvailable();
const steps = selected.length * (ours.length + 4) + 2;
const bar = new cliProgress.SingleBar({ format: 'bench [{bar}] {value}/{total} {task}', hideCursor: true }, cliProgress.Presets.shades_classic);
bar.start(steps, 0, { task: 'peak FLOP/s' });
const peak = measurePeak();
bar.increment({ task: 'microkernels' });
const kernels = measureKernels();
bar.increment({ task: '' });

const results = [];
for (const wl of selected) {
  const weightsFile = path.join(peersDir, `${wl.file}.weights.safetensors`);
  const sd = wt.loadSafetensors(new Uint8Array(readFileSync(weightsFile))).tensors;
  const shape = [wl.n, wl.c, wl.h, wl.w];
  const x = new wt.Tensor(randomFloats(wl.n * wl.c * wl.h * wl.w, 7), shape);
  const row = { workload: wl.name, shape, k: wl.k, levels: wl.levels, gflop: forwardFlops(wl) / 1e9, times: {} };

  // The ONNX Runtime sessions first: each forward of ours takes turns with its
  // counterpart's (native with ORT-node, WASM threaded with ORT-web; timePaired).
  const model = path.join(peersDir, `${wl.file}.onnx`);
  const sessions = {};
  for (const [label, ort, options] of [
    ['ort-node', peers.node, { intraOpNumThreads: THREADS, interOpNumThreads: 1 }],
    ['ort-web', peers.web, { executionProviders: ['wasm'] }],
  ]) {
    if (ort) {
      const session = await ort.InferenceSession.create(label === 'ort-web' ? readFileSync(model) : model, options);
      const input = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, shape) };
      sessions[label] = { session, run: () => session.run(input), version: ort.env.versions?.common ?? ort.env.versions?.node ?? 'unknown' };
    } else {
      row.times[label] = { absent: label === 'ort-node' ? peers.nodeError : peers.webError };
    }
    bar.increment();
  }

  // TF.js: the layer composed from its ops, fed channels-last data as its users
  // hold it (the tensor made from the array and the output read back per call,
  // as ours copies in and out); checked against our output before it is timed.
  let tfjsRun = null;
  if (tfjs.tf) {
    const { tf } = tfjs;
    const forwardTf = createTfjsWTConv(tf, sd, { channels: wl.c, kernelSize: wl.k, levels: wl.levels });
    const nhwc = toNhwc(x.data, shape), nhwcShape = [wl.n, wl.h, wl.w, wl.c];
    tfjsRun = () => {
      const input = tf.tensor4d(nhwc, nhwcShape);
      const y = forwardTf(input);
      const data = y.dataSync();
      tf.dispose([input, y]);
      return data;
    };
    await wt.init({ backend: 'native', threads: THREADS });
    const reference = new wt.WTConv2d({ channels: wl.c, kernelSize: wl.k, levels: wl.levels });
    reference.loadStateDict(sd);
    const distance = nhwcDistance(tfjsRun(), reference.forward(x).data, shape);
    if (!(distance <= 1e-5)) {
      row.times['tfjs-wasm'] = { absent: `its output differs from ours (relative L2 ${distance.toExponential(2)})` };
      tfjsRun = null;
    }
  } else {
    row.times['tfjs-wasm'] = { absent: tfjs.error };
  }

  // PyTorch's reference layer, served by a process of its own
  // (bench/peers/pytorch_wtconv.py --serve): its calls take turns with native's.
  let torch = null;
  if (torchMissing) {
    row.times.pytorch = { absent: torchMissing };
  } else {
    torch = await PeerServer.start(path.join(root, 'bench', 'peers', 'pytorch_wtconv.py'),
      [weightsFile, ...shape.map(String), String(wl.k), String(wl.levels), String(REPEAT), String(THREADS)]);
  }

  for (const b of ours) {
    bar.update({ task: `${wl.name} ${b.label}` });
    const info = await wt.init(b.init);
    const layer = new wt.WTConv2d({ channels: wl.c, kernelSize: wl.k, levels: wl.levels });
    layer.loadStateDict(sd);
    const gy = layer.forward(x);
    // The output is written into one preallocated tensor (the `out` option), as
    // a serving loop would, and the gradients into those of the call before
    // (`gradOut`), as a training loop would: fresh memory per call costs page
    // faults, which on this VM stretched single backward calls 2-4x.
    const out = wt.Tensor.zeros(gy.shape);
    const peer = sessions[b.peer];
    const withTorch = b.label === 'native' ? torch : null;
    // The threaded WASM module is also timed on tensors made by wt.zeros, which
    // live in its heap: no copies in or out of each call (its 'heap' times).
    const heap = b.label === 'wasm threaded' ? { x: heapCopy(x), gy: heapCopy(gy), out: wt.zeros(gy.shape), grads: null } : null;
    const times = await timeWithPeers(() => layer.forward(x, out), {
      ...(b.peer ? { [b.peer]: peer?.run ?? null } : {}),
      'tfjs-wasm': b.peer === 'ort-web' ? tfjsRun : null,
      heap: heap && (() => layer.forward(heap.x, heap.out)),
    }, REPEAT);
    const forward = times.ours;
    if (times[b.peer] !== undefined) row.times[b.peer] = { forward: times[b.peer], version: peer.version, takingTurnsWith: b.label };
    if (times['tfjs-wasm'] !== undefined) {
      row.times['tfjs-wasm'] = { forward: times['tfjs-wasm'], version: tfjs.version, threads: tfjs.threads, simd: tfjs.simd, takingTurnsWith: b.label };
    }
    let grads = layer.backward(gy);
    if (heap) heap.grads = Object.fromEntries(Object.entries(grads).map(([key, g]) => [key, wt.zeros(g.shape)]));
    const steps = await timeWithPeers(() => {
      layer.forward(x, out);
      grads = layer.backward(gy, grads);
    }, {
      pytorch: withTorch?.contestant('forward_backward') ?? null,
      heap: heap && (() => {
        layer.forward(heap.x, heap.out);
        layer.backward(heap.gy, heap.grads);
      }),
    }, REPEAT);
    const total = steps.ours;
    if (withTorch) {
      // Its forward alone (in the forwards' turns its long calls slowed the
      // calls of ours and ONNX Runtime's after them): not a goal's ratio.
      const forwardTimes = await withTorch.request('forward', REPEAT);
      row.times.pytorch = { forward: median(forwardTimes), forwardBackward: steps.pytorch, version: withTorch.header.torch, takingTurnsWith: b.label };
    }
    const stats = wt.runtimeStats();
    row.times[b.label] = {
      forward, forwardBackward: total, threads: info.threads, isa: info.isa, workspaceBytes: stats.workspaceBytes, heapBytes: stats.heapBytes,
      ...(heap ? { heapTensors: { forward: times.heap, forwardBackward: steps.heap } } : {}),
    };
    if (heap) for (const t of [heap.x, heap.gy, heap.out, ...Object.values(heap.grads)]) t.dispose();
    bar.increment();
  }
  for (const { session } of Object.values(sessions)) await session.release?.();

  torch?.close();
  bar.increment();

  // Thread scaling, paired: 1 and THREADS threads take turns (5 rounds each of
  // 3 warm-up and 4 timed forwards), so the host's drift hits both alike; the
  // ratio of the medians.
  bar.update({ task: `${wl.name} thread scaling` });
  row.scaling = {};
  for (const backend of ['native', 'wasm']) {
    const times = { 1: [], [THREADS]: [] };
    for (let round = 0; round < 10; round++) {
      const threads = round % 2 === 0 ? 1 : THREADS;
      await wt.init({ backend, threads });
      const layer = new wt.WTConv2d({ channels: wl.c, kernelSize: wl.k, levels: wl.levels });
      layer.loadStateDict(sd);
      const out = layer.forward(x);
      for (let i = 0; i < 2; i++) layer.forward(x, out);
      const t = performance.now();
      for (let i = 0; i < 4; i++) layer.forward(x, out);
      times[threads].push((performance.now() - t) / 4);
    }
    row.scaling[backend] = median(times[1]) / median(times[THREADS]);
  }
  bar.increment();
  results.push(row);
}
bar.stop();

// b2 memory: what the native backend holds beyond the tensors a training step needs anyway.
const ms = (v) => (v === undefined ? '—' : v.toFixed(1));
const ratio = (a, b) => (a && b ? `${(b / a).toFixed(1)}×` : '—');
console.log(`\nWTConv2d, ${os.cpus()[0].model}, ${THREADS} threads, median of ${REPEAT}; ms (lower is better)`);
console.log(`measured peak: native ${peak.native ?? '—'} GFLOP/s (FMA), wasm ${peak.wasm ?? '—'} GFLOP/s (SIMD128 mul+add)\n`);
const header = ['workload', 'native fwd', 'wasm fwd', 'wasm heap fwd', 'wasm-1t fwd', 'ort-node fwd', 'ort-web fwd', 'tfjs-wasm fwd', 'torch fwd', 'native f+b', 'wasm f+b', 'torch f+b', 'vs ort-node', 'wasm vs ort-web', 'wasm heap vs ort-web', 'wasm vs tfjs-wasm', 'f+b vs torch', 'native GFLOP/s', '% peak'];
console.log(header.join(' | '));
for (const r of results) {
  const t = r.times;
  const gflops = r.gflop / (t.native.forward / 1e3);
  console.log([
    r.workload, ms(t.native.forward), ms(t['wasm threaded'].forward), ms(t['wasm threaded'].heapTensors?.forward), ms(t['wasm 1 thread'].forward), ms(t['ort-node'].forward), ms(t['ort-web'].forward), ms(t['tfjs-wasm'].forward), ms(t.pytorch.forward),
    ms(t.native.forwardBackward), ms(t['wasm threaded'].forwardBackward), ms(t.pytorch.forwardBackward),
    ratio(t.native.forward, t['ort-node'].forward), ratio(t['wasm threaded'].forward, t['ort-web'].forward), ratio(t['wasm threaded'].heapTensors?.forward, t['ort-web'].forward), ratio(t['wasm threaded'].forward, t['tfjs-wasm'].forward), ratio(t.native.forwardBackward, t.pytorch.forwardBackward),
    gflops.toFixed(1), peak.native ? `${((100 * gflops) / peak.native).toFixed(0)}%` : '—',
  ].join(' | '));
}
for (const r of results) {
  const t = r.times;
  console.log(`${r.workload}: threads ${THREADS} vs 1 (paired) — native ${r.scaling.native.toFixed(2)}×, wasm ${r.scaling.wasm.toFixed(2)}×; wasm/native forward ${(t['wasm threaded'].forward / t.native.forward).toFixed(2)}×`);
}

const b2 = results.find((r) => r.workload === 'b2');
let memory;
if (b2) {
  const { n, c, h, w, k, levels } = WORKLOADS.b2;
  const tensorBytes = 4 * n * c * h * w * 4;  // x, y, grad_y, grad_x
  const paramBytes = 2 * 4 * (c * k * k + 2 * c + levels * (4 * c * k * k + 4 * c));  // parameters and their gradients
  const workspace = b2.times.native.workspaceBytes;
  memory = { tensorBytes, paramBytes, workspaceBytes: workspace, ratio: (tensorBytes + paramBytes + workspace) / (tensorBytes + paramBytes) };
  console.log(`b2 forward+backward memory (native): tensors ${(tensorBytes / 2 ** 20).toFixed(1)} MiB + parameters and gradients ${(paramBytes / 2 ** 10).toFixed(0)} KiB + scratch workspace ${(workspace / 2 ** 10).toFixed(0)} KiB = ${memory.ratio.toFixed(3)}× the minimum`);
}

// Shares of the 1-thread peaks: the native FMA loop for the native variants,
// the SIMD128 multiply-add loop for WASM.
console.log('\nmicrokernels, 1 thread, GFLOP/s (% of the 1-thread peak: native FMA, WASM SIMD128 mul+add); GELU spans in G values/s:');
for (const [variant, rows] of Object.entries(kernels)) {
  if (!Array.isArray(rows)) continue;
  const p1 = variant === 'wasm' ? peak.wasm1 : peak.native1;
  const name = (r) => (r.m !== undefined ? `${r.kernel} ${r.m}x${r.n}x${r.k}`
    : `${r.kernel.replace('dwconv2d_padded_', 'dw_').replace('haar_plane_', 'haar_')}${r.k ? ` k${r.k}` : ''} ${r.plane}²`);
  const cells = rows.map((r) => (r.gvalues !== undefined ? `${r.kernel.replace('_span_', '_')} ${r.count}: ${r.gvalues} G/s`
    : `${name(r)}: ${r.gflops}${p1 ? ` (${Math.round((100 * r.gflops) / p1)}%)` : ''}`));
  console.log(`  ${variant.padEnd(7)} ${cells.join(', ')}`);
}

const date = new Date().toISOString().slice(0, 10);
const out = opts.out ?? path.join(root, 'bench', 'results', `cpu-${date}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0].model, cores: os.availableParallelism(), memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, threads: THREADS, repeat: REPEAT, peakGflops: peak, memory, kernels, results }, null, 2) + '\n');
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
process.exit(0);
