// Conv2d and ConvTranspose2d layers with PyTorch's parameter names ('weight',
// 'bias') and default initialisation, over the functional ops of ../ops/conv.ts.
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { intIn, options } from '../ops/args.js';
import { conv2d, conv2dBackward, convTranspose2d, convTranspose2dBackward, intTuple, type ConvGrads, type ConvOptions, type ConvTranspose2dOptions } from '../ops/conv.js';
import { boolOption, loadParams, uniformParam, type LoadOptions } from './state.js';

type Pair = number | [number, number];

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** Seed of the parameter initialisation (default: random). */
  seed?: number;
}

export interface ConvTranspose2dConfig extends Omit<Conv2dConfig, 'padding'> {
  padding?: Pair;
  outputPadding?: Pair;
}

const MAX = 2 ** 31 - 1;

function channels(c: Partial<Conv2dConfig>, what: string) {
  const inChannels = intIn(c.inChannels, `${what} option 'inChannels'`, 1, MAX);
  const outChannels = intIn(c.outChannels, `${what} option 'outChannels'`, 1, MAX);
  const groups = intIn(c.groups ?? 1, `${what} option 'groups'`, 1, MAX);
  if (inChannels % groups || outChannels % groups) {
    fail('E_ARG', `${what} option 'groups': ${groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
  }
  return { inChannels, outChannels, groups, kernelSize: intTuple(c.kernelSize, 2, `${what} option 'kernelSize'`, 1) as [number, number] };
}

abstract class ConvLayer<O extends { out?: Tensor; gradOut?: Partial<ConvGrads> }> {
  /** Trainable parameters, keyed by the PyTorch state_dict names. */
  readonly params: Record<string, Tensor> = {};
  private saved: Tensor | null = null;

  protected abstract readonly name: string;
  protected abstract opts(): O;
  protected abstract run(x: Tensor, weight: Tensor, bias: Tensor | null, opts: O): Tensor;
  protected abstract grad(x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts: O): ConvGrads;

  /** y = layer(x); keeps x for backward(). `out`: a tensor of y's shape to write into. */
  forward(x: Tensor, out?: Tensor): Tensor {
    const y = this.run(x, this.params.weight, this.params.bias ?? null, { ...this.opts(), out });
    this.saved = x;
    return y;
  }

  /**
   * Gradients for the input of the last forward() and the parameters, keyed 'x', 'weight',
   * 'bias'. `gradOut`: tensors to write them into (e.g. the previous call's result).
   */
  backward(gradY: Tensor, gradOut?: Record<string, Tensor>): Record<string, Tensor> {
    if (!this.saved) fail('E_STATE', `${this.name}.backward: call forward(x) first`);
    const g = this.grad(this.saved, this.params.weight, this.params.bias ?? null, gradY, { ...this.opts(), gradOut });
    const out: Record<string, Tensor> = { x: g.x, weight: g.weight };
    if (g.bias) out.bias = g.bias;
    return out;
  }

  /** The PyTorch module's state_dict (tensors shared, not copied). */
  stateDict(): Record<string, Tensor> {
    return { ...this.params };
  }

  /** Loads a PyTorch state dict (values copied). */
  loadStateDict(sd: Record<string, Tensor>, opts?: LoadOptions): void {
    loadParams(this.params, sd, opts, this.name);
  }
}

/** nn.Conv2d: weight (out, in / groups, kh, kw), bias (out). */
export class Conv2d extends ConvLayer<ConvOptions> {
  protected readonly name = 'Conv2d';
  readonly config: Required<Omit<Conv2dConfig, 'seed'>>;

  constructor(config: Conv2dConfig) {
    super();
    const c = options<Conv2dConfig>(config, 'Conv2d config');
    const ch = channels(c, 'Conv2d');
    const bias = boolOption(c.bias, true, "Conv2d option 'bias'");
    this.config = { ...ch, stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, bias };
    intTuple(this.config.stride, 2, "Conv2d option 'stride'", 1);
    intTuple(this.config.dilation, 2, "Conv2d option 'dilation'", 1);
    if (typeof this.config.padding !== 'string') intTuple(this.config.padding, 2, "Conv2d option 'padding'", 0);
    const rng = new Random(c.seed);
    const fanIn = (ch.inChannels / ch.groups) * ch.kernelSize[0] * ch.kernelSize[1];
    this.params.weight = uniformParam(rng, [ch.outChannels, ch.inChannels / ch.groups, ...ch.kernelSize], fanIn);
    if (bias) this.params.bias = uniformParam(rng, [ch.outChannels], fanIn);
  }

  protected opts() {
    const { stride, padding, dilation, groups } = this.config;
    return { stride, padding, dilation, groups };
  }
  protected run = conv2d;
  protected grad = conv2dBackward;
}

/** nn.ConvTranspose2d: weight (in, out / groups, kh, kw), bias (out). */
export class ConvTranspose2d extends ConvLayer<ConvTranspose2dOptions> {
  protected readonly name = 'ConvTranspose2d';
  readonly config: Required<Omit<ConvTranspose2dConfig, 'seed'>>;

  constructor(config: ConvTranspose2dConfig) {
    super();
    const c = options<ConvTranspose2dConfig>(config, 'ConvTranspose2d config');
    const ch = channels(c, 'ConvTranspose2d');
    const bias = boolOption(c.bias, true, "ConvTranspose2d option 'bias'");
    this.config = { ...ch, stride: c.stride ?? 1, padding: c.padding ?? 0, outputPadding: c.outputPadding ?? 0, dilation: c.dilation ?? 1, bias };
    intTuple(this.config.stride, 2, "ConvTranspose2d option 'stride'", 1);
    intTuple(this.config.padding, 2, "ConvTranspose2d option 'padding'", 0);
    intTuple(this.config.outputPadding, 2, "ConvTranspose2d option 'outputPadding'", 0);
    intTuple(this.config.dilation, 2, "ConvTranspose2d option 'dilation'", 1);
    const rng = new Random(c.seed);
    // PyTorch computes fan_in from the weight's dim 1: out / groups * kh * kw.
    const fanIn = (ch.outChannels / ch.groups) * ch.kernelSize[0] * ch.kernelSize[1];
    this.params.weight = uniformParam(rng, [ch.inChannels, ch.outChannels / ch.groups, ...ch.kernelSize], fanIn);
    if (bias) this.params.bias = uniformParam(rng, [ch.outChannels], fanIn);
  }

  protected opts() {
    const { stride, padding, outputPadding, dilation, groups } = this.config;
    return { stride, padding, outputPadding, dilation, groups };
  }
  protected run = convTranspose2d;
  protected grad = convTranspose2dBackward;
}
