// The Conv2d, ConvTranspose2d and Dcls1d/2d/3d layers: PyTorch's parameter
// names and init, fixtures loaded through loadStateDict, forward / backward.
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { expectParity, loadFixture, randomTensor } from './helpers.js';

const maxAbs = (t: wt.Tensor) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('conv and DCLS modules (native)', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'native', threads: 2 });
  });

  it('Conv2d: names, shapes and init; fixture conv2d_k3_groups2 through loadStateDict', () => {
    const { tensors: t, config } = loadFixture('conv2d_k3_groups2.safetensors');
    const layer = new wt.Conv2d({ inChannels: 8, outChannels: 6, kernelSize: 3, padding: config.padding as [number, number], groups: 2, seed: 1 });
    expect(Object.keys(layer.stateDict()).sort()).toEqual(['bias', 'weight']);
    expect(layer.params.weight.shape).toEqual([6, 4, 3, 3]);
    expect(maxAbs(layer.params.weight)).toBeLessThanOrEqual(1 / 6);  // 1 / sqrt(4 * 3 * 3)
    layer.loadStateDict({ weight: t.weight, bias: t.bias });
    expectParity(layer.forward(t.x), t.y, 'y');
    const g = layer.backward(t.grad_y);
    expect(Object.keys(g).sort()).toEqual(['bias', 'weight', 'x']);
    for (const k of ['x', 'weight', 'bias']) expectParity(g[k], t[`grad.${k}`], `grad.${k}`);
  });

  it('ConvTranspose2d: fixture convt2d_k3_s2_p1_op1 (groups 2, no bias)', () => {
    const { tensors: t } = loadFixture('convt2d_k3_s2_p1_op1.safetensors');
    const layer = new wt.ConvTranspose2d({ inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, bias: false });
    expect(layer.params.weight.shape).toEqual([4, 2, 3, 3]);
    expect(Object.keys(layer.stateDict())).toEqual(['weight']);
    layer.loadStateDict({ weight: t.weight });
    expectParity(layer.forward(t.x), t.y, 'y');
    const g = layer.backward(t.grad_y);
    expectParity(g.x, t['grad.x'], 'grad.x');
    expectParity(g.weight, t['grad.weight'], 'grad.weight');
  });

  it('Dcls1d / Dcls2d: the layer fixtures through loadStateDict', () => {
    for (const [name, Cls] of [['dcls_conv1d_v0', wt.Dcls1d], ['dcls_conv2d_v0_dw', wt.Dcls2d]] as const) {
      const { tensors: t, config: c } = loadFixture(`${name}.safetensors`);
      const layer = new Cls({
        inChannels: c.in_channels as number, outChannels: c.out_channels as number, kernelCount: c.kernel_count as number,
        dilatedKernelSize: c.dilated_kernel_size as number[], padding: c.padding as number[], groups: c.groups as number, version: 'v0',
      });
      expect(Object.keys(layer.stateDict()).sort()).toEqual(['P', 'bias', 'weight']);
      layer.loadStateDict({ weight: t.weight, P: t.P, bias: t.bias });
      expectParity(layer.forward(t.x), t.y, `${name} y`);
      const g = layer.backward(t.grad_y);
      for (const k of ['x', 'weight', 'P', 'bias']) expectParity(g[k], t[`grad.${k}`], `${name} grad.${k}`);
    }
  });

  it('Dcls3d gauss: SIG 0.23, positions clamped to +-size // 2, clampPositions()', () => {
    const layer = new wt.Dcls3d({ inChannels: 4, outChannels: 2, kernelCount: 6, dilatedKernelSize: [3, 5, 7], padding: [1, 2, 3], groups: 2, version: 'gauss', seed: 3 });
    expect(Object.keys(layer.stateDict()).sort()).toEqual(['P', 'SIG', 'bias', 'weight']);
    expect(layer.params.P.shape).toEqual([3, 2, 2, 6]);
    expect(Array.from(layer.params.SIG.data).every((v) => Math.abs(v - 0.23) < 1e-7)).toBe(true);
    const per = 2 * 2 * 6;
    const within = (lims: number[]) => lims.every((lim, d) => layer.params.P.data.slice(d * per, (d + 1) * per).every((v) => Math.abs(v) <= lim));
    expect(within([1, 2, 3])).toBe(true);
    layer.params.P.data.fill(10);
    layer.clampPositions();
    expect(within([1, 2, 3])).toBe(true);
    expect(layer.params.P.data[0]).toBe(1);
    const x = randomTensor([1, 4, 4, 6, 8], 1);
    const y = layer.forward(x);
    expect(y.shape).toEqual([1, 2, 4, 6, 8]);
    const g = layer.backward(randomTensor([...y.shape], 2));
    expect(Object.keys(g).sort()).toEqual(['P', 'SIG', 'bias', 'weight', 'x']);
  });

  it('refuses bad configs and state dicts', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as wt.WTConvError).code;
      }
      return 'no error';
    };
    expect(code(() => new wt.Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2 }))).toBe('E_ARG');
    expect(code(() => new wt.Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 0 }))).toBe('E_ARG');
    expect(code(() => new wt.Dcls2d({ inChannels: 3, outChannels: 4, kernelCount: 3, dilatedKernelSize: 5, version: 'v9' as wt.DclsVersion }))).toBe('E_ARG');
    const layer = new wt.Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 });
    expect(code(() => layer.backward(randomTensor([1, 4, 3, 3], 1)))).toBe('E_STATE');
    expect(code(() => layer.loadStateDict({ weight: layer.params.weight }))).toBe('E_STATE');
    expect(code(() => layer.loadStateDict({ ...layer.stateDict(), extra: layer.params.bias }))).toBe('E_STATE');
    expect(code(() => layer.loadStateDict({ weight: randomTensor([4, 3, 3, 2], 1), bias: layer.params.bias }))).toBe('E_SHAPE');
  });
});
