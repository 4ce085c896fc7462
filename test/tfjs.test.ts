// wtconv/tfjs: the WTConv2D layer in TensorFlow.js: NHWC in and out with the numbers of
// the NCHW op, gradients through tf.grad / variableGrads (checked by finite
// differences), model.fit lowering the loss, and model save/load keeping predictions.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { WTConv2D, wtconv2D } from '../ts/tfjs/index.js';
import { expectParity, randomTensor } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nhwcToNchw = (t: tf.Tensor4D) => new wt.Tensor(Float32Array.from(t.transpose([0, 3, 1, 2]).dataSync()), [t.shape[0], t.shape[3], t.shape[1], t.shape[2]]);

describe('WTConv2D for TF.js', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await wt.init({ backend: 'native' });
  });

  it('computes the NCHW op on NHWC tensors, forward and backward, with strides', () => {
    const layer = new WTConv2D({ kernelSize: 3, levels: 2, strides: 2, wavelet: 'db2' });
    const x = tf.tensor4d(randomTensor([2, 9, 11, 3], 1).data, [2, 9, 11, 3]);
    const y = layer.apply(x) as tf.Tensor4D;
    expect(y.shape).toEqual([2, 5, 6, 3]);
    expect(layer.computeOutputShape([null, 9, 11, 3])).toEqual([null, 5, 6, 3]);
    const sd = layer.stateDict();
    expect(Object.keys(sd)).toEqual(['base_conv.weight', 'base_conv.bias', 'base_scale.weight', 'wavelet_convs.0.weight', 'wavelet_scale.0.weight', 'wavelet_convs.1.weight', 'wavelet_scale.1.weight']);
    const opts = { levels: 2, stride: 2, wavelet: 'db2' as const };
    const xn = nhwcToNchw(x);
    expectParity(nhwcToNchw(y), wt.wtconv2d(xn, sd, opts), 'y');

    // d(sum(y * r))/dx and /dweights through TF.js against the op's backward.
    const r = tf.tensor4d(randomTensor([2, 5, 6, 3], 2).data, [2, 5, 6, 3]);
    const dx = tf.grad((t: tf.Tensor) => (layer.apply(t) as tf.Tensor).mul(r).sum())(x) as tf.Tensor4D;
    const ref = wt.wtconv2dBackward(xn, sd, nhwcToNchw(r), opts);
    expectParity(nhwcToNchw(dx), ref.x, 'grad x');
    const { grads } = tf.variableGrads(() => (layer.apply(x) as tf.Tensor).mul(r).sum() as tf.Scalar);
    for (const [name, g] of Object.entries(grads)) {
      const key = name.slice(name.indexOf('/') + 1);
      expectParity(new wt.Tensor(Float32Array.from(g.dataSync()), g.shape), ref[key], `grad ${key}`);
    }
    expect(Object.keys(grads).length).toBe(7);
  });

  it('draws its initial weights from `seed`: the same seed, the same weights', () => {
    const x = tf.zeros([1, 8, 8, 4]);
    const weights = (seed?: number) => {
      const layer = new WTConv2D({ kernelSize: 3, levels: 2, seed });
      layer.apply(x);
      return Object.fromEntries(Object.entries(layer.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
    };
    const a = weights(7);
    expect(weights(7)).toEqual(a);
    const b = weights(8);
    expect(b['base_conv.weight']).not.toEqual(a['base_conv.weight']);
    expect(b['wavelet_convs.1.weight']).not.toEqual(a['wavelet_convs.1.weight']);
    expect(a['base_conv.weight']).not.toEqual(a['wavelet_convs.0.weight'].slice(0, a['base_conv.weight'].length));  // one stream per weight
    expect(a['base_conv.weight'].every((v) => Math.abs(v) <= 1 / 3)).toBe(true);  // the kaiming-uniform bound 1 / k
  });

  it('has weight gradients that match finite differences of the loss', () => {
    const layer = wtconv2D({ kernelSize: 3, levels: 1 });
    const x = tf.tensor4d(randomTensor([1, 6, 6, 2], 3).data, [1, 6, 6, 2]);
    const r = tf.tensor4d(randomTensor([1, 6, 6, 2], 4).data, [1, 6, 6, 2]);
    const loss = () => (layer.apply(x) as tf.Tensor).mul(r).sum() as tf.Scalar;
    loss();  // builds the layer
    const { grads } = tf.variableGrads(loss);
    for (const v of layer.trainableWeights) {
      const analytic = grads[v.originalName].dataSync();
      const values = v.read().dataSync().slice();
      for (const i of [0, values.length - 1]) {
        const at = (d: number) => {
          const p = values.slice();
          p[i] += d;
          v.write(tf.tensor(p, v.shape));
          return loss().dataSync()[0];
        };
        const numeric = (at(1e-2) - at(-1e-2)) / 2e-2;
        v.write(tf.tensor(values, v.shape));
        expect(Math.abs(numeric - analytic[i]), `${v.originalName}[${i}]`).toBeLessThan(2e-3 * Math.max(1, Math.abs(analytic[i])));
      }
    }
  });

  it('trains with model.fit and survives save / load', async () => {
    const model = tf.sequential();
    model.add(tf.layers.inputLayer({ inputShape: [8, 8, 2] }));
    model.add(new WTConv2D({ kernelSize: 3, levels: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 1, kernelInitializer: 'zeros' }));
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    // Target: a large-scale feature (the mean of a blurred channel) the layer must learn.
    const xs = tf.tensor4d(randomTensor([32, 8, 8, 2], 5).data, [32, 8, 8, 2]);
    const ys = xs.slice([0, 0, 0, 0], [32, 8, 8, 1]).mean([1, 2, 3]).reshape([32, 1]).mul(4);
    const h = await model.fit(xs, ys, { epochs: 30, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(0.2 * losses[0]);

    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    expect(JSON.stringify(saved!.modelTopology)).toMatch(/"class_name":"WTConv2D","config":\{[^}]*"kernel_size":3,"levels":2,"strides":\[1,1\],"use_bias":true,"wavelet":"db1"\}/);
    expect(saved!.weightSpecs!.map((s) => s.name)).toContain(`${model.layers.find((l) => l instanceof WTConv2D)!.name}/wavelet_convs.1.weight`);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const restored = loaded.layers.find((l) => l.getClassName() === 'WTConv2D');
    expect(restored).toBeInstanceOf(WTConv2D);
    expect((restored as WTConv2D).levels).toBe(2);
    const a = (model.predict(xs) as tf.Tensor).dataSync();
    const b = (loaded.predict(xs) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('checks its options and input shape', () => {
    expect(() => new WTConv2D({ levels: 0 })).toThrow(wt.WTConvError);
    expect(() => new WTConv2D({ kernelSize: 3 }).apply(tf.zeros([2, 8]))).toThrow(/expected an NHWC input/);
  });

  it('loads as wtconv/tfjs from the built package (import and require), sharing the runtime of wtconv', () => {
    const body = `await wt.init({ backend: 'wasm', threads: 1 });
      const y = new WTConv2D({ kernelSize: 3, levels: 2 }).apply(tf.ones([1, 8, 8, 3]));
      console.log(JSON.stringify({ shape: y.shape, backend: wt.backend().name, finite: Array.from(y.dataSync()).every(Number.isFinite) }));`;
    const esm = `import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu'; import * as wt from 'wtconv'; import { WTConv2D } from 'wtconv/tfjs'; ${body}`;
    const cjs = `const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu'); const wt = require('wtconv'); const { WTConv2D } = require('wtconv/tfjs'); (async () => { ${body} })();`;
    for (const args of [['--input-type=module', '-e', esm], ['-e', cjs]]) {
      const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(JSON.parse(out)).toEqual({ shape: [1, 8, 8, 3], backend: 'wasm', finite: true });
    }
  });
});
