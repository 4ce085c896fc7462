// Operators are planned once per shape: after a warm-up call, repeated calls
// reuse the scratch workspace (and, in WASM, the tensor arena) without growing
// or reallocating anything.
import { describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, randomTensor, randomWTConvParams } from './helpers.js';

/** 'CODE: message' of the WTConvError fn throws, or 'none'. */
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as wt.WTConvError).code}: ${(e as Error).message}`;
  }
  return 'none';
}

describe('no allocation per call after warm-up', () => {
  for (const b of BACKENDS) {
    it(`on ${b.label}`, async () => {
      await wt.init(b.options);
      const x = randomTensor([2, 8, 40, 36], 1);
      const params = randomWTConvParams(8, 5, 3, true, 2);
      const opts = { levels: 3 };
      const step = () => {
        const y = wt.wtconv2d(x, params, opts);
        wt.wtconv2dBackward(x, params, y, opts);
        wt.idwt2d(wt.dwt2d(x, opts));
      };
      step();
      const warm = wt.runtimeStats();
      expect(warm.workspaceBytes).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) step();
      const after = wt.runtimeStats();
      expect(after.workspaceBytes).toBe(warm.workspaceBytes);
      if (b.options.backend === 'wasm') expect(after.heapBytes).toBe(warm.heapBytes);
      // The scratch memory is small next to the tensors: a few planes per thread.
      expect(warm.workspaceBytes).toBeLessThan(4 * x.size * 4);
    });
  }
});

describe("the 'out' option", () => {
  it('writes the forward result into a given tensor, checked for shape and aliasing', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    const x = randomTensor([1, 3, 20, 18], 3);
    const params = randomWTConvParams(3, 3, 2, true, 4);
    const expected = wt.wtconv2d(x, params, { levels: 2 });
    const out = wt.Tensor.zeros([1, 3, 20, 18]);
    expect(wt.wtconv2d(x, params, { levels: 2, out })).toBe(out);
    expect(out.data).toEqual(expected.data);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as wt.WTConvError).code;
      }
      return 'none';
    };
    expect(code(() => wt.wtconv2d(x, params, { levels: 2, out: wt.Tensor.zeros([1, 3, 20, 17]) }))).toBe('E_SHAPE');
    expect(code(() => wt.wtconv2d(x, params, { levels: 2, out: x }))).toBe('E_ARG');
  });
});

describe("the 'gradOut' option", () => {
  for (const b of BACKENDS) {
    it(`writes the gradients into given tensors on ${b.label}, checked for keys, shape and aliasing`, async () => {
      await wt.init(b.options);
      const x = randomTensor([2, 3, 19, 16], 5), g1 = randomTensor([2, 3, 19, 16], 6), g2 = randomTensor([2, 3, 19, 16], 7);
      const params = randomWTConvParams(3, 5, 2, true, 8);
      const expected = wt.wtconv2dBackward(x, params, g2, { levels: 2 });
      const first = wt.wtconv2dBackward(x, params, g1, { levels: 2 });
      // Garbage in the reused tensors: the kernel must overwrite, not accumulate.
      for (const t of Object.values(first)) t.data.fill(Number.NaN);
      const second = wt.wtconv2dBackward(x, params, g2, { levels: 2, gradOut: first });
      expect(Object.keys(second)).toEqual(Object.keys(expected));
      for (const [k, t] of Object.entries(second)) {
        expect(t).toBe(first[k]);
        expect(t.data).toEqual(expected[k].data);
      }
      // A part of the record: the rest is new.
      const part = wt.wtconv2dBackward(x, params, g2, { levels: 2, gradOut: { x: first.x } });
      expect(part.x).toBe(first.x);
      expect(part['base_conv.weight']).not.toBe(first['base_conv.weight']);
      expect(part['base_conv.weight'].data).toEqual(expected['base_conv.weight'].data);
      // Only own keys count (an inherited one is not a given tensor).
      const inherited = wt.wtconv2dBackward(x, params, g2, { levels: 2, gradOut: Object.create({ x: first.x }) });
      expect(inherited.x).not.toBe(first.x);
      // The module passes it through.
      const layer = new wt.WTConv2d({ channels: 3, kernelSize: 5, levels: 2 });
      layer.loadStateDict(params, { strict: false });
      layer.forward(x);
      const viaModule = layer.backward(g2, second);
      expect(viaModule.x).toBe(first.x);
      expect(viaModule.x.data).toEqual(expected.x.data);
      const bad = (gradOut: Record<string, wt.Tensor>) => message(() => wt.wtconv2dBackward(x, params, g2, { levels: 2, gradOut }));
      expect(bad({ 'wavelet_convs.2.weight': wt.Tensor.zeros([12, 1, 5, 5]) })).toMatch(/^E_ARG: option 'gradOut': unknown key 'wavelet_convs\.2\.weight' \(accepted: 'x', 'base_conv\.weight'/);
      expect(bad({ x: wt.Tensor.zeros([2, 3, 19, 15]) })).toMatch(/^E_SHAPE: option 'gradOut'\['x'\]: expected shape \[2, 3, 19, 16\]/);
      expect(bad({ x })).toMatch(/^E_ARG: option 'gradOut'\['x'\]: must not share memory with x$/);
      expect(bad({ x: g2 })).toMatch(/^E_ARG: option 'gradOut'\['x'\]: must not share memory with gradY$/);
      const w = wt.Tensor.zeros([3, 1, 5, 5]);
      expect(bad({ 'base_conv.weight': w, 'base_conv.bias': new wt.Tensor(w.data.subarray(0, 3), [3]) })).toMatch(
        /^E_ARG: option 'gradOut'\['base_conv\.bias'\]: must not share memory with option 'gradOut'\['base_conv\.weight'\]$/,
      );
    });
  }
});

describe("'gradOut' on the other backward ops", () => {
  const x2 = randomTensor([2, 4, 11, 9], 20), gy2 = randomTensor([2, 6, 6, 5], 21);
  const w2 = randomTensor([6, 2, 3, 3], 22), b6 = randomTensor([6], 23);
  const convOpts = { stride: 2, padding: 1, groups: 2 };
  const xt = randomTensor([2, 4, 5, 6], 24), wt4 = randomTensor([4, 3, 4, 4], 25), gyt = randomTensor([2, 3, 10, 12], 26);
  const tOpts = { stride: 2, padding: 1 };
  const dw = randomTensor([4, 2, 3], 27), P = randomTensor([2, 4, 2, 3], 28), SIG = randomTensor([2, 4, 2, 3], 29);
  const xd = randomTensor([1, 4, 9, 8], 30), gyd = randomTensor([1, 4, 9, 8], 31);
  const dOpts = { dilatedKernelSize: [5, 5], padding: 2, groups: 2 };
  const gx2 = randomTensor([2, 4, 11, 9], 38), xb = randomTensor([2, 3, 11, 9], 39);
  // From the backend under test (set in each test, after init()).
  let mask: wt.Tensor, bnSaved: wt.BatchNorm2dSaved;
  const cases: [string, (gradOut?: Record<string, wt.Tensor>) => Record<string, wt.Tensor>][] = [
    ['conv2dBackward with a bias', (gradOut) => ({ ...wt.conv2dBackward(x2, w2, b6, gy2, { ...convOpts, gradOut }) })],
    ['conv2dBackward without a bias', (gradOut) => ({ ...wt.conv2dBackward(x2, w2, null, gy2, { ...convOpts, gradOut }) })],
    ['convTranspose2dBackward', (gradOut) => ({ ...wt.convTranspose2dBackward(xt, wt4, randomTensor([3], 32), gyt, { ...tOpts, gradOut }) })],
    ['dclsConstructKernelBackward (gauss)', (gradOut) => ({
      ...wt.dclsConstructKernelBackward(dw, P, randomTensor([4, 2, 5, 5], 33), { dilatedKernelSize: [5, 5], version: 'gauss', SIG, gradOut }),
    })],
    ['dclsConvBackward (v0, no bias)', (gradOut) => ({ ...wt.dclsConvBackward(xd, dw, P, null, gyd, { ...dOpts, gradOut }) })],
    ['dclsConvBackward (gauss, bias)', (gradOut) => ({ ...wt.dclsConvBackward(xd, dw, P, randomTensor([4], 34), gyd, { ...dOpts, version: 'gauss', SIG, gradOut }) })],
    ['geluBackward', (gradOut) => ({ x: wt.geluBackward(x2, gx2, { gradOut: gradOut?.x }) })],
    ['dropoutBackward', (gradOut) => ({ x: wt.dropoutBackward(mask, gx2, { gradOut: gradOut?.x }) })],
    ['batchNorm2dBackward', (gradOut) => ({ ...wt.batchNorm2dBackward(x2, randomTensor([4], 35), bnSaved, gx2, { gradOut }) })],
    ['globalAvgPool2dBackward', (gradOut) => ({ x: wt.globalAvgPool2dBackward(randomTensor([2, 4], 36), [2, 4, 11, 9], { gradOut: gradOut?.x }) })],
    ['concatChannelsBackward', (gradOut) => {
      const [a, b] = wt.concatChannelsBackward(x2, xb, randomTensor([2, 7, 11, 9], 37), { gradOut: gradOut && [gradOut.a, gradOut.b] });
      return { a, b };
    }],
  ];
  for (const b of BACKENDS) {
    it(`writes into given tensors on ${b.label}`, async () => {
      await wt.init(b.options);
      mask = wt.dropout(x2, { p: 0.3, seed: 5 }).mask;
      bnSaved = wt.batchNorm2d(x2, null, null, wt.Tensor.zeros([4]), wt.Tensor.zeros([4]), { training: true }).saved;
      for (const [name, run] of cases) {
        const expected = run();
        const reused = run();
        for (const t of Object.values(reused)) t.data.fill(Number.NaN);
        const got = run(reused);
        expect(Object.keys(got), name).toEqual(Object.keys(expected));
        for (const [k, t] of Object.entries(got)) {
          expect(t, `${name} '${k}'`).toBe(reused[k]);
          expect(t.data, `${name} '${k}'`).toEqual(expected[k].data);
        }
      }
    });
  }
  it('checks keys, shapes and aliasing', async () => {
    await wt.init({ backend: 'native', threads: 2 });
    expect(message(() => wt.conv2dBackward(x2, w2, null, gy2, { ...convOpts, gradOut: { bias: wt.Tensor.zeros([6]) } }))).toBe(
      "E_ARG: option 'gradOut': unknown key 'bias' (accepted: 'x', 'weight')",
    );
    expect(message(() => wt.conv2dBackward(x2, w2, b6, gy2, { ...convOpts, gradOut: { weight: w2 } }))).toBe(
      "E_ARG: option 'gradOut'['weight']: must not share memory with weight",
    );
    expect(message(() => wt.convTranspose2dBackward(xt, wt4, null, gyt, { ...tOpts, gradOut: { x: wt.Tensor.zeros([2, 4, 5, 5]) } }))).toMatch(
      /^E_SHAPE: option 'gradOut'\['x'\]: expected shape \[2, 4, 5, 6\]/,
    );
    // dclsConv: the conv's gradients and the construction's are checked against each other.
    const big = wt.Tensor.zeros([2 * 288]);
    const xGrad = new wt.Tensor(big.data.subarray(0, 288), [1, 4, 9, 8]);
    const pGrad = new wt.Tensor(big.data.subarray(270, 318), [2, 4, 2, 3]);
    expect(message(() => wt.geluBackward(x2, gx2, { gradOut: gx2 }))).toBe("E_ARG: option 'gradOut': must not share memory with gradY");
    expect(message(() => wt.concatChannelsBackward(x2, xb, randomTensor([2, 7, 11, 9], 1), { gradOut: [x2.reshape([2, 4, 11, 9]), xb] }))).toBe('none');
    const both = wt.Tensor.zeros([2, 4, 11, 9]);
    expect(message(() => wt.concatChannelsBackward(x2, x2, randomTensor([2, 8, 11, 9], 1), { gradOut: [both, both] }))).toBe(
      "E_ARG: option 'gradOut'[1]: must not share memory with option 'gradOut'[0]",
    );
    expect(message(() => wt.dclsConvBackward(xd, dw, P, null, gyd, { ...dOpts, gradOut: { x: xGrad, P: pGrad } }))).toBe(
      "E_ARG: option 'gradOut'['P']: must not share memory with option 'gradOut'['x']",
    );
  });
});

describe("'out' and 'gradOut' of the DWT and inverse DWT", () => {
  for (const b of BACKENDS) {
    it(`write into given tensors on ${b.label}, checked for shape and aliasing`, async () => {
      await wt.init(b.options);
      const x = randomTensor([2, 3, 13, 10], 40);
      const opts = { levels: 2, wavelet: 'db2' as const };
      const bands = wt.dwt2d(x, opts);
      const shapes = bands.map((t) => [...t.shape]);
      const gradBands = shapes.map((s, l) => randomTensor(s, 41 + l));
      const nan = (shape: number[]) => new wt.Tensor(new Float32Array(shape.reduce((a, c) => a * c, 1)).fill(Number.NaN), shape);
      // dwt2dBackward into a given gradient of x.
      const gx = wt.dwt2dBackward(x, gradBands, opts);
      const gxOut = nan([2, 3, 13, 10]);
      expect(wt.dwt2dBackward(x, gradBands, { ...opts, gradOut: gxOut })).toBe(gxOut);
      expect(gxOut.data).toEqual(gx.data);
      // idwt2d into a given output, and its backward into given band gradients.
      const idwtOpts = { wavelet: 'db2' as const, shapes: [[13, 10], [7, 5]] as [number, number][] };
      const y = wt.idwt2d(bands, idwtOpts);
      const yOut = nan([2, 3, 13, 10]);
      expect(wt.idwt2d(bands, { ...idwtOpts, out: yOut })).toBe(yOut);
      expect(yOut.data).toEqual(y.data);
      const gy = randomTensor([2, 3, 13, 10], 45);
      const gb = wt.idwt2dBackward(bands, gy, idwtOpts);
      const gbOut = shapes.map(nan);
      const got = wt.idwt2dBackward(bands, gy, { ...idwtOpts, gradOut: gbOut });
      got.forEach((t, l) => {
        expect(t).toBe(gbOut[l]);
        expect(t.data).toEqual(gb[l].data);
      });
      expect(message(() => wt.dwt2dBackward(x, gradBands, { ...opts, gradOut: wt.Tensor.zeros([2, 3, 13, 11]) }))).toMatch(
        /^E_SHAPE: option 'gradOut': expected shape \[2, 3, 13, 10\]/,
      );
      const inBand = new wt.Tensor(gradBands[0].data.subarray(0, 780), [2, 3, 13, 10]);
      expect(message(() => wt.dwt2dBackward(x, gradBands, { ...opts, gradOut: inBand }))).toBe(
        "E_ARG: option 'gradOut': must not share memory with gradBands[0]",
      );
      expect(message(() => wt.idwt2d(bands, { ...idwtOpts, out: new wt.Tensor(bands[0].data.subarray(0, 780), [2, 3, 13, 10]) }))).toBe(
        "E_ARG: option 'out': must not share memory with bands[0]",
      );
      expect(message(() => wt.idwt2dBackward(bands, gy, { ...idwtOpts, gradOut: [gbOut[0], new wt.Tensor(gy.data.subarray(0, gb[1].size), gb[1].shape)] }))).toBe(
        "E_ARG: option 'gradOut'[1]: must not share memory with gradY",
      );
      expect(message(() => wt.idwt2dBackward(bands, gy, { ...idwtOpts, gradOut: [gbOut[0], gbOut[0]] }))).toMatch(/^E_SHAPE/);
    });
  }
});
