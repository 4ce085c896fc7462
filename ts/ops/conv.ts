// General convolutions (SPEC section 3): conv1d / conv2d / conv3d and
// convTranspose2d with PyTorch's semantics. Validation and memory here,
// arithmetic in core/src/operators/conv*-*.cc (unfold -> GEMM -> fold).
import { fail } from '../errors.js';
import { Tensor, asTensor } from '../tensor.js';
import { In, Out, type KernelName } from '../backends/backend.js';
import { current } from '../runtime.js';
import { expectShape, gradientTensors, options, outputTensor } from './args.js';

type IntOption = number | readonly number[];

export interface ConvOptions {
  /** A number or one value per spatial axis (default 1). */
  stride?: IntOption;
  /**
   * Forward only: a tensor of the output's shape to write into instead of a new
   * one, so repeated calls reuse memory (fresh output memory costs page faults
   * on every call). It must not share memory with x, the weight or the bias.
   */
  out?: Tensor;
  /**
   * Backward only: tensors to write the gradients into, keyed as the result
   * (`x`, `weight`, `bias`; the record a previous call returned, or part of
   * it); the others are new. Each must share memory with no input.
   */
  gradOut?: Partial<ConvGrads>;
  /** Zero padding on both sides of each axis, or 'valid' (0) / 'same' (stride 1, symmetric) (default 0). */
  padding?: IntOption | 'valid' | 'same';
  /** Default 1. */
  dilation?: IntOption;
  /** Default 1. */
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: IntOption;
  /** Forward only: a tensor of the output's shape to write into (see ConvOptions.out). */
  out?: Tensor;
  /** Backward only: tensors to write the gradients into (see ConvOptions.gradOut). */
  gradOut?: Partial<ConvGrads>;
  /**
   * Forward only: output channel o is multiplied by scale[o] (shape [C_out])
   * before the bias is added, in the same pass: an eval-mode BatchNorm folded in.
   */
  scale?: Tensor;
  /**
   * Forward only: a tensor of the output's shape added to the output in the
   * same pass (a skip connection); it must not share memory with `out`.
   */
  residual?: Tensor;
  padding?: IntOption;
  /** Extra rows / columns at the bottom / right of the output (smaller than stride or dilation). */
  outputPadding?: IntOption;
  dilation?: IntOption;
  groups?: number;
}

/** Gradients of a convolution: input, weight and (when there is a bias) bias. */
export interface ConvGrads {
  x: Tensor;
  weight: Tensor;
  bias?: Tensor;
}

const INT32_MAX = 2 ** 31 - 1;
/** Rows of the unfolded input the core accepts (in_channels / groups x taps). */
const MAX_ROWS = 2 ** 22;

/** A number, or `dims` of them, each an integer >= min. */
export function intTuple(v: unknown, dims: number, what: string, min: number): number[] {
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= INT32_MAX;
  if (ok(v)) return Array(dims).fill(v as number);
  if (Array.isArray(v) && v.length === dims && v.every(ok)) return [...v] as number[];
  return fail('E_ARG', `${what}: expected an integer >= ${min} or ${dims} of them, got ${JSON.stringify(v)}`);
}

function groupsOption(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > INT32_MAX) {
    fail('E_ARG', `${what}: expected a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

const AXES = ['', '(N, C, L)', '(N, C, H, W)', '(N, C, D, H, W)'];

function ranked(t: unknown, dims: number, what: string): Tensor {
  const x = asTensor(t, what);
  if (x.rank !== dims + 2) fail('E_SHAPE', `${what}: expected a ${dims + 2}-D tensor ${AXES[dims]}, got shape [${x.shape.join(', ')}]`);
  if (x.size / x.shape[0] > INT32_MAX) fail('E_SHAPE', `${what}: shape [${x.shape.join(', ')}] is too large`);
  return x;
}

function biasOf(bias: unknown, channels: number): Tensor | null {
  if (bias === null || bias === undefined) return null;
  return expectShape(bias, [channels], 'bias');
}

interface ConvPlan {
  dims: number;
  args: number[];  // the C ABI's leading integers
  outShape: number[];
  bias: Tensor | null;
}

/** Checks a dims-axis convolution and works out its output shape. */
export function planConv(dims: number, x: unknown, weight: unknown, bias: unknown, opts: unknown): ConvPlan {
  const xt = ranked(x, dims, 'x');
  const wt = ranked(weight, dims, 'weight');
  const o = options<ConvOptions>(opts, `conv${dims}d options`);
  const groups = groupsOption(o.groups ?? 1, "option 'groups'");
  const [n, cin, ...spatial] = xt.shape;
  const [cout, cinPerGroup, ...kernel] = wt.shape;
  if (cin % groups !== 0 || cout % groups !== 0) {
    fail('E_ARG', `option 'groups': ${groups} must divide the input channels (${cin}) and the output channels (${cout})`);
  }
  if (cinPerGroup * groups !== cin) {
    fail('E_SHAPE', `weight: expected shape [${cout}, ${cin / groups}, ${kernel.join(', ')}] (in_channels / groups = ${cin}/${groups}), got [${wt.shape.join(', ')}]`);
  }
  const rows = cinPerGroup * kernel.reduce((a, b) => a * b, 1);
  if (rows > MAX_ROWS) fail('E_SHAPE', `weight: in_channels / groups x kernel taps is ${rows}, more than the supported ${MAX_ROWS}`);
  const stride = intTuple(o.stride ?? 1, dims, "option 'stride'", 1);
  const dilation = intTuple(o.dilation ?? 1, dims, "option 'dilation'", 1);
  let padding: number[];
  if (o.padding === 'valid') padding = Array(dims).fill(0);
  else if (o.padding === 'same') {
    padding = kernel.map((k, a) => {
      const total = dilation[a] * (k - 1);
      if (stride[a] !== 1 || total % 2 !== 0) {
        fail('E_ARG', `option 'padding': 'same' needs stride 1 and an even dilation * (kernel - 1) on every axis, got ${total} on axis ${a}`);
      }
      return total / 2;
    });
  } else padding = intTuple(o.padding ?? 0, dims, "option 'padding'", 0);
  const out = spatial.map((s, a) => {
    const span = dilation[a] * (kernel[a] - 1) + 1;
    if (span > s + 2 * padding[a]) {
      fail('E_SHAPE', `weight: dilated kernel size ${span} on axis ${a} is larger than the padded input ${s + 2 * padding[a]}`);
    }
    return Math.floor((s + 2 * padding[a] - span) / stride[a]) + 1;
  });
  return {
    dims,
    args: [n, cin, ...spatial, cout, ...kernel, ...stride, ...padding, ...dilation, groups],
    outShape: [n, cout, ...out],
    bias: biasOf(bias, cout),
  };
}

const FORWARD: Record<number, KernelName> = { 1: 'conv1dForward', 2: 'conv2dForward', 3: 'conv3dForward' };
const BACKWARD: Record<number, KernelName> = { 1: 'conv1dBackward', 2: 'conv2dBackward', 3: 'conv3dBackward' };

function forward(dims: number, x: Tensor, weight: Tensor, bias: Tensor | null, opts?: ConvOptions): Tensor {
  const p = planConv(dims, x, weight, bias, opts);
  const y = outputTensor(p.outShape, opts?.out, { x, weight, bias: p.bias });
  // Tensors (not their data) so that device tensors stay on the device (backends/cuda.ts).
  current().run(FORWARD[dims], [...p.args, new In(x), new In(weight), p.bias ? new In(p.bias) : null, new Out(y)]);
  return y;
}

/** The gradient tensors of a convolution's backward: those of `gradOut` where given, else new. */
function convGradients(x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, gradOut: unknown): ConvGrads {
  const shapes: Record<string, readonly number[]> = { x: x.shape, weight: weight.shape };
  if (bias) shapes.bias = bias.shape;
  return gradientTensors(shapes, gradOut, { x, weight, bias, gradY }) as unknown as ConvGrads;
}

function backward(dims: number, x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts?: ConvOptions): ConvGrads {
  const p = planConv(dims, x, weight, bias, opts);
  expectShape(gradY, p.outShape, 'gradY');
  const g = convGradients(x, weight, p.bias, gradY, opts?.gradOut);
  current().run(BACKWARD[dims], [
    ...p.args, new In(x), new In(weight), new In(gradY), new Out(g.x), new Out(g.weight), g.bias ? new Out(g.bias) : null,
  ]);
  return g;
}

/** F.conv1d: x (N, C_in, L), weight (C_out, C_in / groups, k), bias (C_out) or null. */
export const conv1d = (x: Tensor, weight: Tensor, bias: Tensor | null, opts?: ConvOptions) => forward(1, x, weight, bias, opts);
/** F.conv2d: x (N, C_in, H, W), weight (C_out, C_in / groups, kh, kw), bias (C_out) or null. */
export const conv2d = (x: Tensor, weight: Tensor, bias: Tensor | null, opts?: ConvOptions) => forward(2, x, weight, bias, opts);
/** F.conv3d: x (N, C_in, D, H, W), weight (C_out, C_in / groups, kd, kh, kw), bias (C_out) or null. */
export const conv3d = (x: Tensor, weight: Tensor, bias: Tensor | null, opts?: ConvOptions) => forward(3, x, weight, bias, opts);
/** Gradients of sum(gradY * conv1d(x, weight, bias)). */
export const conv1dBackward = (x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts?: ConvOptions) => backward(1, x, weight, bias, gradY, opts);
/** Gradients of sum(gradY * conv2d(x, weight, bias)). */
export const conv2dBackward = (x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts?: ConvOptions) => backward(2, x, weight, bias, gradY, opts);
/** Gradients of sum(gradY * conv3d(x, weight, bias)). */
export const conv3dBackward = (x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts?: ConvOptions) => backward(3, x, weight, bias, gradY, opts);

function planTranspose(x: unknown, weight: unknown, bias: unknown, opts: unknown): ConvPlan {
  const xt = ranked(x, 2, 'x');
  const wt = ranked(weight, 2, 'weight');
  const o = options<ConvTranspose2dOptions>(opts, 'convTranspose2d options');
  const groups = groupsOption(o.groups ?? 1, "option 'groups'");
  const [n, cin, h, w] = xt.shape;
  const [win, coutPerGroup, kh, kw] = wt.shape;
  if (cin % groups !== 0) fail('E_ARG', `option 'groups': ${groups} must divide the input channels (${cin})`);
  if (win !== cin) fail('E_SHAPE', `weight: expected shape [${cin}, C_out / groups, kh, kw] for x with ${cin} channels, got [${wt.shape.join(', ')}]`);
  const cout = coutPerGroup * groups;
  const stride = intTuple(o.stride ?? 1, 2, "option 'stride'", 1);
  const padding = intTuple(o.padding ?? 0, 2, "option 'padding'", 0);
  const outputPadding = intTuple(o.outputPadding ?? 0, 2, "option 'outputPadding'", 0);
  const dilation = intTuple(o.dilation ?? 1, 2, "option 'dilation'", 1);
  const out = [h, w].map((s, a) => {
    if (outputPadding[a] >= stride[a] && outputPadding[a] >= dilation[a]) {
      fail('E_ARG', `option 'outputPadding': ${outputPadding[a]} on axis ${a} must be smaller than the stride (${stride[a]}) or the dilation (${dilation[a]})`);
    }
    const size = (s - 1) * stride[a] - 2 * padding[a] + dilation[a] * ([kh, kw][a] - 1) + outputPadding[a] + 1;
    if (size < 1) fail('E_SHAPE', `convTranspose2d: output size ${size} on axis ${a} is not positive (padding ${padding[a]} too large)`);
    return size;
  });
  return {
    dims: 2,
    args: [n, cin, h, w, cout, kh, kw, ...stride, ...padding, ...outputPadding, ...dilation, groups],
    outShape: [n, cout, ...out],
    bias: biasOf(bias, cout),
  };
}

/** F.conv_transpose2d: x (N, C_in, H, W), weight (C_in, C_out / groups, kh, kw), bias (C_out) or null. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null, opts?: ConvTranspose2dOptions): Tensor {
  const p = planTranspose(x, weight, bias, opts);
  const scale = opts?.scale === undefined ? null : expectShape(opts.scale, [p.outShape[1]], "option 'scale'");
  const residual = opts?.residual === undefined ? null : expectShape(opts.residual, p.outShape, "option 'residual'");
  const y = outputTensor(p.outShape, opts?.out, { x, weight, bias: p.bias, "option 'scale'": scale, "option 'residual'": residual });
  current().run('convTranspose2dForward', [
    ...p.args, new In(x), new In(weight), scale ? new In(scale) : null, p.bias ? new In(p.bias) : null,
    residual ? new In(residual) : null, new Out(y),
  ]);
  return y;
}

/** Gradients of sum(gradY * convTranspose2d(x, weight, bias)). */
export function convTranspose2dBackward(x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor, opts?: ConvTranspose2dOptions): ConvGrads {
  const p = planTranspose(x, weight, bias, opts);
  expectShape(gradY, p.outShape, 'gradY');
  const g = convGradients(x, weight, p.bias, gradY, opts?.gradOut);
  current().run('convTranspose2dBackward', [
    ...p.args, new In(x), new In(weight), new In(gradY), new Out(g.x), new Out(g.weight), g.bias ? new Out(g.bias) : null,
  ]);
  return g;
}
