// Parity with PyTorch for the general convolutions and DCLS: every conv2d_*,
// convt2d_* and dcls_* fixture, forward and backward, on every backend (SPEC section 5).
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { BACKENDS, expectParity, fixtureNames, loadFixture } from './helpers.js';

function expectGrads(grads: Record<string, wt.Tensor | undefined>, t: Record<string, wt.Tensor>): void {
  const expected = Object.keys(t).filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
  expect(Object.keys(grads).filter((k) => grads[k] !== undefined).sort()).toEqual(expected);
  for (const k of expected) expectParity(grads[k]!, t[`grad.${k}`], `grad.${k}`);
}

for (const b of BACKENDS) {
  describe(`conv / DCLS fixtures on ${b.label}`, () => {
    beforeAll(async () => {
      await wt.init(b.options);
    });

    for (const name of fixtureNames('conv2d_')) {
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toBe('conv2d');
        const opts = { stride: config.stride as number[], padding: config.padding as number[], dilation: config.dilation as number[], groups: config.groups as number };
        const bias = t.bias ?? null;
        expectParity(wt.conv2d(t.x, t.weight, bias, opts), t.y, 'y');
        expectGrads({ ...wt.conv2dBackward(t.x, t.weight, bias, t.grad_y, opts) }, t);
      });
    }

    for (const name of fixtureNames('convt2d_')) {
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toBe('conv_transpose2d');
        const opts = {
          stride: config.stride as number[], padding: config.padding as number[], outputPadding: config.output_padding as number[],
          dilation: config.dilation as number[], groups: config.groups as number,
        };
        const bias = t.bias ?? null;
        expectParity(wt.convTranspose2d(t.x, t.weight, bias, opts), t.y, 'y');
        expectGrads({ ...wt.convTranspose2dBackward(t.x, t.weight, bias, t.grad_y, opts) }, t);
      });
    }

    for (const name of fixtureNames('dcls_c')) {
      if (name.startsWith('dcls_conv')) continue;
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toBe('dcls_construct');
        const opts = { dilatedKernelSize: config.dilated_kernel_size as number[], version: config.version as wt.DclsVersion, SIG: t.SIG };
        expectParity(wt.dclsConstructKernel(t.weight, t.P, opts), t.y, 'y');
        expectGrads({ ...wt.dclsConstructKernelBackward(t.weight, t.P, t.grad_y, opts) }, t);
      });
    }

    for (const name of fixtureNames('dcls_conv')) {
      it(name, () => {
        const { tensors: t, config } = loadFixture(name);
        expect(config.op).toMatch(/^dcls[123]d$/);
        const opts = {
          dilatedKernelSize: config.dilated_kernel_size as number[], version: config.version as wt.DclsVersion, SIG: t.SIG,
          stride: config.stride as number, padding: config.padding as number[], groups: config.groups as number,
        };
        const bias = t.bias ?? null;
        expectParity(wt.dclsConv(t.x, t.weight, t.P, bias, opts), t.y, 'y');
        expectGrads({ ...wt.dclsConvBackward(t.x, t.weight, t.P, bias, t.grad_y, opts) }, t);
      });
    }
  });
}
