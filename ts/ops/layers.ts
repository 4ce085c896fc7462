// The layers WaveMix is built from (SPEC section 4b), as functional ops with
// PyTorch's semantics: element-wise sum (residual connections), GELU (erf form),
// dropout, BatchNorm2d, Linear, global average pooling and channel
// concatenation. Validation and memory here, arithmetic in
// core/src/operators/{add,gelu,dropout,batch-norm2d-nchw,linear-nc,
// global-avg-pool2d-nchw,concat-channels-nchw}.cc.
import { fail } from '../errors.js';
import { Tensor, asTensor } from '../tensor.js';
import { In, Out } from '../backends/backend.js';
import { current } from '../runtime.js';
import { expectShape, gradientTensors, nchw, options, outputTensor, overlap } from './args.js';

const INT32_MAX = 2 ** 31 - 1;

/**
 * A backward's option: where to write its gradient(s) instead of new tensors,
 * shaped as its result (they must share memory with no input).
 */
export interface GradOutOptions<T> {
  gradOut?: T;
}

/** (n, size) of an element-wise op's tensor: the first axis and the rest. */
function rows(x: Tensor): [number, number] {
  const n = x.rank > 1 ? x.shape[0] : 1;
  const size = x.size / n;
  if (size > INT32_MAX || n > INT32_MAX) fail('E_SHAPE', `x: shape [${x.shape.join(', ')}] is too large`);
  return [n, size];
}

/**
 * a + b for tensors of one shape (a residual connection; its gradient passes to
 * both unchanged). With `out` (a, b or a third tensor of that shape) the sum is
 * written there instead of into a new tensor.
 */
export function add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const t = asTensor(a, 'a');
  expectShape(b, t.shape, 'b');
  if (out !== undefined) expectShape(out, t.shape, 'out');
  const y = out ?? Tensor.zeros(t.shape);
  current().run('addForward', [...rows(t), new In(t), new In(b), new Out(y)]);
  return y;
}

export interface GeluOptions {
  /** A tensor of x's shape to write into instead of a new one (not sharing memory with x). */
  out?: Tensor;
}

/** GELU, erf form (nn.GELU()): x * Phi(x), any shape. */
export function gelu(x: Tensor, opts?: GeluOptions): Tensor {
  const t = asTensor(x, 'x');
  const o = options<GeluOptions>(opts ?? {}, 'gelu options');
  const y = outputTensor([...t.shape], o.out, { x: t });
  current().run('geluForward', [...rows(t), new In(t), new Out(y)]);
  return y;
}

/** Gradient of x for sum(gradY * gelu(x)). */
export function geluBackward(x: Tensor, gradY: Tensor, opts?: GradOutOptions<Tensor>): Tensor {
  const t = asTensor(x, 'x');
  expectShape(gradY, t.shape, 'gradY');
  const g = outputTensor(t.shape, options<GradOutOptions<Tensor>>(opts, 'geluBackward options').gradOut, { x: t, gradY }, "option 'gradOut'");
  current().run('geluBackward', [...rows(t), new In(t), new In(gradY), new Out(g)]);
  return g;
}

export interface DropoutOptions {
  /** Probability of zeroing a value, in [0, 1] (default 0.5). */
  p?: number;
  /** 32-bit seed of the mask: the same seed gives the same mask on every backend. */
  seed?: number;
}

/**
 * Dropout in training mode: each value is kept with probability 1 - p and
 * scaled by 1 / (1 - p). Returns y and the mask (0 or 1 / (1 - p) per value)
 * that dropoutBackward needs. p = 0 returns a copy of x.
 */
export function dropout(x: Tensor, opts?: DropoutOptions): { y: Tensor; mask: Tensor } {
  const t = asTensor(x, 'x');
  const o = options<DropoutOptions>(opts, 'dropout options');
  const p = o.p ?? 0.5;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('E_ARG', `option 'p': expected a probability in [0, 1], got ${JSON.stringify(p)}`);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    fail('E_ARG', `option 'seed': expected an integer in [0, 2^32), got ${JSON.stringify(seed)}`);
  }
  const y = Tensor.zeros(t.shape);
  const mask = Tensor.zeros(t.shape);
  current().run('dropoutForward', [...rows(t), p, seed | 0, new In(t), new Out(y), new Out(mask)]);
  return { y, mask };
}

/** Gradient of x for sum(gradY * dropout(x)) given the forward pass's mask. */
export function dropoutBackward(mask: Tensor, gradY: Tensor, opts?: GradOutOptions<Tensor>): Tensor {
  const m = asTensor(mask, 'mask');
  expectShape(gradY, m.shape, 'gradY');
  const g = outputTensor(m.shape, options<GradOutOptions<Tensor>>(opts, 'dropoutBackward options').gradOut, { mask: m, gradY }, "option 'gradOut'");
  current().run('dropoutBackward', [...rows(m), new In(m), new In(gradY), new Out(g)]);
  return g;
}

export interface BatchNorm2dOptions {
  /** Batch statistics and a running-statistics update (true), or the running statistics (false). */
  training: boolean;
  /** Default 0.1. */
  momentum?: number;
  /** Default 1e-5. */
  eps?: number;
  /** A tensor of x's shape to write y into instead of a new one (not sharing memory with an input). */
  out?: Tensor;
}

/** What batchNorm2dBackward needs from the forward pass: the mean and 1 / sqrt(var + eps) used. */
export interface BatchNorm2dSaved {
  mean: Tensor;
  invstd: Tensor;
  training: boolean;
}

function bnPlan(x: unknown, weight: unknown, bias: unknown) {
  const [n, c, h, w] = nchw(x, 'x');
  const wt = weight === null || weight === undefined ? null : expectShape(weight, [c], 'weight');
  const bt = bias === null || bias === undefined ? null : expectShape(bias, [c], 'bias');
  return { n, c, h, w, wt, bt };
}

/**
 * BatchNorm2d (F.batch_norm): training mode normalises with the batch mean and
 * biased variance and updates runningMean / runningVar in place
 * ((1 - momentum) * running + momentum * batch, unbiased variance); eval mode
 * normalises with the running statistics. weight / bias may be null.
 */
export function batchNorm2d(
  x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor, runningVar: Tensor, opts: BatchNorm2dOptions,
): { y: Tensor; saved: BatchNorm2dSaved } {
  const p = bnPlan(x, weight, bias);
  expectShape(runningMean, [p.c], 'runningMean');
  expectShape(runningVar, [p.c], 'runningVar');
  const o = options<BatchNorm2dOptions>(opts, 'batchNorm2d options');
  if (typeof o.training !== 'boolean') fail('E_ARG', `option 'training': expected a boolean, got ${JSON.stringify(o.training)}`);
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) fail('E_ARG', `option 'momentum': expected a number in [0, 1], got ${JSON.stringify(momentum)}`);
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) fail('E_ARG', `option 'eps': expected a positive number, got ${JSON.stringify(eps)}`);
  if (o.training && p.n * p.h * p.w < 2) fail('E_SHAPE', `x: training mode needs more than 1 value per channel, got shape [${x.shape.join(', ')}]`);
  const y = outputTensor([...x.shape], o.out, { x, weight: p.wt, bias: p.bt, runningMean, runningVar });
  const saved: BatchNorm2dSaved = { mean: Tensor.zeros([p.c]), invstd: Tensor.zeros([p.c]), training: o.training };
  const update = o.training ? [new Out(runningMean), new Out(runningVar)] : [null, null];
  current().run('batchNorm2dForward', [
    p.n, p.c, p.h, p.w, o.training ? 1 : 0, momentum, eps, new In(x), p.wt ? new In(p.wt) : null, p.bt ? new In(p.bt) : null,
    new In(runningMean), new In(runningVar), new Out(y), new Out(saved.mean), new Out(saved.invstd), ...update,
  ]);
  return { y, saved };
}

/** Gradients { x, weight, bias } of sum(gradY * batchNorm2d(x, ...)) for the forward pass that gave `saved`. */
export function batchNorm2dBackward(
  x: Tensor, weight: Tensor | null, saved: BatchNorm2dSaved, gradY: Tensor,
  opts?: GradOutOptions<Partial<{ x: Tensor; weight: Tensor; bias: Tensor }>>,
): { x: Tensor; weight: Tensor; bias: Tensor } {
  const p = bnPlan(x, weight, null);
  expectShape(gradY, x.shape, 'gradY');
  expectShape(saved?.mean, [p.c], 'saved.mean');
  expectShape(saved?.invstd, [p.c], 'saved.invstd');
  const g = gradientTensors({ x: x.shape, weight: [p.c], bias: [p.c] }, options<GradOutOptions<unknown>>(opts, 'batchNorm2dBackward options').gradOut, {
    x, weight: p.wt, gradY, 'saved.mean': saved.mean, 'saved.invstd': saved.invstd,
  }) as { x: Tensor; weight: Tensor; bias: Tensor };
  current().run('batchNorm2dBackward', [
    p.n, p.c, p.h, p.w, saved.training ? 1 : 0, new In(x), p.wt ? new In(p.wt) : null, new In(saved.mean), new In(saved.invstd),
    new In(gradY), new Out(g.x), new Out(g.weight), new Out(g.bias),
  ]);
  return g;
}

function linearPlan(x: unknown, weight: unknown, bias: unknown) {
  const xt = asTensor(x, 'x');
  const wt = asTensor(weight, 'weight');
  if (xt.rank !== 2) fail('E_SHAPE', `x: expected a 2-D tensor (N, in_features), got shape [${xt.shape.join(', ')}]`);
  if (wt.rank !== 2 || wt.shape[1] !== xt.shape[1]) {
    fail('E_SHAPE', `weight: expected shape [out_features, ${xt.shape[1]}] for x of shape [${xt.shape.join(', ')}], got [${wt.shape.join(', ')}]`);
  }
  const [n, inF] = xt.shape;
  const outF = wt.shape[0];
  const bt = bias === null || bias === undefined ? null : expectShape(bias, [outF], 'bias');
  return { n, inF, outF, bt };
}

/** nn.Linear: y (N, out) = x (N, in) weight^T + bias; weight (out, in), bias (out) or null. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const p = linearPlan(x, weight, bias);
  const y = Tensor.zeros([p.n, p.outF]);
  current().run('linearForward', [p.n, p.inF, p.outF, new In(x), new In(weight), p.bt ? new In(p.bt) : null, new Out(y)]);
  return y;
}

/** Gradients { x, weight, bias? } of sum(gradY * linear(x, weight, bias)). */
export function linearBackward(x: Tensor, weight: Tensor, bias: Tensor | null, gradY: Tensor): { x: Tensor; weight: Tensor; bias?: Tensor } {
  const p = linearPlan(x, weight, bias);
  expectShape(gradY, [p.n, p.outF], 'gradY');
  const g: { x: Tensor; weight: Tensor; bias?: Tensor } = { x: Tensor.zeros(x.shape), weight: Tensor.zeros(weight.shape) };
  if (p.bt) g.bias = Tensor.zeros([p.outF]);
  current().run('linearBackward', [
    p.n, p.inF, p.outF, new In(x), new In(weight), new In(gradY),
    new Out(g.x), new Out(g.weight), g.bias ? new Out(g.bias) : null,
  ]);
  return g;
}

/** AdaptiveAvgPool2d(1) then flatten: x (N, C, H, W) -> (N, C). */
export function globalAvgPool2d(x: Tensor): Tensor {
  const [n, c, h, w] = nchw(x, 'x');
  const y = Tensor.zeros([n, c]);
  current().run('globalAvgPool2dForward', [n, c, h, w, new In(x), new Out(y)]);
  return y;
}

/** Gradient of x (of shape `shape`, N C H W) for sum(gradY * globalAvgPool2d(x)). */
export function globalAvgPool2dBackward(gradY: Tensor, shape: readonly number[], opts?: GradOutOptions<Tensor>): Tensor {
  const g = outputTensor(shape, options<GradOutOptions<Tensor>>(opts, 'globalAvgPool2dBackward options').gradOut, { gradY }, "option 'gradOut'");
  const [n, c, h, w] = nchw(g, 'shape');
  expectShape(gradY, [n, c], 'gradY');
  current().run('globalAvgPool2dBackward', [n, c, h, w, new In(gradY), new Out(g)]);
  return g;
}

function catPlan(a: unknown, b: unknown) {
  const at = asTensor(a, 'a');
  const bt = asTensor(b, 'b');
  if (at.rank < 2 || bt.rank !== at.rank || at.shape[0] !== bt.shape[0] || at.shape.slice(2).some((d, i) => d !== bt.shape[2 + i])) {
    fail('E_SHAPE', `concatChannels: a [${at.shape.join(', ')}] and b [${bt.shape.join(', ')}] must agree on every axis but the channels (axis 1)`);
  }
  const plane = at.shape.slice(2).reduce((s, d) => s * d, 1);
  if (plane > INT32_MAX || at.shape[1] + bt.shape[1] > INT32_MAX) fail('E_SHAPE', 'concatChannels: tensors too large');
  return { n: at.shape[0], ca: at.shape[1], cb: bt.shape[1], plane, shape: [at.shape[0], at.shape[1] + bt.shape[1], ...at.shape.slice(2)] };
}

/** torch.cat([a, b], dim=1). */
export function concatChannels(a: Tensor, b: Tensor): Tensor {
  const p = catPlan(a, b);
  const y = Tensor.zeros(p.shape);
  current().run('concatChannelsForward', [p.n, p.ca, p.cb, p.plane, new In(a), new In(b), new Out(y)]);
  return y;
}

/** Splits the gradient of torch.cat([a, b], dim=1) into the gradients of a and b. */
export function concatChannelsBackward(a: Tensor, b: Tensor, gradY: Tensor, opts?: GradOutOptions<[Tensor, Tensor]>): [Tensor, Tensor] {
  const p = catPlan(a, b);
  expectShape(gradY, p.shape, 'gradY');
  const given = options<GradOutOptions<[Tensor, Tensor]>>(opts, 'concatChannelsBackward options').gradOut;
  if (given !== undefined && (!Array.isArray(given) || given.length !== 2)) {
    fail('E_ARG', `option 'gradOut': expected [gradient of a, gradient of b], got ${JSON.stringify(given)}`);
  }
  const ga = outputTensor(a.shape, given?.[0], { gradY }, "option 'gradOut'[0]");
  const gb = outputTensor(b.shape, given?.[1], { gradY }, "option 'gradOut'[1]");
  if (overlap(ga, gb)) fail('E_ARG', "option 'gradOut'[1]: must not share memory with option 'gradOut'[0]");
  current().run('concatChannelsBackward', [p.n, p.ca, p.cb, p.plane, new In(gradY), new Out(ga), new Out(gb)]);
  return [ga, gb];
}

/**
 * Mean cross-entropy of logits (N, K) against integer labels (N), as
 * F.cross_entropy, and its gradient with respect to the logits.
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>): { loss: number; grad: Tensor } {
  const t = asTensor(logits, 'logits');
  if (t.rank !== 2) fail('E_SHAPE', `logits: expected a 2-D tensor (N, classes), got shape [${t.shape.join(', ')}]`);
  const [n, k] = t.shape;
  if (labels === null || typeof labels !== 'object' || labels.length !== n) fail('E_SHAPE', `labels: expected ${n} class indices`);
  const grad = Tensor.zeros(t.shape);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= k) fail('E_ARG', `labels[${i}]: expected a class index in 0..${k - 1}, got ${label}`);
    const row = t.data.subarray(i * k, (i + 1) * k);
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, row[j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(row[j] - max);
    const logSum = max + Math.log(sum);
    loss += logSum - row[label];
    for (let j = 0; j < k; j++) grad.data[i * k + j] = (Math.exp(row[j] - logSum) - (j === label ? 1 : 0)) / n;
  }
  return { loss: loss / n, grad };
}
