// The layers WaveMix is built from, on every backend: the residual sum, GELU, BatchNorm2d,
// Linear against PyTorch values and finite differences; dropout's masks;
// pooling and concatenation; bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, dot, expectDirectional, shifted } from './helpers.js';

function expectClose(actual: Float32Array, expected: number[], tol: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i] - e), `${what}[${i}]: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e))));
}

// torch.nn.functional.gelu and its derivative in float64 (PyTorch 1.13).
const GELU_X = [-5, -3, -1.5, -0.5, -1e-3, 0, 1e-3, 0.3, 1, 2.5, 4, 6];
const GELU_Y = [-1.43325786e-6, -0.00404969409, -0.100210802, -0.154268769, -0.000499601058, 0, 0.000500398942, 0.185373427, 0.841344746, 2.48447584, 3.99987332, 5.99999999];
const GELU_D = [-7.146946e-6, -0.0119456472, -0.127469192, 0.132504875, 0.499202116, 0.5, 0.500797884, 0.732327767, 1.08331547, 1.03761109, 1.00050365, 1.00000004];

// nn.BatchNorm2d(3) in float64 on x = 2 sin(1.7 i) + 0.3, i = 0..23, shape (2, 3, 2, 2): one
// training step from the statistics of bnParams(), then eval with the updated ones.
const BN_X = () => new wt.Tensor(Float32Array.from({ length: 24 }, (_, i) => 2 * Math.sin(1.7 * i) + 0.3), [2, 3, 2, 2]);
const BN_TRAIN_Y = [0.0764424424, 2.18282864, -0.466350086, -1.89007209, -0.122271101, -0.337872289, 0.723482616, 0.665584332, 1.97410157, 0.663183532, -3.18700225, -0.883933729];
const BN_EVAL_Y = [-0.0919333919, 1.99714074, -0.630264793, -2.04228545, -0.668722943, -1.03843357, 0.781566545, 0.682283184, 2.7046598, 1.23198147, -3.0932967, -0.50604181];
const BN_RUNNING_MEAN = [0.482218131, -0.142170215, 0.131396266];
const BN_RUNNING_VAR = [2.0279744, 0.677772815, 1.57752767];

function bnParams() {
  return {
    weight: wt.tensor([1.5, -0.5, 2.0], [3]),
    bias: wt.tensor([0.1, 0.2, -0.3], [3]),
    mean: wt.tensor([0.5, -0.2, 0.1], [3]),
    var: wt.tensor([2.0, 0.5, 1.5], [3]),
  };
}

for (const b of BACKENDS) {
  describe(`WaveMix layers on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    it('add: the element-wise sum, into a new tensor or in place; shapes checked', () => {
      const a = randomTensor([3, 5, 7, 9], 11), c = randomTensor([3, 5, 7, 9], 12);  // several blocks and a tail
      const sum = wt.add(a, c);
      expect(sum.shape).toEqual([3, 5, 7, 9]);
      sum.data.forEach((v, i) => expect(v).toBe(Math.fround(a.data[i] + c.data[i])));
      const before = Float32Array.from(a.data);
      expect(wt.add(a, c, a)).toBe(a);
      a.data.forEach((v, i) => expect(v).toBe(Math.fround(before[i] + c.data[i])));
      expect(wt.add(wt.tensor([1, 2], [2]), wt.tensor([0.5, -4], [2])).data).toEqual(Float32Array.from([1.5, -2]));
      expect(() => wt.add(a, randomTensor([3, 5, 7, 8], 1))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
      expect(() => wt.add(a, c, randomTensor([1], 1))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
      expect(() => wt.add(a, [1, 2] as unknown as wt.Tensor)).toThrow(wt.WTConvError);
    });

    it('GELU: PyTorch values, derivative and finite differences', () => {
      const x = wt.tensor(GELU_X, [2, 6]);
      expectClose(wt.gelu(x).data, GELU_Y, 2e-6, 'gelu');
      expectClose(wt.geluBackward(x, wt.tensor(Array(12).fill(1), [2, 6])).data, GELU_D, 2e-6, 'gelu derivative');
      const big = randomTensor([3, 5, 7, 9], 1);  // vector body and tails
      big.data.forEach((v, i) => (big.data[i] = 4 * v));
      const gy = randomTensor([3, 5, 7, 9], 2);
      const g = wt.geluBackward(big, gy);
      expectDirectional((t) => dot(gy.data, wt.gelu(t).data), big, g, 3, 1e-2, 2e-3, 'gelu grad.x');
    });

    it("GELU and BatchNorm2d write into an 'out' tensor when given one (checked like the convolutions')", () => {
      const x = randomTensor([3, 5, 7, 9], 21);
      const out = wt.Tensor.zeros([3, 5, 7, 9]);
      out.data.fill(Number.NaN);  // every element must be written
      expect(wt.gelu(x, { out })).toBe(out);
      expect(Array.from(out.data)).toEqual(Array.from(wt.gelu(x).data));
      const p = { weight: randomTensor([5], 22), bias: randomTensor([5], 23), mean: randomTensor([5], 24), var: wt.tensor([1, 2, 3, 4, 5], [5]) };
      const bnOut = wt.Tensor.zeros([3, 5, 7, 9]);
      bnOut.data.fill(Number.NaN);
      const ev = wt.batchNorm2d(x, p.weight, p.bias, p.mean, p.var, { training: false, out: bnOut });
      expect(ev.y).toBe(bnOut);
      expect(Array.from(bnOut.data)).toEqual(Array.from(wt.batchNorm2d(x, p.weight, p.bias, p.mean, p.var, { training: false }).y.data));
      expect(() => wt.gelu(x, { out: randomTensor([3, 5, 7, 8], 1) })).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
      expect(() => wt.gelu(x, { out: x })).toThrow(/'out': must not share memory with x/);
      expect(() => wt.batchNorm2d(x, p.weight, p.bias, p.mean, p.var, { training: false, out: x })).toThrow(/'out': must not share memory with x/);
      expect(() => wt.batchNorm2d(x, p.weight, p.bias, p.mean, p.var, { training: false, out: randomTensor([3, 5], 1) })).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    });

    it('BatchNorm2d: training output, running statistics, eval output (PyTorch values)', () => {
      const p = bnParams();
      const train = wt.batchNorm2d(BN_X(), p.weight, p.bias, p.mean, p.var, { training: true });
      expectClose(train.y.data.subarray(0, 12), BN_TRAIN_Y, 2e-6, 'train y');
      expectClose(p.mean.data, BN_RUNNING_MEAN, 2e-6, 'running_mean');
      expectClose(p.var.data, BN_RUNNING_VAR, 2e-6, 'running_var');
      // eval with the updated statistics, which it leaves alone
      const before = Array.from(p.mean.data);
      const ev = wt.batchNorm2d(BN_X(), p.weight, p.bias, p.mean, p.var, { training: false });
      expectClose(ev.y.data.subarray(0, 12), BN_EVAL_Y, 2e-6, 'eval y');
      expect(Array.from(p.mean.data)).toEqual(before);
    });

    for (const training of [true, false]) {
      it(`BatchNorm2d (${training ? 'training' : 'eval'}): finite differences of x, weight and bias`, () => {
        const x = randomTensor([3, 4, 5, 3], 10);
        const w = randomTensor([4], 11);
        const bias = randomTensor([4], 12);
        const stats = () => ({ m: randomTensor([4], 13), v: new wt.Tensor(randomTensor([4], 14).data.map((a) => 1 + Math.abs(a)), [4]) });
        const run = (xx: wt.Tensor, ww: wt.Tensor, bb: wt.Tensor) => {
          const s = stats();
          return wt.batchNorm2d(xx, ww, bb, s.m, s.v, { training });
        };
        const { y, saved } = run(x, w, bias);
        const gy = randomTensor([...y.shape], 15);
        const g = wt.batchNorm2dBackward(x, w, saved, gy);
        expectDirectional((t) => dot(gy.data, run(t, w, bias).y.data), x, g.x, 16, 1e-2, 2e-3, 'grad.x');
        expectDirectional((t) => dot(gy.data, run(x, t, bias).y.data), w, g.weight, 17, 1e-2, 2e-3, 'grad.weight');
        expectDirectional((t) => dot(gy.data, run(x, w, t).y.data), bias, g.bias, 18, 1e-2, 2e-3, 'grad.bias');
        if (training) {
          // the batch mean removes any constant: sum of grad.x per channel is 0
          for (let c = 0; c < 4; c++) {
            let s = 0;
            for (let n = 0; n < 3; n++) for (let i = 0; i < 15; i++) s += g.x.data[(n * 4 + c) * 15 + i];
            expect(Math.abs(s)).toBeLessThan(1e-4);
          }
        }
      });
    }

    it('Linear: values and finite differences of x, weight and bias', () => {
      const x = wt.tensor([1, 2, 3, -1, 0, 0.5], [2, 3]);
      const w = wt.tensor([0.5, -1, 2, 0, 1, 1], [2, 3]);
      expect(Array.from(wt.linear(x, w, wt.tensor([1, -1], [2])).data)).toEqual([5.5, 4, 1.5, -0.5]);
      const xs = randomTensor([37, 70], 20);  // more rows than a GEMM tile
      const ws = randomTensor([300, 70], 21);
      const bs = randomTensor([300], 22);
      const y = wt.linear(xs, ws, bs);
      let ref = bs.data[7];
      for (let k = 0; k < 70; k++) ref += xs.data[5 * 70 + k] * ws.data[7 * 70 + k];
      expect(Math.abs(y.data[5 * 300 + 7] - ref)).toBeLessThan(1e-4);
      const gy = randomTensor([37, 300], 23);
      const g = wt.linearBackward(xs, ws, bs, gy);
      expectDirectional((t) => dot(gy.data, wt.linear(t, ws, bs).data), xs, g.x, 24, 1, 1e-4, 'grad.x');
      expectDirectional((t) => dot(gy.data, wt.linear(xs, t, bs).data), ws, g.weight, 25, 1, 1e-4, 'grad.weight');
      expectDirectional((t) => dot(gy.data, wt.linear(xs, ws, t).data), bs, g.bias!, 26, 1, 1e-4, 'grad.bias');
      expect(wt.linearBackward(xs, ws, null, gy).bias).toBeUndefined();
    });

    it('global average pooling and channel concatenation, forward and backward', () => {
      const x = randomTensor([2, 3, 4, 5], 30);
      const y = wt.globalAvgPool2d(x);
      expect(y.shape).toEqual([2, 3]);
      let s = 0;
      for (let i = 0; i < 20; i++) s += x.data[20 + i];
      expect(Math.abs(y.data[1] - s / 20)).toBeLessThan(1e-6);
      const gx = wt.globalAvgPool2dBackward(wt.tensor([1, 2, 3, 4, 5, 6], [2, 3]), [2, 3, 4, 5]);
      expect(gx.data[0]).toBeCloseTo(1 / 20, 7);
      expect(gx.data[5 * 20 + 19]).toBeCloseTo(6 / 20, 7);

      const a = randomTensor([2, 3, 2, 2], 31);
      const c = randomTensor([2, 1, 2, 2], 32);
      const cat = wt.concatChannels(a, c);
      expect(cat.shape).toEqual([2, 4, 2, 2]);
      expect(Array.from(cat.data.subarray(16, 28))).toEqual(Array.from(a.data.subarray(12, 24)));
      expect(Array.from(cat.data.subarray(28, 32))).toEqual(Array.from(c.data.subarray(4, 8)));
      const [ga, gc] = wt.concatChannelsBackward(a, c, cat);
      expect(Array.from(ga.data)).toEqual(Array.from(a.data));
      expect(Array.from(gc.data)).toEqual(Array.from(c.data));
    });

    it('dropout: p = 0 is the identity; a seed fixes the mask; keep rate 1 - p; backward uses the mask', () => {
      const x = randomTensor([4, 1000], 40);
      const id = wt.dropout(x, { p: 0, seed: 5 });
      expect(Array.from(id.y.data)).toEqual(Array.from(x.data));
      const a = wt.dropout(x, { p: 0.3, seed: 7 });
      const again = wt.dropout(x, { p: 0.3, seed: 7 });
      const other = wt.dropout(x, { p: 0.3, seed: 8 });
      expect(Array.from(again.mask.data)).toEqual(Array.from(a.mask.data));
      expect(Array.from(other.mask.data)).not.toEqual(Array.from(a.mask.data));
      const kept = a.mask.data.filter((m) => m !== 0);
      expect(kept.every((m) => m === Math.fround(1 / 0.7))).toBe(true);
      expect(Math.abs(kept.length / 4000 - 0.7)).toBeLessThan(0.03);
      a.y.data.forEach((v, i) => expect(v).toBe(Math.fround(x.data[i] * a.mask.data[i])));
      const g = wt.dropoutBackward(a.mask, x);
      expect(Array.from(g.data)).toEqual(Array.from(a.y.data));
      expect(wt.dropout(x, { p: 1, seed: 1 }).y.data.every((v) => v === 0)).toBe(true);
    });

    it('bad input: WTConvError naming the argument', () => {
      const x = randomTensor([2, 3, 4, 4], 50);
      const p = bnParams();
      expect(() => wt.batchNorm2d(x, p.weight, p.bias, wt.tensor([0, 0], [2]), p.var, { training: true })).toThrow(/runningMean: expected shape \[3\]/);
      expect(() => wt.batchNorm2d(x, p.weight, p.bias, p.mean, p.var, { training: true, momentum: 2 })).toThrow(/momentum/);
      expect(() => wt.batchNorm2d(randomTensor([1, 3, 1, 1], 1), p.weight, p.bias, p.mean, p.var, { training: true })).toThrow(/more than 1 value/);
      expect(() => wt.linear(randomTensor([2, 3], 1), randomTensor([4, 5], 2), null)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
      expect(() => wt.dropout(x, { p: 1.5 })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
      expect(() => wt.concatChannels(x, randomTensor([2, 3, 4, 5], 2))).toThrow(/concatChannels/);
      expect(() => wt.crossEntropy(wt.tensor([0, 1], [1, 2]), [2])).toThrow(/labels\[0\]/);
    });
  });
}

describe('WaveMix layers: the core checks again below TypeScript', () => {
  it('native kernels refuse bad sizes and probabilities', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const { current } = await import('../ts/runtime.js');
    const { In, Out } = await import('../ts/backends/backend.js');
    const buf = new Float32Array(8);
    expect(() => current().run('geluForward', [0, 8, new In(buf), new Out(buf)])).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => current().run('dropoutForward', [1, 8, 2, 0, new In(buf), new Out(buf), new Out(buf)])).toThrow(/probability/);
    expect(() => current().run('batchNorm2dForward', [1, 2, 2, 2, 3, 0.1, 1e-5, new In(buf), null, null, null, null, new Out(buf), new Out(buf), new Out(buf), null, null])).toThrow(/training/);
    expect(() => current().run('linearForward', [1, -1, 2, new In(buf), new In(buf), null, new Out(buf)])).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

describe('dropout masks across backends', () => {
  it('a seed gives the same mask on native, threaded and single-threaded WASM (several blocks, a tail)', async () => {
    const x = randomTensor([3, 20001], 60);
    const masks: Float32Array[] = [];
    for (const b of BACKENDS) {
      await wt.init(b.options);
      masks.push(wt.dropout(x, { p: 0.25, seed: 123456789 }).mask.data);
    }
    expect(Array.from(masks[1])).toEqual(Array.from(masks[0]));
    expect(Array.from(masks[2])).toEqual(Array.from(masks[0]));
    const kept = masks[0].filter((m) => m !== 0).length / masks[0].length;
    expect(Math.abs(kept - 0.75)).toBeLessThan(0.01);
    // no period: the second half of the mask is not the first
    expect(Array.from(masks[0].subarray(30000, 30100))).not.toEqual(Array.from(masks[0].subarray(0, 100)));
  });
});
