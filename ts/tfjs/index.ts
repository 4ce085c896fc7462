// wtconv/tfjs: a WTConv2D layer for TensorFlow.js (@tensorflow/tfjs-layers), with
// gradients (model.fit trains it) and serialisation (model.save / tf.loadLayersModel).
//
// TF.js is channels-last (NHWC); the wtconv kernels are NCHW. Each call therefore reads
// the input out of the TF.js backend (dataSync), transposes it to NCHW while copying,
// runs the wtconv kernel, and transposes the result back into a new TF.js tensor; the
// backward pass does the same with the upstream gradient. The extra cost per call is two
// O(N*H*W*C) copies each way plus the backend download/upload (cheap on the cpu and wasm
// backends, a GPU read-back on webgl/webgpu). Call `await wt.init()` before using the layer.
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import * as wt from '../index.js';

export interface WTConv2DArgs {
  /** Kernel size of the base and wavelet-domain depthwise convs (default 5). */
  kernelSize?: number;
  /** Wavelet levels (default 1). */
  levels?: number;
  /** Output subsampling (default 1). */
  strides?: number | [number, number];
  /** A bias in the base conv (default true). */
  useBias?: boolean;
  wavelet?: wt.WaveletName;
  /** Seed of the random weight initialisation (default: unseeded). */
  seed?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  dtype?: 'float32';
}

/** NHWC -> NCHW copy. */
function toNchw(src: ArrayLike<number>, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(n * c * h * w);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const s0 = b * plane * c;
    const d0 = b * c * plane;
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < c; ch++) out[d0 + ch * plane + p] = src[s0 + p * c + ch];
  }
  return out;
}

/** NCHW -> NHWC copy. */
function toNhwc(src: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * h * w * c);
  const plane = h * w;
  for (let b = 0; b < n; b++) {
    const s0 = b * c * plane;
    const d0 = b * plane * c;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[d0 + p * c + ch] = src[s0 + ch * plane + p];
  }
  return out;
}

/**
 * WTConv2d (Finder et al.) as a TF.js layer on NHWC inputs: depthwise, so the output has
 * the input's channels; spatial size ceil(H / stride). Its weights have the PyTorch
 * module's names and layouts (`base_conv.weight` (C, 1, k, k), `wavelet_convs.0.weight`
 * (4C, 1, k, k), ...), so `stateDict()` / `loadStateDict()` exchange them with PyTorch.
 */
export class WTConv2D extends layers.Layer {
  static className = 'WTConv2D';
  readonly kernelSize: number;
  readonly levels: number;
  readonly strides: [number, number];
  readonly useBias: boolean;
  readonly wavelet: wt.WaveletName;
  readonly seed: number | undefined;
  private names: string[] = [];
  private vars: LayerVariable[] = [];

  constructor(args: WTConv2DArgs = {}) {
    super(args as ConstructorParameters<typeof layers.Layer>[0]);
    this.kernelSize = args.kernelSize ?? 5;
    this.levels = args.levels ?? 1;
    const s = args.strides ?? 1;
    this.strides = Array.isArray(s) ? [s[0], s[1]] : [s, s];
    this.useBias = args.useBias ?? true;
    this.wavelet = args.wavelet ?? 'db1';
    this.seed = args.seed;
    // Checks every option the way the wtconv module does (throws WTConvError).
    new wt.WTConv2d({ channels: 1, kernelSize: this.kernelSize, levels: this.levels, stride: this.strides, bias: this.useBias, wavelet: this.wavelet, seed: 0 });
  }

  build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const c = shape[3];
    if (shape.length !== 4 || !c) {
      throw new wt.WTConvError('E_SHAPE', `WTConv2D: expected an NHWC input with known channels, got [${shape.map(String).join(', ')}]`);
    }
    const k = this.kernelSize;
    const bound = 1 / k;  // nn.Conv2d's kaiming-uniform(a=sqrt(5)) bound for fan_in = k * k
    let draws = 0;  // a seeded layer gives each weight its own stream
    const uniform = () => initializers.randomUniform({ minval: -bound, maxval: bound, seed: this.seed === undefined ? undefined : this.seed + draws++ });
    const add = (name: string, s: number[], init: ReturnType<typeof initializers.zeros>) => {
      this.names.push(name);
      this.vars.push(this.addWeight(name, s, 'float32', init));
    };
    add('base_conv.weight', [c, 1, k, k], uniform());
    if (this.useBias) add('base_conv.bias', [c], uniform());
    add('base_scale.weight', [1, c, 1, 1], initializers.ones());
    for (let i = 0; i < this.levels; i++) {
      add(`wavelet_convs.${i}.weight`, [4 * c, 1, k, k], uniform());
      add(`wavelet_scale.${i}.weight`, [1, 4 * c, 1, 1], initializers.constant({ value: 0.1 }));
    }
    this.built = true;
  }

  computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const sub = (v: number | null, st: number) => (v === null ? null : Math.ceil(v / st));
    return [s[0], sub(s[1], this.strides[0]), sub(s[2], this.strides[1]), s[3]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const opts = { levels: this.levels, stride: this.strides, wavelet: this.wavelet };
    const names = this.names;
    const op = tf.customGrad((...args: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
      const [xt, ...weights] = args.slice(0, -1) as tf.Tensor[];
      const [n, h, w, c] = xt.shape;
      const params: Record<string, wt.Tensor> = {};
      weights.forEach((v, i) => (params[names[i]] = new wt.Tensor(Float32Array.from(v.dataSync()), v.shape)));
      const xn = new wt.Tensor(toNchw(xt.dataSync(), n, h, w, c), [n, c, h, w]);
      const y = wt.wtconv2d(xn, params, opts);
      const [, , ho, wo] = y.shape;
      const value = tf.tensor4d(toNhwc(y.data, n, c, ho, wo), [n, ho, wo, c]);
      const gradFunc = (dy: tf.Tensor) => {
        const g = wt.wtconv2dBackward(xn, params, new wt.Tensor(toNchw(dy.dataSync(), n, ho, wo, c), [n, c, ho, wo]), opts);
        return [tf.tensor4d(toNhwc(g.x.data, n, c, h, w), [n, h, w, c]), ...names.map((k, i) => tf.tensor(g[k].data, weights[i].shape))];
      };
      return { value, gradFunc };
    });
    return tf.tidy(() => op(x, ...this.vars.map((v) => v.read())));
  }

  /** The weights under the PyTorch state_dict names (copies). */
  stateDict(): Record<string, wt.Tensor> {
    const sd: Record<string, wt.Tensor> = {};
    this.vars.forEach((v, i) => (sd[this.names[i]] = new wt.Tensor(Float32Array.from(v.read().dataSync()), v.shape as number[])));
    return sd;
  }

  /** Loads a PyTorch WTConv2d state dict (e.g. from wt.loadSafetensors); the fixed filters are ignored. */
  loadStateDict(sd: Record<string, wt.Tensor>): void {
    const values = this.names.map((name, i) => {
      const t = sd[name];
      const want = this.vars[i].shape as number[];
      if (!(t instanceof wt.Tensor)) throw new wt.WTConvError('E_STATE', `WTConv2D.loadStateDict: missing '${name}'`);
      if (t.shape.length !== want.length || t.shape.some((d, j) => d !== want[j])) {
        throw new wt.WTConvError('E_SHAPE', `WTConv2D.loadStateDict: '${name}' has shape [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
      }
      return tf.tensor(t.data, want);
    });
    this.setWeights(values);
    tf.dispose(values);
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      levels: this.levels,
      strides: this.strides,
      useBias: this.useBias,
      wavelet: this.wavelet,
    };
  }
}
tf.serialization.registerClass(WTConv2D);

/** `wtconv2D({ kernelSize, levels })`, in the style of tf.layers.conv2d. */
export function wtconv2D(args: WTConv2DArgs = {}): WTConv2D {
  return new WTConv2D(args);
}
