// WaveMixBlock / WaveMix as modules: state dicts (names, running statistics,
// errors naming the keys), sizes, train / eval, dropout; the optimisers
// against PyTorch; a short training run whose loss falls.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, fixtureNames, loadFixture, randomTensor } from './helpers.js';

const fixtureState = (name: string) => {
  const { tensors } = loadFixture(name);
  const sd: Record<string, wt.Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (!/^(x|grad_y|grad\.|eval\.|train\.)/.test(k)) sd[k] = v;
  return sd;
};

describe('WaveMix modules (native)', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'native', threads: 2 });
  });

  it('state dict keys, order and shapes are the PyTorch modules\'', () => {
    expect(fixtureNames('wavemix_').length).toBeGreaterThanOrEqual(3);
    const block = new wt.WaveMixBlock({ level: 3, ffChannel: 8, finalDim: 16, seed: 1 });
    const ref = fixtureState('wavemix_block_l3.safetensors');
    expect(Object.keys(block.stateDict())).toEqual(Object.keys(ref));
    for (const [k, v] of Object.entries(block.stateDict())) expect(v.shape, k).toEqual(ref[k].shape);
    const model = new wt.WaveMix({ numClasses: 10, depth: 2, ffChannel: 16, finalDim: 16, level: 2, patchSize: 4, seed: 1 });
    expect(Object.keys(model.stateDict())).toEqual(Object.keys(fixtureState('wavemix_model_l2.safetensors')));
    expect(Object.keys(model.params)).not.toContain('conv.4.running_mean');
    expect(Object.keys(new wt.WaveMixBlock({ level: 1 }).stateDict())[0]).toBe('feedforward.0.weight');
  });

  it('PyTorch init: BatchNorm 1 / 0 / running 0 / 1, conv and linear uniform within 1 / sqrt(fan_in)', () => {
    const m = new wt.WaveMix({ numClasses: 10, depth: 1, finalDim: 16, ffChannel: 8, level: 1, seed: 3 });
    const sd = m.stateDict();
    expect(Array.from(sd['conv.4.weight'].data).every((v) => v === 1)).toBe(true);
    expect(Array.from(sd['conv.4.running_var'].data).every((v) => v === 1)).toBe(true);
    expect(Array.from(sd['layers.0.feedforward.5.running_mean'].data).every((v) => v === 0)).toBe(true);
    const w = sd['layers.0.feedforward.0.weight'].data;  // fan_in 16
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.2);
    const same = new wt.WaveMix({ numClasses: 10, depth: 1, finalDim: 16, ffChannel: 8, level: 1, seed: 3 });
    expect(Array.from(same.params['pool.2.weight'].data)).toEqual(Array.from(m.params['pool.2.weight'].data));
  });

  it('loadStateDict names missing, unexpected and mis-shaped keys; accepts num_batches_tracked', () => {
    const block = new wt.WaveMixBlock({ level: 3, ffChannel: 8, finalDim: 16 });
    const sd = fixtureState('wavemix_block_l3.safetensors');
    const missing = { ...sd };
    delete missing['feedforward2.5.running_var'];
    expect(() => block.loadStateDict(missing)).toThrow(/missing keys 'feedforward2\.5\.running_var'/);
    expect(() => block.loadStateDict({ ...sd, 'feedforward9.0.weight': sd['reduction.bias'] })).toThrow(/unexpected keys 'feedforward9\.0\.weight'/);
    expect(() => block.loadStateDict({ ...sd, 'feedforward1.0.weight': wt.Tensor.zeros([32, 16, 1, 1]) })).toThrow(
      expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/'feedforward1\.0\.weight' has shape \[32, 16, 1, 1\], expected \[32, 24, 1, 1\]/) }),
    );
    block.loadStateDict({ ...sd, 'feedforward1.5.num_batches_tracked': wt.tensor([3], [1]) });
    block.loadStateDict({ ...sd, extra: sd['reduction.bias'] }, { strict: false });
    expect(Array.from(block.stateDict()['feedforward3.5.running_var'].data)).toEqual(Array.from(sd['feedforward3.5.running_var'].data));
    expect(() => block.loadStateDict({ ...sd, 'feedforward1.5.bias': [1, 2] as unknown as wt.Tensor })).toThrow(expect.objectContaining({ code: 'E_DTYPE' }));
  });

  it('a state dict saved as safetensors loads into a fresh model with the same outputs', () => {
    const cfg = { numClasses: 5, depth: 2, finalDim: 16, ffChannel: 8, level: 2, patchSize: 2, inChannels: 1, dropout: 0 };
    const a = new wt.WaveMix({ ...cfg, seed: 1 });
    const x = randomTensor([2, 1, 16, 16], 7);
    a.forward(x);  // a training step moves the running statistics
    const bytes = wt.saveSafetensors(a.stateDict());
    const b = new wt.WaveMix({ ...cfg, seed: 2 });
    b.loadStateDict(wt.loadSafetensors(bytes).tensors);
    expect(Array.from(b.eval().forward(x).data)).toEqual(Array.from(a.eval().forward(x).data));
  });

  it('sizes not divisible by 2^level, wrong channels, backward before forward: WTConvError', () => {
    const block = new wt.WaveMixBlock({ level: 3, finalDim: 16 });
    expect(() => block.backward(randomTensor([1, 16, 8, 8], 1))).toThrow(expect.objectContaining({ code: 'E_STATE' }));
    expect(() => block.forward(randomTensor([1, 16, 12, 16], 1))).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/divisible by 2\^level = 8.*12x16/) }));
    expect(() => block.forward(randomTensor([1, 8, 16, 16], 1))).toThrow(/expected 16 channels/);
    expect(() => new wt.WaveMixBlock({ level: 5 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new wt.WaveMixBlock({ level: 1, finalDim: 18 })).toThrow(/multiple of 4/);
    const model = new wt.WaveMix({ numClasses: 3, depth: 1, finalDim: 8, ffChannel: 4, level: 2, patchSize: 2, inChannels: 1 });
    expect(() => model.forward(randomTensor([1, 1, 12, 12], 1))).toThrow(/patchSize \* 2\^level = 8/);
    expect(() => model.forward(randomTensor([1, 3, 16, 16], 1))).toThrow(/expected 1 channels/);
  });

  it('train() uses batch statistics, dropout and updates running stats; eval() is deterministic and leaves them', () => {
    const m = new wt.WaveMix({ numClasses: 4, depth: 2, finalDim: 16, ffChannel: 8, level: 2, patchSize: 2, inChannels: 1, dropout: 0.5, seed: 9 });
    const x = randomTensor([4, 1, 16, 16], 2);
    const rm = () => Array.from(m.stateDict()['layers.1.feedforward1.5.running_mean'].data);
    const before = rm();
    const a = m.forward(x);
    const b = m.forward(x);
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));  // new dropout masks
    expect(rm()).not.toEqual(before);
    const grads = m.backward(wt.tensor(Array(16).fill(0.25), [4, 4]));
    expect(Object.keys(grads).sort()).toEqual(['x', ...Object.keys(m.params)].sort());
    for (const [k, g] of Object.entries(grads)) expect(g.data.every(Number.isFinite), k).toBe(true);
    m.eval();
    const stats = rm();
    const e1 = m.forward(x);
    const e2 = m.forward(x);
    expect(Array.from(e1.data)).toEqual(Array.from(e2.data));
    expect(rm()).toEqual(stats);
    // a batch of one in eval mode is fine
    expect(m.forward(randomTensor([1, 1, 16, 16], 3)).shape).toEqual([1, 4]);
  });

  it('predict() is the eval forward in any mode, leaves the running stats, and keeps nothing for backward()', () => {
    const m = new wt.WaveMix({ numClasses: 4, depth: 2, finalDim: 16, ffChannel: 8, level: 2, patchSize: 2, inChannels: 1, dropout: 0.5, seed: 9 });
    const x = randomTensor([4, 1, 16, 16], 2);
    m.forward(x);  // running statistics away from their init
    const stats = Array.from(m.stateDict()['layers.0.feedforward2.5.running_var'].data);
    const evalY = Array.from(m.eval().forward(x).data);
    m.train();
    const p1 = m.predict(x);
    expect(m.training).toBe(true);
    expect(Array.from(m.stateDict()['layers.0.feedforward2.5.running_var'].data)).toEqual(stats);
    const scale = Math.max(...evalY.map(Math.abs));
    p1.data.forEach((v, i) => expect(Math.abs(v - evalY[i])).toBeLessThanOrEqual(1e-5 * scale));
    expect(Array.from(m.predict(x).data)).toEqual(Array.from(p1.data));  // no dropout
    expect(() => m.backward(wt.tensor(Array(16).fill(1), [4, 4]))).toThrow(/predict\(\) keeps nothing/);
    // predict() runs the stem's second and third convs as one, composed again
    // when their parameters change in place (as an optimiser's step does), and
    // the blocks' first 1x1 convs with their columns in band order, reordered
    // again when they change
    const P = m.params;
    P['conv.1.weight'].data[5] += 0.25;
    P['conv.2.bias'].data[3] -= 0.5;
    P['conv.2.weight'].data[P['conv.2.weight'].data.length - 1] *= -1;
    P['layers.0.feedforward2.0.weight'].data[3] += 0.5;  // row 0, a band column
    P['layers.1.feedforward1.0.weight'].data[16 + 1] -= 0.5;  // row 0 of 24 columns: a level-2 column; a band column in row 1 below
    P['layers.1.feedforward1.0.weight'].data[24 + 2] *= -2;
    // (against a fresh model with the changed parameters: the forward of m
    // reorders the same way predict() does)
    const fresh = new wt.WaveMix({ numClasses: 4, depth: 2, finalDim: 16, ffChannel: 8, level: 2, patchSize: 2, inChannels: 1, dropout: 0.5, seed: 1 });
    fresh.loadStateDict(m.stateDict());
    const changedY = Array.from(fresh.eval().forward(x).data);
    const changedScale = Math.max(...changedY.map(Math.abs));
    expect(changedY).not.toEqual(evalY);
    m.eval().forward(x).data.forEach((v, i) => expect(Math.abs(v - changedY[i])).toBeLessThanOrEqual(1e-5 * changedScale));
    m.predict(x).data.forEach((v, i) => expect(Math.abs(v - changedY[i])).toBeLessThanOrEqual(1e-5 * changedScale));
    // patches of 4: a 6x6 conv of stride 4
    const m4 = new wt.WaveMix({ numClasses: 3, depth: 1, finalDim: 16, ffChannel: 8, level: 1, patchSize: 4, inChannels: 2, dropout: 0, seed: 5 }).eval();
    const x4 = randomTensor([2, 2, 16, 24], 6);
    const y4 = Array.from(m4.forward(x4).data), scale4 = Math.max(...y4.map(Math.abs));
    m4.predict(x4).data.forEach((v, i) => expect(Math.abs(v - y4[i])).toBeLessThanOrEqual(1e-5 * scale4));
    const block = new wt.WaveMixBlock({ level: 2, finalDim: 8, ffChannel: 4, dropout: 0, seed: 1 });
    const xb = randomTensor([2, 8, 8, 8], 3);
    block.forward(xb);
    const blockEval = Array.from(block.eval().forward(xb).data);
    const blockScale = Math.max(...blockEval.map(Math.abs));
    block.predict(xb).data.forEach((v, i) => expect(Math.abs(v - blockEval[i])).toBeLessThanOrEqual(1e-5 * blockScale));
    expect(() => block.backward(randomTensor([2, 8, 8, 8], 4))).toThrow(/predict\(\) keeps nothing/);
  });

  it('activations are reused between calls, never what a caller holds: logits and a lone block\'s output stay valid', () => {
    const m = new wt.WaveMix({ numClasses: 3, depth: 2, finalDim: 8, ffChannel: 8, level: 1, patchSize: 2, inChannels: 1, dropout: 0, seed: 4 }).eval();
    const x1 = randomTensor([2, 1, 8, 8], 5), x2 = randomTensor([2, 1, 8, 8], 6);
    const y1 = m.forward(x1);
    const kept = Array.from(y1.data);
    const y2 = m.forward(x2);
    expect(Array.from(y1.data)).toEqual(kept);  // a new tensor per call
    expect(Array.from(m.forward(x1).data)).toEqual(kept);  // the reused activations give the same result
    expect(Array.from(m.forward(x2).data)).toEqual(Array.from(y2.data));
    expect(m.forward(randomTensor([3, 1, 8, 8], 7)).shape).toEqual([3, 3]);  // another batch size: new activations
    expect(Array.from(m.forward(x1).data)).toEqual(kept);
    const block = new wt.WaveMixBlock({ level: 2, finalDim: 8, ffChannel: 4, dropout: 0, seed: 1 }).eval();
    const b1 = block.forward(randomTensor([2, 8, 8, 8], 8));
    const b1Kept = Array.from(b1.data);
    block.forward(randomTensor([2, 8, 8, 8], 9));
    expect(Array.from(b1.data)).toEqual(b1Kept);
  });

  it('the gradients backward() hands between layers are reused, the ones it returns are new', () => {
    const m = new wt.WaveMix({ numClasses: 3, depth: 2, finalDim: 8, ffChannel: 8, level: 2, patchSize: 2, inChannels: 1, dropout: 0, seed: 4 });
    const x1 = randomTensor([2, 1, 8, 8], 15), x2 = randomTensor([2, 1, 8, 8], 16);
    const g = randomTensor([2, 3], 17);
    m.forward(x1);
    const first = m.backward(g);
    const kept = Object.fromEntries(Object.entries(first).map(([k, t]) => [k, Array.from(t.data)]));
    m.forward(x2);
    const second = m.backward(g);
    for (const [k, t] of Object.entries(first)) {
      expect(Array.from(t.data), k).toEqual(kept[k]);  // not overwritten by the second call
      expect(second[k], k).not.toBe(t);
    }
    m.forward(x1);
    const again = m.backward(g);
    for (const [k, t] of Object.entries(again)) expect(Array.from(t.data), k).toEqual(kept[k]);  // reused gradients, same result
    const block = new wt.WaveMixBlock({ level: 2, finalDim: 8, ffChannel: 4, dropout: 0, seed: 1 });
    const bx = randomTensor([2, 8, 8, 8], 18), bg = randomTensor([2, 8, 8, 8], 19);
    block.forward(bx);
    const gx = block.backward(bg).x;
    const gxKept = Array.from(gx.data);
    block.forward(randomTensor([2, 8, 8, 8], 20));
    block.backward(bg);
    expect(Array.from(gx.data)).toEqual(gxKept);
  });
});

describe('WaveMixBlock gradients against finite differences (native)', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'native', threads: 2 });
  });
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

  for (const level of [2, 4]) {
    it(`level ${level}, training mode: x and every parameter along random directions`, () => {
      const block = new wt.WaveMixBlock({ level, finalDim: 8, ffChannel: 4, mult: 2, dropout: 0, seed: level });
      const x = randomTensor([2, 8, 32, 32], 60 + level);
      const gy = randomTensor([2, 8, 32, 32], 70 + level);
      const f = () => dot(gy.data, block.forward(x).data);
      f();
      const grads = block.backward(gy);
      // BatchNorm makes the block far from linear in its weights: a small step, and a bound
      // (1e-2) above the float32 noise of f / 2h; a wrong gradient is off by O(1).
      const h = 2e-3;
      let seed = 80;
      for (const [name, t] of [['x', x] as const, ...Object.entries(block.params)]) {
        const dir = randomTensor([...t.shape], seed++);
        const orig = t.data.slice();
        t.data.forEach((v, i) => (t.data[i] = orig[i] + h * dir.data[i]));
        const plus = f();
        t.data.forEach((v, i) => (t.data[i] = orig[i] - h * dir.data[i]));
        const minus = f();
        t.data.set(orig);
        const numeric = (plus - minus) / (2 * h);
        const analytic = dot(grads[name].data, dir.data);
        expect(Math.abs(numeric - analytic), `${name}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(1e-2 * Math.max(1, Math.abs(analytic)));
      }
    });
  }
});

describe('optimisers (PyTorch 1.13 values, float64 reference)', () => {
  const p0 = [0.5, -1.0, 2.0, 0.0];
  const grads = [[0.1, -0.2, 0.3, -0.4], [-0.5, 0.25, 0.0, 1.0], [0.3, 0.3, -0.3, 0.05]];
  const run = (make: (p: Record<string, wt.Tensor>) => { step(g: Record<string, wt.Tensor>): void }) => {
    const params = { w: wt.tensor(p0, [4]) };
    const opt = make(params);
    for (const g of grads) opt.step({ w: wt.tensor(g, [4]), x: wt.tensor([1], [1]) });
    return Array.from(params.w.data);
  };
  const cases: [string, (p: Record<string, wt.Tensor>) => { step(g: Record<string, wt.Tensor>): void }, number[]][] = [
    ['SGD momentum, dampening, weight decay', (p) => new wt.SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), [0.528735806495, -1.01028236299, 1.93517103408, -0.0671557676]],
    ['SGD Nesterov', (p) => new wt.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), [0.54001486198, -1.04805047396, 1.93806853651, -0.14299064564]],
    ['AdamW', (p) => new wt.AdamW(p, { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }), [0.49540312329, -0.99523900994, 1.97953808448, 0.00112001099174]],
    ['AdamW AMSGrad', (p) => new wt.AdamW(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true }), [0.495244392648, -0.993935889772, 1.97819413158, 0.00185121334317]],
  ];
  for (const [name, make, ref] of cases) {
    it(name, () => {
      run(make).forEach((v, i) => expect(Math.abs(v - ref[i]), `${i}: ${v} vs ${ref[i]}`).toBeLessThan(2e-6));
    });
  }
  it('bad options', () => {
    const p = { w: wt.tensor(p0, [4]) };
    expect(() => new wt.SGD(p, { lr: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => new wt.SGD(p, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => new wt.AdamW(p, { betas: [0.9, 1] })).toThrow(/betas/);
    expect(() => new wt.AdamW(p).step({ w: wt.tensor([1], [1]) })).toThrow(/gradient 'w'/);
  });
});

/** Four classes of 16x16 images: a bright 4x4 square in one quadrant, on noise. */
function quadrantBatch(n: number, seed: number): { x: wt.Tensor; labels: number[] } {
  const noise = randomTensor([n, 1, 16, 16], seed);
  const labels = Array.from({ length: n }, (_, i) => (i * 7 + seed) % 4);
  labels.forEach((c, i) => {
    const oy = 2 + 8 * (c >> 1), ox = 2 + 8 * (c & 1);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) noise.data[i * 256 + (oy + y) * 16 + ox + x] += 2;
  });
  return { x: noise, labels };
}

for (const b of BACKENDS.slice(0, 2)) {
  describe(`training on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    it('a small WaveMix with AdamW: the loss falls clearly in 25 steps', () => {
      const m = new wt.WaveMix({ numClasses: 4, depth: 1, finalDim: 16, ffChannel: 8, level: 1, patchSize: 2, inChannels: 1, dropout: 0.1, seed: 4 });
      const opt = new wt.AdamW(m.params, { lr: 1e-2, weightDecay: 1e-4 });
      const losses: number[] = [];
      for (let step = 0; step < 25; step++) {
        const { x, labels } = quadrantBatch(16, step);
        const { loss, grad } = wt.crossEntropy(m.forward(x), labels);
        losses.push(loss);
        opt.step(m.backward(grad));
      }
      const first = (losses[0] + losses[1] + losses[2]) / 3;
      const last = (losses[22] + losses[23] + losses[24]) / 3;
      expect(first).toBeGreaterThan(1.2);  // about ln 4 at the start
      expect(last, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.4 * first);
      const test = quadrantBatch(32, 1000);
      const logits = m.eval().forward(test.x);
      let correct = 0;
      test.labels.forEach((c, i) => {
        const row = Array.from(logits.data.subarray(i * 4, i * 4 + 4));
        if (row.indexOf(Math.max(...row)) === c) correct++;
      });
      expect(correct).toBeGreaterThanOrEqual(28);
    });
  });
}
