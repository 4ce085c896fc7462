// CPU benchmark of the WaveMix model (SPEC section 4b) on the peer workload
// ../shared/peers/wavemix_w1_n16d64l1 (WaveMix-Lite-64/6-like, 16x3x32x32):
// eval forward (ours: predict(), inference with the BatchNorms folded in; also
// the eval-mode forward that keeps the activations for backward) and a training
// step (forward + backward, batch statistics) on ours (native, WASM threaded,
// WASM single-threaded), the eval forward of the
// exported ONNX model on ONNX Runtime for Node and Web, and both on PyTorch
// (bench/peers/pytorch_wavemix.py, when /usr/bin/python3 has torch), and the
// model composed from TF.js ops on TF.js's WASM backend (bench/peers/tfjs_wavemix.mjs,
// channels-last; its logits checked against ours first), same weights. Each eval
// forward of ours takes turns with its counterparts' (native with ORT-node, WASM
// threaded with ORT-web and TF.js), and native's training step with PyTorch's. Prints medians and ratios and writes bench/results/wavemix-<date>.json.
//
//   node bench/wavemix.mjs [--repeat 10] [--threads 2] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchOptions, loadTfjs, median, PeerServer, peersDir, root, timeIt, timeWithPeers, toNhwc, wt } from './common.mjs';
import { createTfjsWaveMix } from './peers/tfjs_wavemix.mjs';

const { opts, REPEAT, THREADS } = benchOptions();
const FILE = 'wavemix_w1_n16d64l1';


const { tensors, metadata } = wt.loadSafetensors(new Uint8Array(readFileSync(path.join(peersDir, `${FILE}.weights.safetensors`))));
const c = JSON.parse(metadata.config);
const shape = [c.N, c.in_channels, c.H, c.W];
const x = new wt.Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), shape);
const labels = Array.from({ length: c.N }, (_, i) => i % c.num_classes);

// The ONNX Runtime sessions first: each eval forward of ours takes turns, call
// by call, with its counterpart's (native with ORT-node, WASM threaded with
// ORT-web), so the ratio is measured over the same minutes.
const peers = {};
for (const [label, mod, options] of [['ort-node', 'onnxruntime-node', { intraOpNumThreads: THREADS, interOpNumThreads: 1 }], ['ort-web', 'onnxruntime-web', { executionProviders: ['wasm'] }]]) {
  let ort;
  try {
    ort = await import(mod);
  } catch {
    continue;
  }
  if (label === 'ort-web') ort.env.wasm.numThreads = THREADS;
  const file = path.join(peersDir, `${FILE}.onnx`);
  const session = await ort.InferenceSession.create(label === 'ort-web' ? readFileSync(file) : file, options);
  const input = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, shape) };
  peers[label] = () => session.run(input);
}

// Our logits (native): PyTorch's and TF.js's must match them.
let ourLogits = null;
{
  await wt.init({ backend: 'native', threads: THREADS });
  const model = new wt.WaveMix({
    numClasses: c.num_classes, depth: c.depth, mult: c.mult, ffChannel: c.ff_channel, finalDim: c.final_dim,
    level: c.level, patchSize: c.patch_size, inChannels: c.in_channels, dropout: 0,
  });
  model.loadStateDict(tensors);
  ourLogits = Float32Array.from(model.eval().forward(x).data);
}

// TF.js: the model composed from its ops, fed channels-last data (the tensor
// made and the logits read back per call, as ours copies in and out).
const tfjs = await loadTfjs(THREADS);
let tfjsRun = null;
if (tfjs.tf) {
  const { tf } = tfjs;
  const forwardTf = createTfjsWaveMix(tf, tensors, c);
  const nhwc = toNhwc(x.data, shape);
  tfjsRun = () => {
    const input = tf.tensor4d(nhwc, [c.N, c.H, c.W, c.in_channels]);
    const y = forwardTf(input);
    const logits = y.dataSync();
    tf.dispose([input, y]);
    return logits;
  };
  const theirs = tfjsRun();
  const scale = Math.max(...ourLogits.map(Math.abs));
  const maxDiff = Math.max(...theirs.map((v, i) => Math.abs(v - ourLogits[i])));
  if (!(maxDiff <= 1e-4 * scale)) {
    tfjs.error = `its logits differ from ours by ${maxDiff} (scale ${scale}): not the same model`;
    tfjsRun = null;
  }
}

// PyTorch: the same model on the same input, served by a process of its own
// (bench/peers/pytorch_wavemix.py --serve) so that its calls take turns with
// native's like the other peers'; its first logits must match ours.
let torch = null;
let torchAbsent = null;
try {
  if (!existsSync('/usr/bin/python3')) throw new Error('/usr/bin/python3 not found');
  execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  torch = await PeerServer.start(path.join(root, 'bench', 'peers', 'pytorch_wavemix.py'), [path.join(peersDir, `${FILE}.weights.safetensors`), String(REPEAT), String(THREADS)]);
  const scale = Math.max(...ourLogits.subarray(0, c.num_classes).map(Math.abs));
  const maxDiff = Math.max(...torch.header.eval_logits.map((v, i) => Math.abs(v - ourLogits[i])));
  if (!(maxDiff <= 1e-4 * scale)) throw new Error(`PyTorch's logits differ from ours by ${maxDiff} (scale ${scale}): not the same model`);
} catch (e) {
  torch?.close();
  torch = null;
  torchAbsent = e.message.split('\n')[0];
}

const times = {};
for (const [label, init, peer] of [['native', { backend: 'native', threads: THREADS }, 'ort-node'], ['wasm threaded', { backend: 'wasm', threads: THREADS }, 'ort-web'], ['wasm 1 thread', { backend: 'wasm', threads: 1 }]]) {
  await wt.init(init);
  const model = new wt.WaveMix({
    numClasses: c.num_classes, depth: c.depth, mult: c.mult, ffChannel: c.ff_channel, finalDim: c.final_dim,
    level: c.level, patchSize: c.patch_size, inChannels: c.in_channels, dropout: 0,
  });
  model.loadStateDict(tensors);
  model.eval();
  // Inference (predict: BatchNorms and residual sums folded into the transposed
  // convs, nothing kept for backward) is what takes turns with the inference
  // engines; the eval-mode forward, which keeps the activations for backward, is timed after.
  const evals = await timeWithPeers(() => model.predict(x), {
    ...(peer ? { [peer]: peers[peer] ?? null } : {}),
    'tfjs-wasm': peer === 'ort-web' ? tfjsRun : null,
  }, REPEAT);
  times[label] = { evalForward: evals.ours, evalForwardKeepingActivations: await timeIt(() => model.forward(x), REPEAT) };
  if (evals[peer] !== undefined) times[peer] = { evalForward: evals[peer], takingTurnsWith: label };
  if (evals['tfjs-wasm'] !== undefined) times['tfjs-wasm'] = { evalForward: evals['tfjs-wasm'], version: tfjs.version, threads: tfjs.threads, simd: tfjs.simd, takingTurnsWith: label };
  model.train();
  const step = () => model.backward(wt.crossEntropy(model.forward(x), labels).grad);
  const steps = await timeWithPeers(step, { pytorch: label === 'native' ? torch?.contestant('train') ?? null : null }, REPEAT);
  times[label].trainStep = steps.ours;
  if (steps.pytorch !== undefined) {
    // Its eval forward alone (in the eval forwards' turns its long calls slowed
    // the calls of ours and ONNX Runtime's after them): not a goal's ratio.
    const evalTimes = await torch.request('eval', REPEAT);
    times.pytorch = { evalForward: median(evalTimes), trainStep: steps.pytorch, version: torch.header.torch, takingTurnsWith: label };
  }
  model.loadStateDict(tensors);  // undo the running-statistics updates
}

torch?.close();
if (!times.pytorch) times.pytorch = { absent: torchAbsent };

console.log(`${FILE} (${shape.join('x')}, ${THREADS} threads), medians of ${REPEAT} runs in ms (ORT eval forwards taking turns with ours)`);
for (const [label, t] of Object.entries(times)) {
  if (t.absent) {
    console.log(`  ${label.padEnd(14)} absent: ${t.absent}`);
    continue;
  }
  const kept = t.evalForwardKeepingActivations !== undefined ? ` (forward keeping activations ${t.evalForwardKeepingActivations.toFixed(1)})` : '';
  console.log(`  ${label.padEnd(14)} eval forward ${t.evalForward.toFixed(1).padStart(8)}${kept}${t.trainStep !== undefined ? `   training step ${t.trainStep.toFixed(1).padStart(8)}` : ''}`);
}
const ratio = (a, b) => (times[a] && times[b] ? (times[b].evalForward / times[a].evalForward).toFixed(2) : 'n/a');
if (!times['tfjs-wasm']) times['tfjs-wasm'] = { absent: tfjs.error };
console.log(`  native vs ort-node: ${ratio('native', 'ort-node')}x; wasm threaded vs ort-web: ${ratio('wasm threaded', 'ort-web')}x, vs tfjs-wasm: ${ratio('wasm threaded', 'tfjs-wasm')}x (eval forward, > 1 is faster)`);
if (times.pytorch?.trainStep) {
  console.log(`  vs PyTorch: eval forward native ${ratio('native', 'pytorch')}x; training step native ${(times.pytorch.trainStep / times.native.trainStep).toFixed(2)}x, wasm threaded ${(times.pytorch.trainStep / times['wasm threaded'].trainStep).toFixed(2)}x`);
}
const out = opts.out ?? path.join(root, 'bench', 'results', `wavemix-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ workload: FILE, config: c, threads: THREADS, repeat: REPEAT, cpu: os.cpus()[0]?.model, times }, null, 2));
console.log(`results: ${out}`);
