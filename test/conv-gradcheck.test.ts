// Finite differences: the gradients of conv1d / conv3d / convTranspose2d and of
// the DCLS positions (and Gaussian widths) match central differences of
// f = sum(gradY * y) along random directions. Convolutions are linear in x and
// in the weight, so a unit step is exact up to rounding; DCLS kernels are
// piecewise polynomial (v0) or smooth (gauss) in P, so positions are kept away
// from integers (where v0 has kinks), widths SIG away from 0 (|SIG| has a kink
// there; some are negative) and the step is small.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomTensor, dot, expectDirectional, shifted } from './helpers.js';

/** Positions at offset + [-r, r] with fractional parts in [0.2, 0.8] (away from the v0 kinks). */
function offIntegerPositions(shape: number[], seed: number, r: number): wt.Tensor {
  const u = randomTensor(shape, seed);
  const v = randomTensor(shape, seed + 1);
  return new wt.Tensor(u.data.map((a, i) => Math.round(a * r) + 0.5 + 0.3 * v.data[i]), shape);
}

describe('finite differences (native)', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'native', threads: 2 });
  });

  const convs = [
    { name: 'conv1d', fwd: wt.conv1d, bwd: wt.conv1dBackward, x: [2, 4, 19], w: [6, 2, 5], opts: { stride: 2, padding: 3, dilation: 2, groups: 2 } },
    { name: 'conv3d', fwd: wt.conv3d, bwd: wt.conv3dBackward, x: [2, 3, 5, 6, 7], w: [4, 3, 3, 2, 3], opts: { stride: [1, 2, 2], padding: [1, 0, 1], dilation: [2, 1, 1], groups: 1 } },
    { name: 'conv3d groups 2', fwd: wt.conv3d, bwd: wt.conv3dBackward, x: [1, 4, 4, 5, 3], w: [2, 2, 2, 3, 3], opts: { stride: 1, padding: 1, groups: 2 } },
  ] as const;
  convs.forEach((c, i) => {
    it(`${c.name}: x, weight and bias`, () => {
      const x = randomTensor([...c.x], 10 + i);
      const w = randomTensor([...c.w], 20 + i);
      const b = randomTensor([c.w[0]], 30 + i);
      const y = c.fwd(x, w, b, c.opts);
      const gy = randomTensor([...y.shape], 40 + i);
      const g = c.bwd(x, w, b, gy, c.opts);
      expectDirectional((t) => dot(gy.data, c.fwd(t, w, b, c.opts).data), x, g.x, 50 + i, 1, 1e-4, 'grad.x');
      expectDirectional((t) => dot(gy.data, c.fwd(x, t, b, c.opts).data), w, g.weight, 60 + i, 1, 1e-4, 'grad.weight');
      expectDirectional((t) => dot(gy.data, c.fwd(x, w, t, c.opts).data), b, g.bias!, 70 + i, 1, 1e-4, 'grad.bias');
    });
  });

  it('convTranspose2d: x, weight and bias', () => {
    const opts = { stride: [2, 3], padding: [1, 2], outputPadding: [1, 0], dilation: [1, 2], groups: 2 };
    const x = randomTensor([2, 4, 5, 6], 1);
    const w = randomTensor([4, 3, 3, 4], 2);
    const b = randomTensor([6], 3);
    const y = wt.convTranspose2d(x, w, b, opts);
    const gy = randomTensor([...y.shape], 4);
    const g = wt.convTranspose2dBackward(x, w, b, gy, opts);
    expectDirectional((t) => dot(gy.data, wt.convTranspose2d(t, w, b, opts).data), x, g.x, 5, 1, 1e-4, 'grad.x');
    expectDirectional((t) => dot(gy.data, wt.convTranspose2d(x, t, b, opts).data), w, g.weight, 6, 1, 1e-4, 'grad.weight');
    expectDirectional((t) => dot(gy.data, wt.convTranspose2d(x, w, t, opts).data), b, g.bias!, 7, 1, 1e-4, 'grad.bias');
  });

  const constructs = [
    { dims: 1, size: [11], version: 'v0' },
    { dims: 2, size: [7, 9], version: 'v0' },
    { dims: 3, size: [5, 6, 7], version: 'v0' },
    { dims: 1, size: [9], version: 'gauss' },
    { dims: 2, size: [7, 7], version: 'gauss' },
    { dims: 3, size: [5, 5, 5], version: 'gauss' },
  ] as const;
  constructs.forEach((c, i) => {
    it(`DCLS construction ${c.dims}-D ${c.version}: weight, P${c.version === 'gauss' ? ', SIG' : ''}`, () => {
      const wshape = [3, 2, 4];
      const weight = randomTensor(wshape, 100 + i);
      const P = offIntegerPositions([c.dims, ...wshape], 110 + i, 2);
      const SIG = c.version === 'gauss' ? new wt.Tensor(randomTensor([c.dims, ...wshape], 120 + i).data.map((v, j) => (j % 2 ? -1 : 1) * (0.35 + 0.2 * v)), [c.dims, ...wshape]) : undefined;
      const opts = { dilatedKernelSize: [...c.size], version: c.version as wt.DclsVersion, SIG };
      const gk = randomTensor([3, 2, ...c.size], 130 + i);
      const g = wt.dclsConstructKernelBackward(weight, P, gk, opts);
      const f = (w: wt.Tensor, p: wt.Tensor, s = SIG) => dot(gk.data, wt.dclsConstructKernel(w, p, { ...opts, SIG: s }).data);
      expectDirectional((t) => f(t, P), weight, g.weight, 140 + i, 1, 1e-4, 'grad.weight');
      expectDirectional((t) => f(weight, t), P, g.P, 150 + i, 1e-2, 2e-3, 'grad.P');
      if (SIG) expectDirectional((t) => f(weight, P, t), SIG, g.SIG!, 160 + i, 1e-2, 2e-3, 'grad.SIG');
    });
  });

  it('dclsConv 2-D gauss, groups 2, stride 2: x, weight, P, SIG, bias', () => {
    const weight = randomTensor([4, 2, 3], 200);
    const P = offIntegerPositions([2, 4, 2, 3], 201, 2);
    const SIG = new wt.Tensor(randomTensor([2, 4, 2, 3], 202).data.map((v) => 0.4 + 0.3 * v), [2, 4, 2, 3]);
    const bias = randomTensor([4], 203);
    const x = randomTensor([2, 4, 11, 10], 204);
    const opts = { dilatedKernelSize: [5, 7], version: 'gauss' as const, SIG, stride: 2, padding: [2, 3], groups: 2 };
    const y = wt.dclsConv(x, weight, P, bias, opts);
    const gy = randomTensor([...y.shape], 205);
    const g = wt.dclsConvBackward(x, weight, P, bias, gy, opts);
    const f = (xx: wt.Tensor, w: wt.Tensor, p: wt.Tensor, b: wt.Tensor, s: wt.Tensor) => dot(gy.data, wt.dclsConv(xx, w, p, b, { ...opts, SIG: s }).data);
    expectDirectional((t) => f(t, weight, P, bias, SIG), x, g.x, 206, 1, 1e-4, 'grad.x');
    expectDirectional((t) => f(x, t, P, bias, SIG), weight, g.weight, 207, 1, 1e-4, 'grad.weight');
    expectDirectional((t) => f(x, weight, t, bias, SIG), P, g.P, 208, 1e-2, 2e-3, 'grad.P');
    expectDirectional((t) => f(x, weight, P, bias, t), SIG, g.SIG!, 209, 1e-2, 2e-3, 'grad.SIG');
    expectDirectional((t) => f(x, weight, P, t, SIG), bias, g.bias!, 210, 1, 1e-4, 'grad.bias');
  });
});
