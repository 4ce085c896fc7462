// Bad input to the convolutions and DCLS throws WTConvError with the right
// code, in TypeScript and again in the core (C ABI), on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { current } from '../ts/runtime.js';
import { In, Out, type KernelArg, type KernelName } from '../ts/backends/backend.js';
import { BACKENDS, randomTensor } from './helpers.js';

const x = randomTensor([2, 4, 8, 8], 1);
const w = randomTensor([6, 2, 3, 3], 2);
const b = randomTensor([6], 3);
const conv = { padding: 1, groups: 2 };
const NAN_FILL = Number.NaN;  // what 'out' holds before a call: every element must be written
const dw = randomTensor([3, 2, 4], 4);
const P = randomTensor([2, 3, 2, 4], 5);
const dcls = { dilatedKernelSize: 7 };

const CASES: [string, wt.WTConvErrorCode, () => unknown][] = [
  ['groups not dividing the channels', 'E_ARG', () => wt.conv2d(x, randomTensor([6, 1, 3, 3], 1), null, { groups: 3 })],
  ['groups 0', 'E_ARG', () => wt.conv2d(x, w, b, { groups: 0 })],
  ['weight in-channels differ from x / groups', 'E_SHAPE', () => wt.conv2d(x, w, b, { padding: 1 })],
  ['kernel larger than the padded input', 'E_SHAPE', () => wt.conv2d(x, randomTensor([6, 2, 11, 3], 1), null, conv)],
  ['zero stride', 'E_ARG', () => wt.conv2d(x, w, b, { ...conv, stride: 0 })],
  ['negative padding', 'E_ARG', () => wt.conv2d(x, w, b, { ...conv, padding: [1, -1] })],
  ['zero dilation', 'E_ARG', () => wt.conv1d(randomTensor([1, 2, 9], 1), randomTensor([3, 2, 3], 2), null, { dilation: 0 })],
  ['stride pair for a 3-D conv', 'E_ARG', () => wt.conv3d(randomTensor([1, 1, 4, 4, 4], 1), randomTensor([1, 1, 2, 2, 2], 2), null, { stride: [1, 1] })],
  ["'same' padding with stride 2", 'E_ARG', () => wt.conv2d(x, w, b, { ...conv, padding: 'same', stride: 2 })],
  ['x of the wrong rank', 'E_SHAPE', () => wt.conv2d(randomTensor([4, 8, 8], 1), w, b, conv)],
  ['weight of the wrong rank', 'E_SHAPE', () => wt.conv1d(randomTensor([1, 2, 9], 1), w, null)],
  ['bias of the wrong shape', 'E_SHAPE', () => wt.conv2d(x, w, randomTensor([5], 1), conv)],
  ['gradY of the wrong shape', 'E_SHAPE', () => wt.conv2dBackward(x, w, b, randomTensor([2, 6, 8, 7], 1), conv)],
  ["option 'out' of the wrong shape", 'E_SHAPE', () => wt.conv2d(x, w, b, { ...conv, out: randomTensor([2, 6, 8, 7], 1) })],
  ["option 'out' sharing memory with x", 'E_ARG', () => wt.conv2d(x, randomTensor([4, 2, 3, 3], 1), null, { ...conv, out: x })],
  ["option 'out' not a tensor", 'E_DTYPE', () => wt.conv2d(x, w, b, { ...conv, out: new Float32Array(768) as unknown as wt.Tensor })],
  ["convTranspose2d option 'out' of the wrong shape", 'E_SHAPE', () => wt.convTranspose2d(x, randomTensor([4, 3, 4, 4], 1), null, { stride: 2, out: randomTensor([2, 3, 16, 16], 1) })],
  ['a padded input of 2^31 positions or more', 'E_SHAPE', () => wt.conv2d(randomTensor([1, 1, 1, 1], 1), randomTensor([1, 1, 1, 3], 2), null, { dilation: [1, 2 ** 30], padding: [0, 2 ** 30] })],
  ['more than 2^22 unfolded rows', 'E_SHAPE', () => wt.conv1d(randomTensor([1, 4097, 1024], 1), new wt.Tensor(new Float32Array(4097 * 1024), [1, 4097, 1024]), null)],
  ['weight not a tensor', 'E_DTYPE', () => wt.conv2d(x, [1, 2] as unknown as wt.Tensor, b, conv)],
  ['options not an object', 'E_ARG', () => wt.conv2d(x, w, b, 3 as unknown as wt.ConvOptions)],
  ['convTranspose2d outputPadding >= stride and dilation', 'E_ARG', () => wt.convTranspose2d(x, randomTensor([4, 2, 3, 3], 1), null, { stride: 2, outputPadding: 2 })],
  ['convTranspose2d weight for other channels', 'E_SHAPE', () => wt.convTranspose2d(x, randomTensor([3, 2, 3, 3], 1), null)],
  ['convTranspose2d padding larger than the output', 'E_SHAPE', () => wt.convTranspose2d(randomTensor([1, 1, 1, 1], 1), randomTensor([1, 1, 1, 1], 2), null, { padding: 1 })],
  ["convTranspose2d option 'scale' of the wrong shape", 'E_SHAPE', () => wt.convTranspose2d(x, randomTensor([4, 3, 4, 4], 1), null, { stride: 2, scale: randomTensor([4], 2) })],
  ["convTranspose2d option 'residual' of the wrong shape", 'E_SHAPE', () => wt.convTranspose2d(x, randomTensor([4, 3, 4, 4], 1), null, { stride: 2, residual: randomTensor([2, 3, 16, 16], 2) })],
  ["convTranspose2d option 'residual' sharing memory with 'out'", 'E_ARG', () => {
    const y = randomTensor([2, 3, 18, 18], 2);
    return wt.convTranspose2d(x, randomTensor([4, 3, 4, 4], 1), null, { stride: 2, out: y, residual: y });
  }],
  ['convTranspose2d groups not dividing the channels', 'E_ARG', () => wt.convTranspose2d(x, randomTensor([4, 2, 3, 3], 1), null, { groups: 3 })],
  ['P with the wrong shape', 'E_SHAPE', () => wt.dclsConstructKernel(dw, randomTensor([2, 3, 2, 5], 1), dcls)],
  ['P with 4 position axes', 'E_SHAPE', () => wt.dclsConstructKernel(dw, randomTensor([4, 3, 2, 4], 1), dcls)],
  ['unknown DCLS version', 'E_ARG', () => wt.dclsConstructKernel(dw, P, { ...dcls, version: 'v1' as wt.DclsVersion })],
  ["'gauss' without SIG", 'E_STATE', () => wt.dclsConstructKernel(dw, P, { ...dcls, version: 'gauss' })],
  ['SIG with the wrong shape', 'E_SHAPE', () => wt.dclsConstructKernel(dw, P, { ...dcls, version: 'gauss', SIG: randomTensor([2, 3, 2, 3], 1) })],
  ['missing dilatedKernelSize', 'E_ARG', () => wt.dclsConstructKernel(dw, P, {} as wt.DclsConstructOptions)],
  ['dilatedKernelSize 0', 'E_ARG', () => wt.dclsConstructKernel(dw, P, { dilatedKernelSize: [7, 0] })],
  ['gradK of the wrong shape', 'E_SHAPE', () => wt.dclsConstructKernelBackward(dw, P, randomTensor([3, 2, 7, 6], 1), dcls)],
  ['dclsConv x rank differs from P', 'E_SHAPE', () => wt.dclsConv(randomTensor([1, 4, 9], 1), dw, P, null, { ...dcls, groups: 2 })],
  ['dclsConv groups not dividing the channels', 'E_ARG', () => wt.dclsConv(randomTensor([1, 3, 9, 9], 1), dw, P, null, { ...dcls, groups: 2 })],
];

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(wt.WTConvError);
    expect((e as Error).message.length).toBeGreaterThan(10);
    return (e as wt.WTConvError).code;
  }
  return 'no error';
}

const f = (n: number) => new In(new Float32Array(n));
const o = (n: number) => new Out(new Float32Array(n));
// Calls straight into the core with values the TypeScript layer refuses.
const CORE: [string, wt.WTConvErrorCode, KernelName, KernelArg[]][] = [
  ['negative channels', 'E_SHAPE', 'conv2dForward', [1, -4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, f(256), f(216), null, o(384)]],
  ['groups not dividing', 'E_ARG', 'conv2dForward', [1, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 4, f(256), f(54), null, o(384)]],
  ['zero stride', 'E_ARG', 'conv1dForward', [1, 2, 9, 3, 3, 0, 0, 1, 1, f(18), f(18), null, o(27)]],
  ['negative padding', 'E_ARG', 'conv3dBackward', [1, 1, 4, 4, 4, 1, 2, 2, 2, 1, 1, 1, -1, 0, 0, 1, 1, 1, 1, f(64), f(8), f(27), o(64), null, null]],
  ['kernel larger than the padded input', 'E_SHAPE', 'conv2dForward', [1, 1, 4, 4, 1, 9, 3, 1, 1, 1, 1, 1, 1, 1, f(16), f(27), null, o(16)]],
  ['missing x', 'E_ARG', 'conv2dForward', [1, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, null, f(9), null, o(16)]],
  ['output padding too large', 'E_ARG', 'convTranspose2dForward', [1, 1, 4, 4, 1, 3, 3, 2, 2, 0, 0, 2, 0, 1, 1, 1, f(16), f(9), null, null, null, o(100)]],
  ['more than 2^22 unfolded rows', 'E_SHAPE', 'conv1dForward', [1, 4097, 1024, 1, 1024, 1, 0, 1, 1, f(4097 * 1024), f(4097 * 1024), null, o(1)]],
  ['unknown version', 'E_ARG', 'dclsConstructForward', [2, 3, 2, 4, 7, 7, 1, 2, f(24), f(48), null, o(294)]],
  ['gauss without SIG', 'E_ARG', 'dclsConstructForward', [2, 3, 2, 4, 7, 7, 1, 1, f(24), f(48), null, o(294)]],
  ['negative count', 'E_SHAPE', 'dclsConstructBackward', [2, 3, 2, -4, 7, 7, 1, 0, f(24), f(48), null, f(294), o(24), o(48), null]],
  ['unused size not 1', 'E_ARG', 'dclsConstructForward', [1, 3, 2, 4, 7, 7, 1, 0, f(24), f(24), null, o(294)]],
];

for (const bk of BACKENDS) {
  describe(`conv / DCLS bad input on ${bk.label}`, () => {
    beforeAll(async () => {
      await wt.init(bk.options);
    });

    it(`throws WTConvError with the right code in ${CASES.length} cases`, () => {
      for (const [label, code, fn] of CASES) expect(codeOf(fn), label).toBe(code);
    });

    it("writes into the 'out' option's tensor and returns it (conv2d, convTranspose2d)", () => {
      const out = wt.Tensor.zeros([2, 6, 8, 8]);
      out.data.fill(NAN_FILL);
      expect(wt.conv2d(x, w, b, { ...conv, out })).toBe(out);
      expect(out.data).toEqual(wt.conv2d(x, w, b, conv).data);
      const wT = randomTensor([4, 3, 4, 4], 6);
      const outT = wt.Tensor.zeros([2, 3, 16, 16]);
      outT.data.fill(NAN_FILL);
      expect(wt.convTranspose2d(x, wT, null, { stride: 2, padding: 1, out: outT })).toBe(outT);
      expect(outT.data).toEqual(wt.convTranspose2d(x, wT, null, { stride: 2, padding: 1 }).data);
    });

    it(`is re-checked in the core in ${CORE.length} cases, and keeps working`, () => {
      const before = wt.conv2d(x, w, b, conv);
      for (const [label, code, kernel, args] of CORE) expect(codeOf(() => current().run(kernel, args)), label).toBe(code);
      expect(wt.conv2d(x, w, b, conv).data).toEqual(before.data);
    });
  });
}
