// CUDA timings of WTConv2d (fused and baseline kernels) on the GPU, and the
// device-to-device copy bandwidth they are measured against.
//   node bench.mjs [--json FILE] [--reps N]
// Kernels are queued without waiting per call (setSynchronous(false)); each
// timing is the median of 7 batches of `reps` calls ended by synchronize().
import { writeFileSync } from 'node:fs';
import * as wt from '../../ts/index.js';
import type { CudaBackend } from '../../ts/backends/cuda.js';
import { current } from '../../ts/runtime.js';
import { WORKLOADS, type Workload } from './workloads.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(opt('--reps') ?? 20);

const info = await wt.init({ backend: 'cuda' });
const backend = current() as CudaBackend;
const addon = backend.raw;

function random(shape: number[], seed: number, scale = 1): wt.Tensor {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ((s >>> 8) / 16777216 - 0.5) * 2 * scale;
  }
  return new wt.Tensor(data, shape);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  fn();
  addon.synchronize();
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    addon.synchronize();
    batches.push((performance.now() - t0) / reps);
  }
  return median(batches);
}

// Device-to-device copy of 1 GiB: the bandwidth the kernels are compared with.
function copyBandwidth(): number {
  const floats = 2 ** 28;
  const a = addon.alloc(floats), b = addon.alloc(floats);
  addon.copy(b, a, floats);
  const ms: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    for (let j = 0; j < 5; j++) addon.copy(b, a, floats);
    ms.push((performance.now() - t0) / 5);
  }
  addon.free(a);
  addon.free(b);
  return (2 * floats * 4) / (median(ms) / 1e3) / 1e9;  // read + write, GB/s
}

function bench(w: Workload) {
  const x = random([w.n, w.c, w.h, w.w], 1).to('cuda');
  const params: Record<string, wt.Tensor> = {
    'base_conv.weight': random([w.c, 1, w.k, w.k], 2, 0.2).to('cuda'),
    'base_conv.bias': random([w.c], 3, 0.1).to('cuda'),
    'base_scale.weight': random([1, w.c, 1, 1], 4).to('cuda'),
  };
  for (let l = 0; l < w.levels; l++) {
    params[`wavelet_convs.${l}.weight`] = random([4 * w.c, 1, w.k, w.k], 10 + l, 0.2).to('cuda');
    params[`wavelet_scale.${l}.weight`] = random([1, 4 * w.c, 1, 1], 20 + l, 0.1).to('cuda');
  }
  const opts = { levels: w.levels };
  const gy = random([w.n, w.c, w.h, w.w], 5).to('cuda');
  const out: Record<string, number> = {};
  addon.setSynchronous(false);
  try {
    for (const tier of ['fused', 'baseline'] as const) {
      backend.setKernels(tier);
      wt.wtconv2d(x, params, opts).dispose();
      out[`${tier}_forward_ms`] = time(() => wt.wtconv2d(x, params, opts).dispose());
      out[`${tier}_backward_ms`] = time(() => {
        for (const g of Object.values(wt.wtconv2dBackward(x, params, gy, opts))) g.dispose();
      });
    }
  } finally {
    addon.setSynchronous(true);
    backend.setKernels('fused');
  }
  const bytes = 2 * w.n * w.c * w.h * w.w * 4;  // the least a forward moves: read x, write y
  out.forward_GBps = bytes / (out.fused_forward_ms / 1e3) / 1e9;
  return out;
}

const copyGBps = copyBandwidth();
const rows = WORKLOADS.map((w) => {
  const r = { ...w, ...bench(w) };
  r.forward_fraction_of_copy = r.forward_GBps / copyGBps;
  console.log(JSON.stringify(r));
  return r;
});
const result = { device: info.device, isa: info.isa, copy_GBps: copyGBps, reps, rows };
if (opt('--json')) writeFileSync(opt('--json')!, JSON.stringify(result, null, 1));
