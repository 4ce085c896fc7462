// The WTConv2d layer: PyTorch's parameter names and initialisation, forward and
// backward over the functional ops, state dicts that load PyTorch's as they are.
import { WTConvError, fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { kernelArray } from '../runtime.js';
import { MAX_LEVELS, wtconv2d, wtconv2dBackward, type WTConv2dOptions } from '../ops/wtconv2d.js';
import { intIn, intPair, options } from '../ops/args.js';
import { waveletFilters2d, waveletId, type WaveletName } from '../wavelets.js';

export interface WTConv2dConfig {
  channels: number;
  kernelSize?: number;
  levels?: number;
  stride?: number | [number, number];
  bias?: boolean;
  wavelet?: WaveletName;
  /** Seed of the parameter initialisation (default: random). */
  seed?: number;
}

export interface LoadStateDictOptions {
  /** Refuse unexpected keys (default true), as PyTorch's strict loading does. */
  strict?: boolean;
}

/** WTConv2d (Finder et al.): depthwise conv plus a multi-level wavelet-domain conv. */
export class WTConv2d {
  readonly channels: number;
  readonly kernelSize: number;
  readonly levels: number;
  readonly stride: [number, number];
  readonly bias: boolean;
  readonly wavelet: WaveletName;
  /** Trainable parameters, keyed by the PyTorch state_dict names. */
  readonly params: Record<string, Tensor> = {};
  private readonly fixed: Record<string, Tensor> = {};
  private savedInput: Tensor | null = null;

  constructor(config: WTConv2dConfig) {
    const c = options<WTConv2dConfig>(config, 'WTConv2d config');
    this.channels = intIn(c.channels, "WTConv2d option 'channels'", 1, 2 ** 24);
    this.kernelSize = intIn(c.kernelSize ?? 5, "WTConv2d option 'kernelSize'", 1, 1024);
    this.levels = intIn(c.levels ?? 1, "WTConv2d option 'levels'", 1, MAX_LEVELS);
    this.stride = intPair(c.stride ?? 1, "WTConv2d option 'stride'");
    if (c.bias !== undefined && typeof c.bias !== 'boolean') fail('E_ARG', `WTConv2d option 'bias': expected a boolean, got ${JSON.stringify(c.bias)}`);
    this.bias = c.bias ?? true;
    waveletId(c.wavelet ?? 'db1', "WTConv2d option 'wavelet'");
    this.wavelet = c.wavelet ?? 'db1';

    // nn.Conv2d's default init: kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    // for the weight and the same bound for the bias; fan_in = k*k for depthwise kernels.
    const rng = new Random(c.seed);
    const C = this.channels;
    const k = this.kernelSize;
    const bound = 1 / Math.sqrt(k * k);
    this.params['base_conv.weight'] = new Tensor(rng.uniform(kernelArray(C * k * k), bound), [C, 1, k, k]);
    if (this.bias) this.params['base_conv.bias'] = new Tensor(rng.uniform(kernelArray(C), bound), [C]);
    this.params['base_scale.weight'] = new Tensor(kernelArray(C).fill(1), [1, C, 1, 1]);
    for (let i = 0; i < this.levels; i++) {
      this.params[`wavelet_convs.${i}.weight`] = new Tensor(rng.uniform(kernelArray(4 * C * k * k), bound), [4 * C, 1, k, k]);
      this.params[`wavelet_scale.${i}.weight`] = new Tensor(kernelArray(4 * C).fill(0.1), [1, 4 * C, 1, 1]);
    }
    const { wt, iwt, length: f } = waveletFilters2d(this.wavelet, C);
    this.fixed.wt_filter = new Tensor(wt, [4 * C, 1, f, f]);
    this.fixed.iwt_filter = new Tensor(iwt, [4 * C, 1, f, f]);
    if (this.stride[0] > 1 || this.stride[1] > 1) this.fixed.stride_filter = new Tensor(new Float32Array(C).fill(1), [C, 1, 1, 1]);
  }

  private get opts(): WTConv2dOptions {
    return { levels: this.levels, stride: this.stride, wavelet: this.wavelet };
  }

  /** y = WTConv2d(x); keeps x for backward(). `out`: a tensor of y's shape to write into. */
  forward(x: Tensor, out?: Tensor): Tensor {
    const y = wtconv2d(x, this.params, { ...this.opts, out });
    this.savedInput = x;
    return y;
  }

  /**
   * Gradients for the input of the last forward() and every parameter, keyed 'x' and the
   * parameter names. `gradOut`: tensors to write them into (e.g. the previous call's result).
   */
  backward(gradY: Tensor, gradOut?: Record<string, Tensor>): Record<string, Tensor> {
    if (!this.savedInput) fail('E_STATE', 'WTConv2d.backward: call forward(x) first');
    return wtconv2dBackward(this.savedInput, this.params, gradY, { ...this.opts, gradOut });
  }

  /** Every tensor of the PyTorch module's state_dict (the parameters are shared, not copied). */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(this.params)) sd[k] = v;
    for (const [k, v] of Object.entries(this.fixed)) sd[k] = v;
    return sd;
  }

  /** Loads a PyTorch state dict (values are copied). Missing keys, wrong shapes and (strict) unexpected keys throw. */
  loadStateDict(sd: Record<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    if (sd === null || typeof sd !== 'object') fail('E_ARG', `loadStateDict: expected an object of tensors, got ${JSON.stringify(sd)}`);
    const strict = opts.strict ?? true;
    const expected = this.stateDict();
    const missing = Object.keys(this.params).filter((k) => !Object.prototype.hasOwnProperty.call(sd, k));
    if (missing.length) fail('E_STATE', `loadStateDict: missing keys ${missing.map((k) => `'${k}'`).join(', ')}`);
    const unexpected = Object.keys(sd).filter((k) => !Object.prototype.hasOwnProperty.call(expected, k));
    if (strict && unexpected.length) fail('E_STATE', `loadStateDict: unexpected keys ${unexpected.map((k) => `'${k}'`).join(', ')} (pass { strict: false } to ignore them)`);
    for (const [k, want] of Object.entries(expected)) {
      if (!Object.prototype.hasOwnProperty.call(sd, k)) continue;  // fixed filters are optional
      const got = sd[k];
      if (!(got instanceof Tensor)) fail('E_DTYPE', `loadStateDict: '${k}' is not a Tensor`);
      if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
        fail('E_SHAPE', `loadStateDict: '${k}' has shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
      }
      if (k in this.fixed) {
        // The wavelet filters are fixed by the wavelet: they must match it.
        let worst = 0;
        for (let i = 0; i < want.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
        if (!(worst <= 1e-6)) {
          throw new WTConvError('E_STATE', `loadStateDict: '${k}' does not match wavelet '${this.wavelet}' (max difference ${worst}); was the layer trained with another wavelet?`);
        }
      }
    }
    for (const k of Object.keys(this.params)) this.params[k].data.set(sd[k].data);
  }
}
