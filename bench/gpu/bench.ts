// CUDA timings on the GPU: WTConv2d (fused and baseline kernels) with the
// device-to-device copy bandwidth they are measured against, the conv
// workloads (forward, backward) and the WaveMix model (eval forward, training
// step), all on device tensors.
//   node bench.mjs [--json FILE] [--reps N] [--wavemix WEIGHTS.safetensors]
// Kernels are queued without waiting per call (setSynchronous(false)); each
// timing is the median of 7 batches of `reps` calls ended by synchronize().
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as wt from '../../ts/index.js';
import type { CudaBackend } from '../../ts/backends/cuda.js';
import { current } from '../../ts/runtime.js';
import { CONV_WORKLOADS, WAVEMIX_WEIGHTS, WORKLOADS, type ConvWorkload, type Workload } from './workloads.js';

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

function benchConv(w: ConvWorkload) {
  const x = random([w.n, w.cin, w.size, w.size], 1).to('cuda');
  const weight = random([w.cout, w.cin / w.groups, w.k, w.k], 2, 0.2).to('cuda');
  const bias = random([w.cout], 3, 0.1).to('cuda');
  const o = { stride: w.stride, padding: w.padding, groups: w.groups };
  const gy = wt.conv2d(x, weight, bias, o);
  addon.setSynchronous(false);
  try {
    const forward = time(() => wt.conv2d(x, weight, bias, o).dispose());
    const backward = time(() => {
      for (const g of Object.values(wt.conv2dBackward(x, weight, bias, gy, o))) g?.dispose();
    });
    const gflop = (2 * w.n * w.cout * (w.cin / w.groups) * w.k * w.k * ((w.size + 2 * w.padding - w.k) / w.stride + 1) ** 2) / 1e9;
    return { ...w, forward_ms: forward, backward_ms: backward, forward_GFLOPs: gflop / (forward / 1e3) };
  } finally {
    addon.setSynchronous(true);
    gy.dispose();
  }
}

// The WaveMix model of the CPU benchmark (bench/wavemix.mjs): its weights, the
// input x[i] = sin(0.37 i), eval forward (predict) and a training step
// (forward, cross-entropy, backward); the first logits for the comparison with
// PyTorch's (bench/peers/pytorch_wavemix.py).
function benchWaveMix(file: string) {
  const { tensors, metadata } = wt.loadSafetensors(new Uint8Array(readFileSync(file)));
  const c = JSON.parse(metadata.config);
  const model = new wt.WaveMix({ numClasses: c.num_classes, depth: c.depth, mult: c.mult, ffChannel: c.ff_channel,
    finalDim: c.final_dim, level: c.level, patchSize: c.patch_size, inChannels: c.in_channels, dropout: 0 });
  model.loadStateDict(tensors);
  const shape = [c.N, c.in_channels, c.H, c.W];
  const x = new wt.Tensor(Float32Array.from({ length: shape.reduce((a: number, b: number) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), shape).to('cuda');
  const labels = Array.from({ length: c.N }, (_, i) => i % c.num_classes);
  const logits = Array.from(model.eval().predict(x).data.subarray(0, c.num_classes));
  addon.setSynchronous(false);
  try {
    const evalForward = time(() => model.predict(x).dispose());
    model.train();
    const trainStep = time(() => {
      const loss = wt.crossEntropy(model.forward(x), labels);
      for (const g of Object.values(model.backward(loss.grad))) g.dispose();
    });
    return { config: c, eval_forward_ms: evalForward, train_step_ms: trainStep, eval_logits: logits };
  } finally {
    addon.setSynchronous(true);
    model.loadStateDict(tensors);
  }
}

const copyGBps = copyBandwidth();
const rows = WORKLOADS.map((w) => {
  const r = { ...w, ...bench(w) };
  r.forward_fraction_of_copy = r.forward_GBps / copyGBps;
  console.log(JSON.stringify(r));
  return r;
});
const conv = CONV_WORKLOADS.map((w) => {
  const r = benchConv(w);
  console.log(JSON.stringify(r));
  return r;
});
const wavemixFile = opt('--wavemix') ?? WAVEMIX_WEIGHTS;
const wavemix = existsSync(wavemixFile) ? benchWaveMix(wavemixFile) : { absent: `${wavemixFile} not found` };
console.log(JSON.stringify(wavemix));
const result = { device: info.device, isa: info.isa, copy_GBps: copyGBps, reps, rows, conv, wavemix };
if (opt('--json')) writeFileSync(opt('--json')!, JSON.stringify(result, null, 1));
