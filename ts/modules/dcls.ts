// The DCLS layers Dcls1d / Dcls2d / Dcls3d (SPEC section 4) with the upstream
// parameter names 'weight', 'P', 'SIG' (gauss), 'bias' and initialisation:
// weight and bias like nn.Conv (fan_in = in / groups * count), positions
// N(0, 0.5) clamped to +-size // 2, SIG 0.23. Call clampPositions() after each
// optimiser step, as upstream training loops do.
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { kernelArray } from '../runtime.js';
import { intIn, options } from '../ops/args.js';
import { intTuple } from '../ops/conv.js';
import { dclsConv, dclsConvBackward, type DclsConvOptions, type DclsVersion } from '../ops/dcls.js';
import { boolOption, loadParams, normalParam, uniformParam, type LoadOptions } from './state.js';

export interface DclsConfig {
  inChannels: number;
  outChannels: number;
  /** Weights (positions) per kernel. */
  kernelCount: number;
  /** Size of the constructed kernel: a number or one per spatial axis. */
  dilatedKernelSize: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  groups?: number;
  bias?: boolean;
  /** 'v0' (bilinear, default) or 'gauss'. */
  version?: DclsVersion;
  /** Seed of the parameter initialisation (default: random). */
  seed?: number;
}

const MAX = 2 ** 31 - 1;

abstract class DclsNd {
  /** Trainable parameters, keyed by the upstream state_dict names. */
  readonly params: Record<string, Tensor> = {};
  readonly dilatedKernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly groups: number;
  readonly version: DclsVersion;
  private saved: Tensor | null = null;

  constructor(readonly dims: number, config: DclsConfig, private readonly name: string) {
    const c = options<DclsConfig>(config, `${name} config`);
    const inChannels = intIn(c.inChannels, `${name} option 'inChannels'`, 1, MAX);
    const outChannels = intIn(c.outChannels, `${name} option 'outChannels'`, 1, MAX);
    const count = intIn(c.kernelCount, `${name} option 'kernelCount'`, 1, MAX);
    this.groups = intIn(c.groups ?? 1, `${name} option 'groups'`, 1, MAX);
    if (inChannels % this.groups || outChannels % this.groups) {
      fail('E_ARG', `${name} option 'groups': ${this.groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    this.dilatedKernelSize = intTuple(c.dilatedKernelSize, dims, `${name} option 'dilatedKernelSize'`, 1);
    this.stride = intTuple(c.stride ?? 1, dims, `${name} option 'stride'`, 1);
    this.padding = intTuple(c.padding ?? 0, dims, `${name} option 'padding'`, 0);
    const version = c.version ?? 'v0';
    if (version !== 'v0' && version !== 'gauss') fail('E_ARG', `${name} option 'version': expected 'v0' or 'gauss', got ${JSON.stringify(version)}`);
    this.version = version;
    const bias = boolOption(c.bias, true, `${name} option 'bias'`);

    const rng = new Random(c.seed);
    const wshape = [outChannels, inChannels / this.groups, count];
    const fanIn = wshape[1] * count;
    this.params.weight = uniformParam(rng, wshape, fanIn);
    if (bias) this.params.bias = uniformParam(rng, [outChannels], fanIn);
    this.params.P = normalParam(rng, [dims, ...wshape], 0.5);
    this.clampPositions();
    if (version === 'gauss') this.params.SIG = new Tensor(kernelArray(dims * wshape[0] * wshape[1] * count).fill(0.23), [dims, ...wshape]);
  }

  /** Clamps P[d] to [-size[d] // 2, size[d] // 2] in place. */
  clampPositions(): void {
    const P = this.params.P;
    const per = P.size / this.dims;
    for (let d = 0; d < this.dims; d++) {
      const lim = Math.floor(this.dilatedKernelSize[d] / 2);
      for (let i = d * per; i < (d + 1) * per; i++) P.data[i] = Math.min(lim, Math.max(-lim, P.data[i]));
    }
  }

  private opts(): DclsConvOptions {
    return {
      dilatedKernelSize: this.dilatedKernelSize, version: this.version, SIG: this.params.SIG,
      stride: this.stride, padding: this.padding, groups: this.groups,
    };
  }

  /** y = layer(x); keeps x for backward(). `out`: a tensor of y's shape to write into. */
  forward(x: Tensor, out?: Tensor): Tensor {
    const y = dclsConv(x, this.params.weight, this.params.P, this.params.bias ?? null, { ...this.opts(), out });
    this.saved = x;
    return y;
  }

  /**
   * Gradients for the input of the last forward() and every parameter, keyed 'x' and the
   * parameter names. `gradOut`: tensors to write them into (e.g. the previous call's result).
   */
  backward(gradY: Tensor, gradOut?: Record<string, Tensor>): Record<string, Tensor> {
    if (!this.saved) fail('E_STATE', `${this.name}.backward: call forward(x) first`);
    const g = dclsConvBackward(this.saved, this.params.weight, this.params.P, this.params.bias ?? null, gradY, { ...this.opts(), gradOut });
    const out: Record<string, Tensor> = { x: g.x, weight: g.weight, P: g.P };
    if (g.SIG) out.SIG = g.SIG;
    if (g.bias) out.bias = g.bias;
    return out;
  }

  /** The upstream module's state_dict (tensors shared, not copied). */
  stateDict(): Record<string, Tensor> {
    return { ...this.params };
  }

  /** Loads an upstream state dict (values copied). */
  loadStateDict(sd: Record<string, Tensor>, opts?: LoadOptions): void {
    loadParams(this.params, sd, opts, this.name);
  }
}

/** DCLS over (N, C, L). */
export class Dcls1d extends DclsNd {
  constructor(config: DclsConfig) {
    super(1, config, 'Dcls1d');
  }
}
/** DCLS over (N, C, H, W). */
export class Dcls2d extends DclsNd {
  constructor(config: DclsConfig) {
    super(2, config, 'Dcls2d');
  }
}
/** DCLS over (N, C, D, H, W). */
export class Dcls3d extends DclsNd {
  constructor(config: DclsConfig) {
    super(3, config, 'Dcls3d');
  }
}
