// CPU benchmark of the WaveMix model (SPEC section 4b) on the peer workload
// ../shared/peers/wavemix_w1_n16d64l1 (WaveMix-Lite-64/6-like, 16x3x32x32):
// eval forward and a training step (forward + backward, batch statistics) on
// ours (native, WASM threaded, WASM single-threaded), the eval forward of the
// exported ONNX model on ONNX Runtime for Node and Web, and both on PyTorch
// (bench/peers/pytorch_wavemix.py, when /usr/bin/python3 has torch), same weights.
// Each eval forward of ours takes turns, call by call, with its ONNX Runtime
// counterpart's. Prints medians and ratios and writes bench/results/wavemix-<date>.json.
//
//   node bench/wavemix.mjs [--repeat 10] [--threads 2] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchOptions, peersDir, root, timeIt, timePaired, wt } from './common.mjs';

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

const times = {};
for (const [label, init, peer] of [['native', { backend: 'native', threads: THREADS }, 'ort-node'], ['wasm threaded', { backend: 'wasm', threads: THREADS }, 'ort-web'], ['wasm 1 thread', { backend: 'wasm', threads: 1 }]]) {
  await wt.init(init);
  const model = new wt.WaveMix({
    numClasses: c.num_classes, depth: c.depth, mult: c.mult, ffChannel: c.ff_channel, finalDim: c.final_dim,
    level: c.level, patchSize: c.patch_size, inChannels: c.in_channels, dropout: 0,
  });
  model.loadStateDict(tensors);
  model.eval();
  const [evalForward, peerEval] = await timePaired([() => model.forward(x), ...(peers[peer] ? [peers[peer]] : [])], REPEAT);
  times[label] = { evalForward };
  if (peerEval !== undefined) times[peer] = { evalForward: peerEval, takingTurnsWith: label };
  model.train();
  times[label].trainStep = await timeIt(() => model.backward(wt.crossEntropy(model.forward(x), labels).grad), REPEAT);
  model.loadStateDict(tensors);  // undo the running-statistics updates
}

// PyTorch: the same model on the same input; its first logits must match ours.
let ourLogits = null;
{
  await wt.init({ backend: 'native', threads: THREADS });
  const model = new wt.WaveMix({
    numClasses: c.num_classes, depth: c.depth, mult: c.mult, ffChannel: c.ff_channel, finalDim: c.final_dim,
    level: c.level, patchSize: c.patch_size, inChannels: c.in_channels, dropout: 0,
  });
  model.loadStateDict(tensors);
  ourLogits = Array.from(model.eval().forward(x).data.subarray(0, c.num_classes));
}
try {
  if (!existsSync('/usr/bin/python3')) throw new Error('/usr/bin/python3 not found');
  execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  const r = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench', 'peers', 'pytorch_wavemix.py'),
    path.join(peersDir, `${FILE}.weights.safetensors`), String(REPEAT), String(THREADS)], { encoding: 'utf8' }));
  const scale = Math.max(...ourLogits.map(Math.abs));
  const maxDiff = Math.max(...r.eval_logits.map((v, i) => Math.abs(v - ourLogits[i])));
  if (!(maxDiff <= 1e-4 * scale)) throw new Error(`PyTorch's logits differ from ours by ${maxDiff} (scale ${scale}): not the same model`);
  times.pytorch = { evalForward: r.eval_forward_ms, trainStep: r.train_step_ms, version: r.torch };
} catch (e) {
  times.pytorch = { absent: e.message.split('\n')[0] };
}

console.log(`${FILE} (${shape.join('x')}, ${THREADS} threads), medians of ${REPEAT} runs in ms (ORT eval forwards taking turns with ours)`);
for (const [label, t] of Object.entries(times)) {
  if (t.absent) {
    console.log(`  ${label.padEnd(14)} absent: ${t.absent}`);
    continue;
  }
  console.log(`  ${label.padEnd(14)} eval forward ${t.evalForward.toFixed(1).padStart(8)}${t.trainStep !== undefined ? `   training step ${t.trainStep.toFixed(1).padStart(8)}` : ''}`);
}
const ratio = (a, b) => (times[a] && times[b] ? (times[b].evalForward / times[a].evalForward).toFixed(2) : 'n/a');
console.log(`  native vs ort-node: ${ratio('native', 'ort-node')}x; wasm threaded vs ort-web: ${ratio('wasm threaded', 'ort-web')}x (eval forward, > 1 is faster)`);
if (times.pytorch?.trainStep) {
  console.log(`  vs PyTorch: eval forward native ${ratio('native', 'pytorch')}x; training step native ${(times.pytorch.trainStep / times.native.trainStep).toFixed(2)}x, wasm threaded ${(times.pytorch.trainStep / times['wasm threaded'].trainStep).toFixed(2)}x`);
}
const out = opts.out ?? path.join(root, 'bench', 'results', `wavemix-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ workload: FILE, config: c, threads: THREADS, repeat: REPEAT, cpu: os.cpus()[0]?.model, times }, null, 2));
console.log(`results: ${out}`);
