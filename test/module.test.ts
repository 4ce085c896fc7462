// The WTConv2d module: PyTorch initialisation, state dicts and safetensors round trips.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { expectParity, loadFixture, randomTensor } from './helpers.js';

beforeAll(async () => {
  await wt.init({ backend: 'native', threads: 2 });
});

function stats(d: Float32Array) {
  let min = Infinity, max = -Infinity, sum = 0, sq = 0;
  for (const v of d) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sq += v * v;
  }
  const mean = sum / d.length;
  return { min, max, mean, variance: sq / d.length - mean * mean };
}

describe('WTConv2d module', () => {
  it('initialises like PyTorch: kaiming-uniform(a=sqrt(5)) conv weights and bias, scales 1.0 / 0.1', () => {
    const C = 64, k = 7;
    const m = new wt.WTConv2d({ channels: C, kernelSize: k, levels: 2, seed: 7 });
    const bound = 1 / Math.sqrt(k * k);  // kaiming_uniform(a=sqrt(5)) with fan_in = k*k
    for (const name of ['base_conv.weight', 'base_conv.bias', 'wavelet_convs.0.weight', 'wavelet_convs.1.weight']) {
      const s = stats(m.params[name].data);
      expect(s.min, name).toBeGreaterThanOrEqual(-bound);
      expect(s.max, name).toBeLessThan(bound);
      if (m.params[name].size > 1000) {
        // U(-b, b): mean 0, variance b^2 / 3; the extremes reach close to the bounds.
        expect(Math.abs(s.mean), name).toBeLessThan(0.05 * bound);
        expect(s.variance / (bound * bound / 3), name).toBeGreaterThan(0.95);
        expect(s.variance / (bound * bound / 3), name).toBeLessThan(1.05);
        expect(s.max, name).toBeGreaterThan(0.99 * bound);
      }
    }
    expect(m.params['base_scale.weight'].data.every((v) => v === 1)).toBe(true);
    expect(m.params['wavelet_scale.1.weight'].data.every((v) => v === Math.fround(0.1))).toBe(true);
    expect(m.params['base_conv.weight'].shape).toEqual([C, 1, k, k]);
    expect(m.params['wavelet_scale.0.weight'].shape).toEqual([1, 4 * C, 1, 1]);
    expect(new wt.WTConv2d({ channels: 2, bias: false }).params['base_conv.bias']).toBeUndefined();
  });

  it('has the PyTorch state_dict keys, fixed wavelet filters included', () => {
    const m = new wt.WTConv2d({ channels: 3, kernelSize: 5, levels: 2, stride: 2, wavelet: 'db2' });
    expect(Object.keys(m.stateDict()).sort()).toEqual(
      ['base_conv.bias', 'base_conv.weight', 'base_scale.weight', 'iwt_filter', 'stride_filter', 'wavelet_convs.0.weight', 'wavelet_convs.1.weight',
        'wavelet_scale.0.weight', 'wavelet_scale.1.weight', 'wt_filter'].sort(),
    );
    expect(m.stateDict().wt_filter.shape).toEqual([12, 1, 4, 4]);
  });

  it('survives a safetensors write -> read round trip bit-exactly', () => {
    const m = new wt.WTConv2d({ channels: 4, kernelSize: 3, levels: 3, seed: 3 });
    const bytes = wt.saveSafetensors(m.stateDict(), { note: 'round trip' });
    const back = wt.loadSafetensors(bytes);
    expect(back.metadata.note).toBe('round trip');
    const m2 = new wt.WTConv2d({ channels: 4, kernelSize: 3, levels: 3, seed: 99 });
    m2.loadStateDict(back.tensors);
    for (const [k, v] of Object.entries(m.stateDict())) {
      expect(new Uint32Array(m2.stateDict()[k].data.buffer, m2.stateDict()[k].data.byteOffset, v.size), k).toEqual(
        new Uint32Array(v.data.buffer, v.data.byteOffset, v.size),
      );
    }
  });

  it('loads trained PyTorch weights and reproduces the fixture, forward and backward', () => {
    const { tensors: t, config } = loadFixture('wtconv2d_l2_k3_db2.safetensors');
    const m = new wt.WTConv2d({ channels: config.channels as number, kernelSize: config.kernel_size as number, levels: 2, wavelet: 'db2' });
    const sd = Object.fromEntries(Object.entries(t).filter(([k]) => k in m.params));
    m.loadStateDict(sd);
    expectParity(m.forward(t.x), t.y, 'y');
    const g = m.backward(t.grad_y);
    for (const k of Object.keys(m.params)) expectParity(g[k], t[`grad.${k}`], `grad.${k}`);
    expectParity(g.x, t['grad.x'], 'grad.x');
  });

  it('refuses state dicts with missing, unexpected, mis-shaped keys or another wavelet', () => {
    const m = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 1 });
    const sd = m.stateDict();
    const code = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as wt.WTConvError).code;
      }
      return 'none';
    };
    const { 'base_conv.weight': _omit, ...missing } = sd;
    expect(code(() => m.loadStateDict(missing))).toBe('E_STATE');
    expect(code(() => m.loadStateDict({ ...sd, extra: randomTensor([1], 1) }))).toBe('E_STATE');
    expect(() => m.loadStateDict({ ...sd, extra: randomTensor([1], 1) }, { strict: false })).not.toThrow();
    expect(code(() => m.loadStateDict({ ...sd, 'base_scale.weight': randomTensor([2], 1) }))).toBe('E_SHAPE');
    const db2 = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 1, wavelet: 'db2' }).stateDict();
    expect(code(() => m.loadStateDict({ ...sd, wt_filter: randomTensor([8, 1, 2, 2], 1) }))).toBe('E_STATE');
    expect(code(() => m.loadStateDict({ ...sd, wt_filter: db2.wt_filter }))).toBe('E_SHAPE');
  });

  it('exposes the package version consistently', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(wt.version).toBe(pkg.version);
    expect(wt.runtimeStats().version).toBe(pkg.version);
  });
});
