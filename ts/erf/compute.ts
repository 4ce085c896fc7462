// Effective receptive field (Luo et al. 2016): the gradient of the centre output with
// respect to the input, |d y_centre / d x| summed over channels and averaged over random
// inputs, for a stack of WTConv2d layers and for a stack of plain depthwise convs with
// (about) the same number of parameters. ReLU between the layers makes it input-dependent.
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { WTConv2d } from '../modules/wtconv2d.js';
import { conv2d, conv2dBackward } from '../ops/conv.js';
import type { WaveletName } from '../wavelets.js';

export interface ErfOptions {
  layers: number;
  kernelSize: number;
  levels: number;
  size: number;
  channels: number;
  samples: number;
  seed: number;
  wavelet: WaveletName;
  /** wavelet_scale init (PyTorch's: 0.1). */
  waveletScale: number;
  /** Called after each forward/backward pass (for a progress bar). */
  onStep?: () => void;
}

export interface ErfMap {
  /** size x size, mean over samples of sum over channels of |grad|. */
  map: Float64Array;
  kernelSize: number;
  paramsPerChannel: number;
  /** Radii (pixels from the centre) holding 50% and 90% of the gradient mass. */
  r50: number;
  r90: number;
  /** Half-width of the square holding every non-zero gradient. */
  support: number;
}

export interface ErfResult {
  size: number;
  wtconv: ErfMap;
  depthwise: ErfMap;
}

/** Parameters per channel of a WTConv2d (with bias): base k^2 + bias + base_scale + levels * 4 * (k^2 + 1). */
export function wtconvParamsPerChannel(k: number, levels: number): number {
  return k * k + 2 + levels * 4 * (k * k + 1);
}

/** The odd depthwise kernel whose parameters per channel (K^2 + bias) come closest to `params`. */
export function matchingDepthwiseKernel(params: number): number {
  let best = 1;
  for (let K = 1; K * K <= 4 * params; K += 2) if (Math.abs(K * K + 1 - params) < Math.abs(best * best + 1 - params)) best = K;
  return best;
}

function relu(t: Tensor): { y: Tensor; mask: Uint8Array } {
  const y = new Float32Array(t.size);
  const mask = new Uint8Array(t.size);
  for (let i = 0; i < t.size; i++) if (t.data[i] > 0) (y[i] = t.data[i]), (mask[i] = 1);
  return { y: new Tensor(y, t.shape), mask };
}

function applyMask(g: Tensor, mask: Uint8Array): Tensor {
  const out = new Float32Array(g.size);
  for (let i = 0; i < g.size; i++) out[i] = mask[i] ? g.data[i] : 0;
  return new Tensor(out, g.shape);
}

/** One stack as forward(x) -> y and backward(gradY) -> gradX. */
interface Stack {
  forward(x: Tensor): Tensor;
  backward(g: Tensor): Tensor;
}

function wtconvStack(o: ErfOptions): Stack {
  const layers = Array.from({ length: o.layers }, (_, i) => {
    const l = new WTConv2d({ channels: o.channels, kernelSize: o.kernelSize, levels: o.levels, wavelet: o.wavelet, seed: o.seed + i });
    for (let j = 0; j < o.levels; j++) l.params[`wavelet_scale.${j}.weight`].data.fill(o.waveletScale);
    return l;
  });
  return chain(layers.map((l) => ({ forward: (x) => l.forward(x), backward: (g) => l.backward(g).x })));
}

function depthwiseStack(o: ErfOptions, K: number): Stack {
  const rng = new Random(o.seed + 1000);
  const bound = 1 / K;  // nn.Conv2d's init for fan_in = K * K
  const layers: Stack[] = Array.from({ length: o.layers }, () => {
    const w = new Tensor(rng.uniform(new Float32Array(o.channels * K * K), bound), [o.channels, 1, K, K]);
    const b = new Tensor(rng.uniform(new Float32Array(o.channels), bound), [o.channels]);
    const opts = { padding: 'same' as const, groups: o.channels };
    let saved: Tensor | null = null;
    return {
      forward: (x) => conv2d((saved = x), w, b, opts),
      backward: (g) => conv2dBackward(saved!, w, b, g, opts).x,
    };
  });
  return chain(layers);
}

/** Layers with ReLU between them. */
function chain(layers: Stack[]): Stack {
  let masks: Uint8Array[] = [];
  return {
    forward(x) {
      masks = [];
      let a = x;
      layers.forEach((l, i) => {
        const y = l.forward(a);
        if (i < layers.length - 1) {
          const r = relu(y);
          masks.push(r.mask);
          a = r.y;
        } else a = y;
      });
      return a;
    },
    backward(g) {
      for (let i = layers.length - 1; i >= 0; i--) {
        g = layers[i].backward(g);
        if (i > 0) g = applyMask(g, masks[i - 1]);
      }
      return g;
    },
  };
}

function measure(stack: Stack, o: ErfOptions, rng: Random): Float64Array {
  const { size: S, channels: C } = o;
  const map = new Float64Array(S * S);
  const centre = (S >> 1) * S + (S >> 1);
  const gradY = new Float32Array(C * S * S);
  for (let c = 0; c < C; c++) gradY[c * S * S + centre] = 1;
  for (let s = 0; s < o.samples; s++) {
    const x = new Tensor(rng.uniform(new Float32Array(C * S * S), Math.sqrt(3)), [1, C, S, S]);  // unit variance
    stack.forward(x);
    const g = stack.backward(new Tensor(gradY, [1, C, S, S]));
    for (let c = 0; c < C; c++) for (let i = 0; i < S * S; i++) map[i] += Math.abs(g.data[c * S * S + i]) / o.samples;
    o.onStep?.();
  }
  return map;
}

function describeMap(map: Float64Array, S: number, kernelSize: number, paramsPerChannel: number): ErfMap {
  const c = S >> 1;
  const byRadius: [number, number][] = [];
  let total = 0;
  let support = 0;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const v = map[y * S + x];
      byRadius.push([Math.hypot(y - c, x - c), v]);
      total += v;
      if (v > 0) support = Math.max(support, Math.abs(y - c), Math.abs(x - c));
    }
  }
  byRadius.sort((a, b) => a[0] - b[0]);
  const radiusHolding = (fraction: number) => {
    let acc = 0;
    for (const [r, v] of byRadius) if ((acc += v) >= fraction * total) return r;
    return byRadius[byRadius.length - 1][0];
  };
  return { map, kernelSize, paramsPerChannel, r50: radiusHolding(0.5), r90: radiusHolding(0.9), support };
}

export function effectiveReceptiveField(o: ErfOptions): ErfResult {
  const wtParams = wtconvParamsPerChannel(o.kernelSize, o.levels);
  const K = matchingDepthwiseKernel(wtParams);
  const wt = measure(wtconvStack(o), o, new Random(o.seed));
  const dw = measure(depthwiseStack(o, K), o, new Random(o.seed));
  return {
    size: o.size,
    wtconv: describeMap(wt, o.size, o.kernelSize, wtParams),
    depthwise: describeMap(dw, o.size, K, K * K + 1),
  };
}
