// WTConv2d (SPEC section 1): validation and memory here, arithmetic in
// core/src/operators/wtconv2d-nchw.cc through the C ABI.
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { In, Out } from '../backends/backend.js';
import { current } from '../runtime.js';
import { waveletId, type WaveletName } from '../wavelets.js';
import { expectShape, gradientTensors, intIn, intPair, nchw, options, outputTensor, param, record } from './args.js';

export interface WTConv2dOptions {
  /** Wavelet levels (default: as many as `params` has `wavelet_convs.{i}.weight`). */
  levels?: number;
  /** Output subsampling: a number or [sh, sw] (default 1). */
  stride?: number | [number, number];
  /** 'db1' (Haar, default) .. 'db4'. */
  wavelet?: WaveletName;
  /**
   * Forward only: a tensor of the output's shape to write into instead of a
   * new one, so repeated calls reuse memory (fresh output memory costs page
   * faults on every call). It must not share memory with x.
   */
  out?: Tensor;
  /**
   * Backward only: tensors to write the gradients into, keyed as the result
   * (the record a previous call returned, or part of it); the others are new.
   * Each must have its gradient's shape and share memory with no input.
   */
  gradOut?: Record<string, Tensor>;
}

/** Parameters keyed by the PyTorch state_dict names of SPEC section 1. */
export type WTConv2dParams = Record<string, Tensor>;

export const MAX_LEVELS = 30;

interface Plan {
  dims: number[];  // n, c, h, w, k, levels, sh, sw, wavelet: the C ABI's leading arguments
  n: number;
  c: number;
  outH: number;
  outW: number;
  baseWeight: Tensor;
  baseBias: Tensor | null;
  baseScale: Tensor;
  waveletWeights: Tensor[];
  waveletScales: Tensor[];
}

function countLevels(params: Record<string, unknown>): number {
  let levels = 0;
  while (Object.prototype.hasOwnProperty.call(params, `wavelet_convs.${levels}.weight`)) levels++;
  return levels;
}

function plan(x: unknown, paramsIn: unknown, opts: unknown): Plan {
  const [n, c, h, w] = nchw(x, 'x');
  const params = record(paramsIn, 'params');
  const o = options<WTConv2dOptions>(opts, 'wtconv2d options');
  const wavelet = waveletId(o.wavelet ?? 'db1', "option 'wavelet'");
  const [sh, sw] = intPair(o.stride ?? 1, "option 'stride'");
  const levels = o.levels === undefined ? countLevels(params) : intIn(o.levels, "option 'levels'", 1, MAX_LEVELS);
  if (levels < 1) fail('E_STATE', "params: no 'wavelet_convs.0.weight' found, and option 'levels' was not given");
  const bw = params['base_conv.weight'];
  if (!(bw instanceof Tensor)) fail('E_STATE', `params: missing parameter 'base_conv.weight' (expected shape [${c}, 1, k, k])`);
  const k = bw.shape[2];
  if (bw.rank !== 4 || bw.shape[0] !== c || bw.shape[1] !== 1 || bw.shape[3] !== k) {
    fail('E_SHAPE', `params['base_conv.weight']: expected shape [${c}, 1, k, k] for x with ${c} channels, got [${bw.shape.join(', ')}]`);
  }
  if (k > 1024) fail('E_ARG', `params['base_conv.weight']: kernel size ${k} exceeds 1024`);
  const hasBias = params['base_conv.bias'] !== undefined && params['base_conv.bias'] !== null;
  const waveletWeights: Tensor[] = [];
  const waveletScales: Tensor[] = [];
  for (let i = 0; i < levels; i++) {
    waveletWeights.push(param(params, `wavelet_convs.${i}.weight`, [4 * c, 1, k, k]));
    waveletScales.push(param(params, `wavelet_scale.${i}.weight`, [1, 4 * c, 1, 1]));
  }
  return {
    dims: [n, c, h, w, k, levels, sh, sw, wavelet],
    n,
    c,
    outH: Math.ceil(h / sh),
    outW: Math.ceil(w / sw),
    baseWeight: bw,
    baseBias: hasBias ? param(params, 'base_conv.bias', [c]) : null,
    baseScale: param(params, 'base_scale.weight', [1, c, 1, 1]),
    waveletWeights,
    waveletScales,
  };
}

function paramArgs(p: Plan) {
  return [
    new In(p.baseWeight),
    p.baseBias ? new In(p.baseBias) : null,
    new In(p.baseScale),
    new In(p.waveletWeights),
    new In(p.waveletScales),
  ];
}

/** The parameters of a plan keyed by their state_dict names, in the order of the C ABI. */
function namedParams(p: Plan): [string, Tensor][] {
  const named: [string, Tensor][] = [['base_conv.weight', p.baseWeight]];
  if (p.baseBias) named.push(['base_conv.bias', p.baseBias]);
  named.push(['base_scale.weight', p.baseScale]);
  p.waveletWeights.forEach((t, i) => named.push([`wavelet_convs.${i}.weight`, t]));
  p.waveletScales.forEach((t, i) => named.push([`wavelet_scale.${i}.weight`, t]));
  return named;
}

/** WTConv2d forward: x (N, C, H, W) -> (N, C, ceil(H / sh), ceil(W / sw)). */
export function wtconv2d(x: Tensor, params: WTConv2dParams, opts?: WTConv2dOptions): Tensor {
  const p = plan(x, params, opts);
  const y = outputTensor([p.n, p.c, p.outH, p.outW], opts?.out, { x });
  current().run('wtconv2dForward', [...p.dims, new In(x), ...paramArgs(p), new Out(y)]);
  return y;
}

/**
 * WTConv2d backward: the gradients of sum(gradY * wtconv2d(x, params)) for `x` and
 * every parameter, keyed 'x' and the parameter names.
 */
export function wtconv2dBackward(x: Tensor, params: WTConv2dParams, gradY: Tensor, opts?: WTConv2dOptions): Record<string, Tensor> {
  const p = plan(x, params, opts);
  expectShape(gradY, [p.n, p.c, p.outH, p.outW], 'gradY');
  const named = namedParams(p);
  const shapes = Object.fromEntries([['x', x.shape], ...named.map(([k, t]) => [k, t.shape])]);
  const inputs = Object.fromEntries([['x', x], ['gradY', gradY], ...named]);
  const grads = gradientTensors(shapes, opts?.gradOut, inputs);
  const levels = p.waveletWeights.map((_, i) => i);
  current().run('wtconv2dBackward', [
    ...p.dims,
    new In(x),
    ...paramArgs(p),
    new In(gradY),
    new Out(grads.x),
    new Out(grads['base_conv.weight']),
    p.baseBias ? new Out(grads['base_conv.bias']) : null,
    new Out(grads['base_scale.weight']),
    new Out(levels.map((i) => grads[`wavelet_convs.${i}.weight`])),
    new Out(levels.map((i) => grads[`wavelet_scale.${i}.weight`])),
  ]);
  return grads;
}
