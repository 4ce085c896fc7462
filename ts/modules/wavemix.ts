// WaveMix (Jeevan & Sethi) as modules with the upstream PyTorch state_dict
// names (SPEC section 4b): WaveMixBlock (levels 1-4) and WaveMix (patchify
// stem, depth residual blocks, pooled linear head), composed from the
// functional ops. train() / eval(), forward, backward(gradY) -> gradients keyed
// 'x' and the parameter names, stateDict() (with the running statistics) and
// loadStateDict().
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { kernelArray } from '../runtime.js';
import { intIn, nchw, options } from '../ops/args.js';
import { conv2d, conv2dBackward, convTranspose2d, convTranspose2dBackward } from '../ops/conv.js';
import { dwt2d, dwt2dBackward } from '../ops/dwt2d.js';
import {
  add, batchNorm2d, batchNorm2dBackward, concatChannels, concatChannelsBackward, dropout, dropoutBackward, gelu, geluBackward,
  globalAvgPool2d, globalAvgPool2dBackward, linear, linearBackward, type BatchNorm2dSaved,
} from '../ops/layers.js';
import { uniformParam, type LoadOptions } from './state.js';

const MAX = 2 ** 31 - 1;
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

/** Parameters and buffers of one module tree, keyed by the PyTorch state_dict names. */
class State {
  /** Trainable parameters (what backward() returns gradients for). */
  readonly params: Record<string, Tensor> = {};
  /** BatchNorm running statistics. */
  readonly buffers: Record<string, Tensor> = {};
  /** Every key of the state dict, in PyTorch's order. */
  readonly order: string[] = [];

  param(name: string, t: Tensor): Tensor {
    this.params[name] = t;
    this.order.push(name);
    return t;
  }
  buffer(name: string, t: Tensor): Tensor {
    this.buffers[name] = t;
    this.order.push(name);
    return t;
  }
  get(name: string): Tensor {
    return this.params[name] ?? this.buffers[name];
  }
}

const prefixed = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

/**
 * The activations a module writes in forward() (or, in a second instance, the
 * gradients backward() hands from layer to layer), kept from one call to the
 * next and reused while the shapes stay the same: a pass then takes no fresh
 * memory (whose zeroing and page faults cost as much as the small layers). The
 * activations are also what backward() reads, so they live as long as the
 * module. They are placed where the backend's kernels use them without copies
 * (the threaded WASM module's heap), so one layer's output is the next one's
 * input as it lies.
 */
class Activations {
  private readonly tensors = new Map<string, Tensor>();

  get(name: string, shape: readonly number[]): Tensor {
    const t = this.tensors.get(name);
    if (t && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
    const size = shape.reduce((a, b) => a * b, 1);
    const fresh = new Tensor(kernelArray(size), shape);
    this.tensors.set(name, fresh);
    return fresh;
  }
}

/**
 * Whether `sources` hold the same bits as at the last call with this record
 * (`name` in A; never so on the first call), copying them into it when they do
 * not: what is derived from parameters (which may be changed in place between
 * calls) is computed again only when they changed. Compared as 32-bit words.
 */
function sourcesUnchanged(A: Activations, name: string, sources: readonly Tensor[]): boolean {
  const seen = A.get(name, [sources.reduce((a, t) => a + t.data.length, 0) + 1]).data;
  let unchanged = seen[seen.length - 1] === 1;
  for (let i = 0, at = 0; i < sources.length; at += sources[i].data.length, i++) {
    const d = sources[i].data;
    const now = new Int32Array(d.buffer, d.byteOffset, d.length);
    const was = new Int32Array(seen.buffer, seen.byteOffset + 4 * at, d.length);
    let j = 0;
    if (unchanged) while (j < now.length && now[j] === was[j]) j++;
    if (j < now.length) {
      unchanged = false;
      was.set(now);
    }
  }
  seen[seen.length - 1] = 1;
  return unchanged;
}

/** A 1x1 or k x k Conv2d's parameters with PyTorch's default init. */
function convParams(s: State, rng: Random, name: string, cin: number, cout: number, k: number): void {
  const fanIn = cin * k * k;
  s.param(`${name}.weight`, uniformParam(rng, [cout, cin, k, k], fanIn));
  s.param(`${name}.bias`, uniformParam(rng, [cout], fanIn));
}

function bnParams(s: State, name: string, c: number): void {
  s.param(`${name}.weight`, new Tensor(kernelArray(c).fill(1), [c]));
  s.param(`${name}.bias`, new Tensor(kernelArray(c), [c]));
  s.buffer(`${name}.running_mean`, new Tensor(kernelArray(c), [c]));
  s.buffer(`${name}.running_var`, new Tensor(kernelArray(c).fill(1), [c]));
}

function batchNorm(s: State, name: string, x: Tensor, training: boolean, out?: Tensor) {
  return batchNorm2d(x, s.params[`${name}.weight`], s.params[`${name}.bias`], s.buffers[`${name}.running_mean`], s.buffers[`${name}.running_var`], {
    training, momentum: BN_MOMENTUM, eps: BN_EPS, out,
  });
}

/**
 * BatchNorm `name` in eval mode after a layer whose bias is `bias`, folded into
 * that layer: bn(layer(x)) = scale * (layer without its bias)(x) + shift, with
 * scale = weight / sqrt(running_var + eps) and shift = bias_bn + scale * (bias - running_mean).
 */
function foldBatchNorm(s: State, name: string, bias: Tensor, scale: Tensor, shift: Tensor): void {
  const gamma = s.params[`${name}.weight`].data, beta = s.params[`${name}.bias`].data;
  const mean = s.buffers[`${name}.running_mean`].data, variance = s.buffers[`${name}.running_var`].data;
  for (let o = 0; o < scale.data.length; o++) {
    const k = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    scale.data[o] = k;
    shift.data[o] = beta[o] + k * (bias.data[o] - mean[o]);
  }
}

/** t (a, b, ...rest) with its two leading axes swapped, written into `into` (b, a, ...rest). */
function swapLeadingAxes(t: Tensor, into: Tensor): Tensor {
  const [a, b] = t.shape;
  const inner = t.data.length / (a * b);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) into.data.set(t.data.subarray((i * b + j) * inner, (i * b + j + 1) * inner), (j * a + i) * inner);
  }
  return into;
}

/**
 * The stem's second and third convolutions as one, for inference: a 3x3 conv
 * (padding 1) then a p x p conv of stride p, with nothing between them, are the
 * (p + 2) x (p + 2) conv of stride p and padding 1 whose kernel is the full
 * convolution of the two (w[o][c] = sum over m of w2[o][m] * w1[m][c], computed
 * as a transposed conv of stride 1) and whose bias is b2 + w2 applied to b1.
 * The p x p conv only reads rows and columns inside the 3x3 conv's output, so
 * the padding of the first is the padding of the whole: the same function, up
 * to rounding. With WaveMix's 16 -> 32 -> 64 channels and p = 2 that is 256
 * multiply-adds per output value instead of 416, and no 32-channel
 * full-resolution intermediate written and read again.
 */
function composeStem(P: Record<string, Tensor>, A: Activations): { weight: Tensor; bias: Tensor } {
  const w1 = P['conv.1.weight'], w2 = P['conv.2.weight'];
  const [mid, cin] = w1.shape, [cout, , p] = w2.shape;
  // Composed again only when a source changed since the last call.
  if (sourcesUnchanged(A, 'stem.seen', [w1, P['conv.1.bias'], w2, P['conv.2.bias']])) {
    return { weight: A.get('stem.w', [cout, cin, p + 2, p + 2]), bias: A.get('stem.b', [cout]) };
  }
  // x: w1 as `cin` images of `mid` channels; weight: w2 as (in = mid, out = cout, p, p).
  const x = swapLeadingAxes(w1, A.get('stem.w1', [cin, mid, 3, 3]));
  const w = swapLeadingAxes(w2, A.get('stem.w2', [mid, cout, p, p]));
  const full = convTranspose2d(x, w, null, { out: A.get('stem.full', [cin, cout, p + 2, p + 2]) });
  const weight = swapLeadingAxes(full, A.get('stem.w', [cout, cin, p + 2, p + 2]));
  const bias = A.get('stem.b', [cout]);
  const b1 = P['conv.1.bias'].data, b2 = P['conv.2.bias'].data, taps = p * p;
  for (let o = 0; o < cout; o++) {
    let sum = b2[o];
    for (let m = 0; m < mid; m++) {
      const row = (o * mid + m) * taps;
      for (let t = 0; t < taps; t++) sum += w2.data[row + t] * b1[m];
    }
    bias.data[o] = sum;
  }
  return { weight, bias };
}

function addInto(grads: Record<string, Tensor>, name: string, g: Tensor): void {
  const have = grads[name];
  if (!have) {
    grads[name] = g;
    return;
  }
  add(have, g, have);
}

/**
 * The state-dict checks shared by both modules: missing, unexpected and
 * mis-shaped keys are named. BatchNorm's `num_batches_tracked` (in every
 * PyTorch state_dict) is accepted and ignored: with momentum 0.1 it changes
 * nothing.
 */
function loadState(s: State, sd: unknown, opts: LoadOptions | undefined, what: string): void {
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd) || sd instanceof Tensor) {
    fail('E_ARG', `${what}.loadStateDict: expected an object of tensors keyed by the PyTorch names, got ${sd instanceof Tensor ? 'a Tensor' : JSON.stringify(sd)}`);
  }
  const given = sd as Record<string, unknown>;
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const missing = s.order.filter((k) => !has(given, k));
  const known = new Set(s.order);
  const isCounter = (k: string) => k.endsWith('.num_batches_tracked') && known.has(k.replace(/num_batches_tracked$/, 'running_mean'));
  const unexpected = Object.keys(given).filter((k) => !known.has(k) && !isCounter(k));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing keys ${missing.map((k) => `'${k}'`).join(', ')}`);
  if ((opts?.strict ?? true) && unexpected.length) problems.push(`unexpected keys ${unexpected.map((k) => `'${k}'`).join(', ')} (pass { strict: false } to ignore them)`);
  if (problems.length) fail('E_STATE', `${what}.loadStateDict: ${problems.join('; ')}`);
  for (const k of s.order) {
    const got = given[k];
    const want = s.get(k);
    if (!(got instanceof Tensor)) fail('E_DTYPE', `${what}.loadStateDict: '${k}' is not a Tensor`);
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      fail('E_SHAPE', `${what}.loadStateDict: '${k}' has shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
    }
  }
  for (const k of s.order) s.get(k).data.set((given[k] as Tensor).data);
}

function stateDictOf(s: State): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const k of s.order) out[k] = s.get(k);
  return out;
}

export interface WaveMixBlockConfig {
  /** DWT levels, 1..4. */
  level: number;
  /** Width multiplier of the first 1x1 conv of each feed-forward (default 2). */
  mult?: number;
  /** Channels between the second 1x1 conv and the transposed conv (default 16). */
  ffChannel?: number;
  /** Channels d of the block's input and output; divisible by 4 (default 16). */
  finalDim?: number;
  /** Dropout probability after the GELU (default 0.5). */
  dropout?: number;
  /** Seed of the parameter initialisation and of the dropout masks (default: random). */
  seed?: number;
}

interface FeedForwardSaved {
  view: Tensor;  // this level's bands as (N, d, h, w), channel c*4 + band
  input: Tensor;  // the ff's input (the band view, or its concatenation with the upper level's output)
  w0: Tensor;  // the first conv's weight as applied (columns in band order)
  a: Tensor;  // first conv output (GELU input)
  mask: Tensor | null;  // dropout mask (null: no dropout)
  d: Tensor;  // dropout output (second conv input)
  c: Tensor;  // second conv output (transposed conv input)
  t: Tensor;  // transposed conv output (BatchNorm input)
  bn: BatchNorm2dSaved;
  concat: Tensor | null;  // the upper level's output, when concatenated
}

/**
 * WaveMix block of `level` levels (SPEC section 4b) with the upstream names:
 * `reduction.*`, `feedforward.{0,3,4,5}.*` (level 1) or `feedforward{l}.{0,3,4,5}.*`.
 */
export class WaveMixBlock {
  readonly config: Required<Omit<WaveMixBlockConfig, 'seed'>>;
  /** Trainable parameters, keyed by the PyTorch state_dict names. */
  readonly params: Record<string, Tensor>;
  /** BatchNorm running statistics, keyed by the PyTorch state_dict names. */
  readonly buffers: Record<string, Tensor>;
  /** Training mode (batch statistics, dropout) as PyTorch modules start; eval() switches it off. */
  training = true;
  private readonly state: State;
  private readonly prefix: string;
  private readonly rng: Random;
  /** Column j of the band view (channel c*4 + band) is column perm[j] of the upstream concatenation. */
  private readonly perm: Int32Array;
  private saved: { x: Tensor; r: Tensor; ffs: FeedForwardSaved[] } | null = null;
  private readonly act = new Activations();
  /** The gradients backward() passes from layer to layer, reused like the activations. */
  private readonly gradAct = new Activations();
  /** Inside WaveMix, which owns the block's output too: reused like the other activations. */
  private readonly reuseOutput: boolean;

  constructor(config: WaveMixBlockConfig, internal?: { state: State; prefix: string; rng: Random }) {
    const c = options<WaveMixBlockConfig>(config, 'WaveMixBlock config');
    const level = intIn(c.level, "WaveMixBlock option 'level'", 1, 4);
    const mult = intIn(c.mult ?? 2, "WaveMixBlock option 'mult'", 1, MAX);
    const ffChannel = intIn(c.ffChannel ?? 16, "WaveMixBlock option 'ffChannel'", 1, MAX);
    const finalDim = intIn(c.finalDim ?? 16, "WaveMixBlock option 'finalDim'", 4, MAX);
    if (finalDim % 4 !== 0) fail('E_ARG', `WaveMixBlock option 'finalDim': expected a multiple of 4, got ${finalDim}`);
    const p = c.dropout ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('E_ARG', `WaveMixBlock option 'dropout': expected a probability in [0, 1], got ${JSON.stringify(p)}`);
    this.config = { level, mult, ffChannel, finalDim, dropout: p };
    this.state = internal?.state ?? new State();
    this.prefix = internal?.prefix ?? '';
    this.rng = internal?.rng ?? new Random(c.seed);
    this.reuseOutput = internal !== undefined;
    const d = finalDim;
    const s = this.state;
    const rng = this.rng;
    // PyTorch registers feedforward (or feedforward1) first, then the higher levels, then reduction.
    for (let l = 1; l <= level; l++) {
      const ff = this.ffName(l);
      const cin = l === level ? d : d + d / 2;
      const cout = l === 1 ? d : d / 2;
      convParams(s, rng, `${ff}.0`, cin, d * mult, 1);
      convParams(s, rng, `${ff}.3`, d * mult, ffChannel, 1);
      // ConvTranspose2d(f, cout, 4): weight (f, cout, 4, 4), fan_in from dim 1
      s.param(`${ff}.4.weight`, uniformParam(rng, [ffChannel, cout, 4, 4], cout * 16));
      s.param(`${ff}.4.bias`, uniformParam(rng, [cout], cout * 16));
      bnParams(s, `${ff}.5`, cout);
    }
    convParams(s, rng, prefixed(this.prefix, 'reduction'), d, d / 4, 1);
    this.params = s.params;
    this.buffers = s.buffers;
    const q = d / 4;
    this.perm = new Int32Array(d);
    for (let ch = 0; ch < q; ch++) for (let b = 0; b < 4; b++) this.perm[ch * 4 + b] = b === 0 ? ch : q + 3 * ch + b - 1;
  }

  private ffName(l: number): string {
    return prefixed(this.prefix, l === 1 && this.config.level === 1 ? 'feedforward' : `feedforward${l}`);
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * The first 1x1 conv's weight with its first d columns in the DWT's band
   * order, so the bands need no reordering copy; written into `into` (the
   * weight may change between calls, its buffer need not) when `w` changed
   * since the last call with this `seen` record.
   */
  private bandOrderWeight(w: Tensor, into: Tensor, seen: string): Tensor {
    if (sourcesUnchanged(this.act, seen, [w])) return into;
    const [o, cin] = w.shape;
    const d = this.config.finalDim;
    const out = into.data;
    for (let i = 0; i < o; i++) {
      const row = i * cin;
      for (let j = 0; j < d; j++) out[row + j] = w.data[row + this.perm[j]];
      for (let j = d; j < cin; j++) out[row + j] = w.data[row + j];
    }
    return into;
  }

  private fromBandOrder(g: Tensor): Tensor {
    const [o, cin] = g.shape;
    const d = this.config.finalDim;
    const out = new Float32Array(g.data.length);
    for (let i = 0; i < o; i++) {
      const row = i * cin;
      for (let j = 0; j < d; j++) out[row + this.perm[j]] = g.data[row + j];
      for (let j = d; j < cin; j++) out[row + j] = g.data[row + j];
    }
    return new Tensor(out, g.shape);
  }

  /** y = block(x) for x (N, finalDim, H, W), H and W divisible by 2^level. */
  forward(x: Tensor): Tensor {
    return this.run(x, false, null);
  }

  /**
   * Inference: block(x) as in eval mode (running statistics, no dropout)
   * whatever the mode, each BatchNorm folded into the transposed conv before
   * it instead of running as a pass of its own. Keeps nothing for backward().
   */
  predict(x: Tensor): Tensor {
    return this.run(x, true, null);
  }

  /** predict(x) + x, the sum written by the last transposed conv (WaveMix's residual stack). */
  predictResidual(x: Tensor): Tensor {
    return this.run(x, true, x);
  }

  private run(x: Tensor, inference: boolean, residual: Tensor | null): Tensor {
    const [n, ch, h, w] = nchw(x, 'x');
    const { level, finalDim: d, dropout: p } = this.config;
    if (ch !== d) fail('E_SHAPE', `x: expected ${d} channels (finalDim), got shape [${x.shape.join(', ')}]`);
    const step = 2 ** level;
    if (h % step !== 0 || w % step !== 0) {
      fail('E_SHAPE', `x: height and width must be divisible by 2^level = ${step} (level ${level}), got ${h}x${w}`);
    }
    const P = this.params;
    const A = this.act;
    const { mult, ffChannel } = this.config;
    const red = prefixed(this.prefix, 'reduction');
    const r = conv2d(x, P[`${red}.weight`], P[`${red}.bias`], { out: A.get('r', [n, d / 4, h, w]) });
    const bands = dwt2d(r, { levels: level, out: Array.from({ length: level }, (_, l) => A.get(`bands.${l}`, [n, d / 4, 4, h / 2 ** (l + 1), w / 2 ** (l + 1)])) });
    const ffs: FeedForwardSaved[] = [];
    let upper: Tensor | null = null;
    for (let l = level; l >= 1; l--) {
      const ff = this.ffName(l);
      const hl = h / 2 ** l, wl = w / 2 ** l;
      const view = bands[l - 1].reshape([n, d, hl, wl]);
      const input: Tensor = upper ? concatChannels(view, upper) : view;
      const w0 = this.bandOrderWeight(P[`${ff}.0.weight`], A.get(`${l}.w0`, P[`${ff}.0.weight`].shape), `${l}.w0.seen`);
      const a = conv2d(input, w0, P[`${ff}.0.bias`], { out: A.get(`${l}.a`, [n, d * mult, hl, wl]) });
      const g = gelu(a, { out: A.get(`${l}.g`, a.shape) });
      let dOut = g;
      let mask: Tensor | null = null;
      if (this.training && p > 0 && !inference) {
        ({ y: dOut, mask } = dropout(g, { p, seed: Math.floor(this.rng.next() * 2 ** 32) }));
      }
      const c = conv2d(dOut, P[`${ff}.3.weight`], P[`${ff}.3.bias`], { out: A.get(`${l}.c`, [n, ffChannel, hl, wl]) });
      const cout = l === 1 ? d : d / 2;
      const tShape = [n, cout, 2 * hl, 2 * wl];
      const out = l > 1 || this.reuseOutput ? A.get(`${l}.y`, tShape) : undefined;
      if (inference) {
        const scale = A.get(`${l}.scale`, [cout]), shift = A.get(`${l}.shift`, [cout]);
        foldBatchNorm(this.state, `${ff}.5`, P[`${ff}.4.bias`], scale, shift);
        upper = convTranspose2d(c, P[`${ff}.4.weight`], shift, {
          stride: 2, padding: 1, scale, out, ...(l === 1 && residual ? { residual } : {}),
        });
        continue;
      }
      const t = convTranspose2d(c, P[`${ff}.4.weight`], P[`${ff}.4.bias`], { stride: 2, padding: 1, out: A.get(`${l}.t`, tShape) });
      const { y, saved: bn } = batchNorm(this.state, `${ff}.5`, t, this.training, out);
      ffs.push({ view, input, w0, a, mask, d: dOut, c, t, bn, concat: upper });
      upper = y;
    }
    this.saved = inference ? null : { x, r, ffs };
    return upper!;
  }

  /** Gradients of sum(gradY * y) for the last forward(), keyed 'x' and the parameter names. */
  backward(gradY: Tensor): Record<string, Tensor> {
    const grads: Record<string, Tensor> = {};
    this.accumulate(gradY, grads, true);
    return grads;
  }

  /**
   * backward() into `grads` (summing where a key is already there); returns the gradient of x,
   * a new tensor where keyX (it is then grads.x) and else one the next call overwrites.
   */
  accumulate(gradY: Tensor, grads: Record<string, Tensor>, keyX = false): Tensor {
    if (!this.saved) fail('E_STATE', 'WaveMixBlock.backward: call forward(x) first (predict() keeps nothing for backward)');
    const { x, r, ffs } = this.saved;
    const { level, finalDim: d } = this.config;
    const P = this.params;
    const G = this.gradAct;
    const [n, , h, w] = x.shape;
    const gradBands: Tensor[] = new Array(level);
    let g = gradY;
    for (let i = ffs.length - 1; i >= 0; i--) {
      const l = level - i;
      const f = ffs[i];
      const ff = this.ffName(l);
      const gb = batchNorm2dBackward(f.t, P[`${ff}.5.weight`], f.bn, g, { gradOut: { x: G.get(`${l}.t`, f.t.shape) } });
      addInto(grads, `${ff}.5.weight`, gb.weight);
      addInto(grads, `${ff}.5.bias`, gb.bias);
      const gt = convTranspose2dBackward(f.c, P[`${ff}.4.weight`], P[`${ff}.4.bias`], gb.x, {
        stride: 2, padding: 1, gradOut: { x: G.get(`${l}.c`, f.c.shape) },
      });
      addInto(grads, `${ff}.4.weight`, gt.weight);
      addInto(grads, `${ff}.4.bias`, gt.bias!);
      const gc = conv2dBackward(f.d, P[`${ff}.3.weight`], P[`${ff}.3.bias`], gt.x, { gradOut: { x: G.get(`${l}.d`, f.d.shape) } });
      addInto(grads, `${ff}.3.weight`, gc.weight);
      addInto(grads, `${ff}.3.bias`, gc.bias!);
      const gd = f.mask ? dropoutBackward(f.mask, gc.x, { gradOut: G.get(`${l}.a`, f.a.shape) }) : gc.x;
      const ga = geluBackward(f.a, gd, { gradOut: G.get(gd === gc.x ? `${l}.a` : `${l}.gelu`, f.a.shape) });
      const g0 = conv2dBackward(f.input, f.w0, P[`${ff}.0.bias`], ga, { gradOut: { x: G.get(`${l}.input`, f.input.shape) } });
      addInto(grads, `${ff}.0.weight`, this.fromBandOrder(g0.weight));
      addInto(grads, `${ff}.0.bias`, g0.bias!);
      const hl = h / 2 ** l, wl = w / 2 ** l;
      let gView = g0.x;
      if (f.concat) {
        const [gv, gu] = concatChannelsBackward(f.view, f.concat, g0.x, {
          gradOut: [G.get(`${l}.view`, f.view.shape), G.get(`${l}.concat`, f.concat.shape)],
        });
        gView = gv;
        g = gu;
      }
      gradBands[l - 1] = gView.reshape([n, d / 4, 4, hl, wl]);
    }
    const gr = dwt2dBackward(r, gradBands, { levels: level, gradOut: G.get('r', r.shape) });
    const red = prefixed(this.prefix, 'reduction');
    const gx = conv2dBackward(x, P[`${red}.weight`], P[`${red}.bias`], gr, keyX ? {} : { gradOut: { x: G.get('x', x.shape) } });
    addInto(grads, `${red}.weight`, gx.weight);
    addInto(grads, `${red}.bias`, gx.bias!);
    if (keyX) grads.x = gx.x;
    return gx.x;
  }

  /** The PyTorch module's state_dict: parameters and running statistics (tensors shared, not copied). */
  stateDict(): Record<string, Tensor> {
    return stateDictOf(this.state);
  }

  /** Loads a PyTorch state dict (values copied); names missing, unexpected or mis-shaped keys. */
  loadStateDict(sd: Record<string, Tensor>, opts?: LoadOptions): void {
    loadState(this.state, sd, opts, 'WaveMixBlock');
  }
}

export interface WaveMixConfig {
  /** Default 1000. */
  numClasses?: number;
  /** Residual blocks (default 16). */
  depth?: number;
  mult?: number;
  /** Default 192. */
  ffChannel?: number;
  /** Default 192; divisible by 4. */
  finalDim?: number;
  /** Default 0.5. */
  dropout?: number;
  /** DWT levels of every block, 1..4 (default 3). */
  level?: number;
  /** Stride and kernel of the stem's last conv (default 4). */
  patchSize?: number;
  /** Image channels (default 3). */
  inChannels?: number;
  /** Seed of the initialisation and the dropout masks (default: random). */
  seed?: number;
}

/**
 * WaveMix classifier (SPEC section 4b): `conv` = patchify stem (Conv2d 3x3,
 * Conv2d 3x3, Conv2d p x p stride p, GELU, BatchNorm2d), `layers.{i}` = blocks
 * with x = block(x) + x, `pool` = global average pooling and `pool.2` Linear.
 */
export class WaveMix {
  readonly config: Required<Omit<WaveMixConfig, 'seed'>>;
  readonly params: Record<string, Tensor>;
  readonly buffers: Record<string, Tensor>;
  readonly layers: WaveMixBlock[] = [];
  training = true;
  private readonly state = new State();
  private readonly act = new Activations();
  /** The gradients backward() passes from layer to layer, reused like the activations. */
  private readonly gradAct = new Activations();
  private saved: { x: Tensor; c0: Tensor; c1: Tensor; c2: Tensor; bn: BatchNorm2dSaved; g: Tensor; last: Tensor; pooled: Tensor } | null = null;

  constructor(config: WaveMixConfig = {}) {
    const c = options<WaveMixConfig>(config, 'WaveMix config');
    const numClasses = intIn(c.numClasses ?? 1000, "WaveMix option 'numClasses'", 1, MAX);
    const depth = intIn(c.depth ?? 16, "WaveMix option 'depth'", 0, MAX);
    const mult = intIn(c.mult ?? 2, "WaveMix option 'mult'", 1, MAX);
    const ffChannel = intIn(c.ffChannel ?? 192, "WaveMix option 'ffChannel'", 1, MAX);
    const finalDim = intIn(c.finalDim ?? 192, "WaveMix option 'finalDim'", 4, MAX);
    if (finalDim % 4 !== 0) fail('E_ARG', `WaveMix option 'finalDim': expected a multiple of 4, got ${finalDim}`);
    const level = intIn(c.level ?? 3, "WaveMix option 'level'", 1, 4);
    const patchSize = intIn(c.patchSize ?? 4, "WaveMix option 'patchSize'", 1, MAX);
    const inChannels = intIn(c.inChannels ?? 3, "WaveMix option 'inChannels'", 1, MAX);
    const p = c.dropout ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('E_ARG', `WaveMix option 'dropout': expected a probability in [0, 1], got ${JSON.stringify(p)}`);
    this.config = { numClasses, depth, mult, ffChannel, finalDim, dropout: p, level, patchSize, inChannels };
    const rng = new Random(c.seed);
    const s = this.state;
    const d = finalDim;
    // PyTorch's registration order: layers, pool, conv.
    for (let i = 0; i < depth; i++) {
      this.layers.push(new WaveMixBlock({ level, mult, ffChannel, finalDim, dropout: p }, { state: s, prefix: `layers.${i}`, rng }));
    }
    s.param('pool.2.weight', uniformParam(rng, [numClasses, d], d));
    s.param('pool.2.bias', uniformParam(rng, [numClasses], d));
    convParams(s, rng, 'conv.0', inChannels, d / 4, 3);
    convParams(s, rng, 'conv.1', d / 4, d / 2, 3);
    convParams(s, rng, 'conv.2', d / 2, d, patchSize);
    bnParams(s, 'conv.4', d);
    this.params = s.params;
    this.buffers = s.buffers;
  }

  train(mode = true): this {
    this.training = mode;
    for (const b of this.layers) b.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Logits (N, numClasses) of images x (N, inChannels, H, W); H / patchSize and W / patchSize divisible by 2^level. */
  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /**
   * Inference: the logits as in eval mode (running statistics, no dropout)
   * whatever the mode, with each block's last BatchNorm and residual sum folded
   * into its transposed conv (WaveMixBlock.predict). Keeps nothing for backward().
   */
  predict(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, inference: boolean): Tensor {
    const [, ch, h, w] = nchw(x, 'x');
    const { inChannels, patchSize: ps, level } = this.config;
    if (ch !== inChannels) fail('E_SHAPE', `x: expected ${inChannels} channels (inChannels), got shape [${x.shape.join(', ')}]`);
    const step = ps * 2 ** level;
    if (h % step !== 0 || w % step !== 0) {
      fail('E_SHAPE', `x: height and width must be divisible by patchSize * 2^level = ${step} (patch ${ps}, level ${level}), got ${h}x${w}`);
    }
    const P = this.params;
    const A = this.act;
    const { finalDim: d } = this.config;
    const n = x.shape[0];
    const c0 = conv2d(x, P['conv.0.weight'], P['conv.0.bias'], { padding: 1, out: A.get('c0', [n, d / 4, h, w]) });
    let c1: Tensor | null = null;
    let c2: Tensor;
    if (inference) {
      const stem = composeStem(P, A);
      c2 = conv2d(c0, stem.weight, stem.bias, { stride: ps, padding: 1, out: A.get('c2', [n, d, h / ps, w / ps]) });
    } else {
      c1 = conv2d(c0, P['conv.1.weight'], P['conv.1.bias'], { padding: 1, out: A.get('c1', [n, d / 2, h, w]) });
      c2 = conv2d(c1, P['conv.2.weight'], P['conv.2.bias'], { stride: ps, out: A.get('c2', [n, d, h / ps, w / ps]) });
    }
    const g = gelu(c2, { out: A.get('g', c2.shape) });
    const { y, saved: bn } = batchNorm(this.state, 'conv.4', g, this.training && !inference, A.get('y', c2.shape));
    let cur = y;
    for (const block of this.layers) {
      if (inference) {
        cur = block.predictResidual(cur);
        continue;
      }
      const out = block.forward(cur);
      cur = add(out, cur, out);  // in place: the block keeps no reference to its output
    }
    const pooled = globalAvgPool2d(cur);
    const logits = linear(pooled, P['pool.2.weight'], P['pool.2.bias']);
    this.saved = inference ? null : { x, c0, c1: c1!, c2, bn, g, last: cur, pooled };
    return logits;
  }

  /** Gradients of sum(gradY * logits) for the last forward(), keyed 'x' and the parameter names. */
  backward(gradY: Tensor): Record<string, Tensor> {
    if (!this.saved) fail('E_STATE', 'WaveMix.backward: call forward(x) first (predict() keeps nothing for backward)');
    const { x, c0, c1, c2, bn, g, last, pooled } = this.saved;
    const P = this.params;
    const grads: Record<string, Tensor> = {};
    const gl = linearBackward(pooled, P['pool.2.weight'], P['pool.2.bias'], gradY);
    grads['pool.2.weight'] = gl.weight;
    grads['pool.2.bias'] = gl.bias!;
    const G = this.gradAct;
    let gcur = globalAvgPool2dBackward(gl.x, last.shape, { gradOut: G.get('last', last.shape) });
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const gBlock = this.layers[i].accumulate(gcur, grads);
      gcur = add(gBlock, gcur, gBlock);
    }
    const gb = batchNorm2dBackward(g, P['conv.4.weight'], bn, gcur, { gradOut: { x: G.get('g', g.shape) } });
    grads['conv.4.weight'] = gb.weight;
    grads['conv.4.bias'] = gb.bias;
    const gg = geluBackward(c2, gb.x, { gradOut: G.get('c2', c2.shape) });
    const g2 = conv2dBackward(c1, P['conv.2.weight'], P['conv.2.bias'], gg, { stride: this.config.patchSize, gradOut: { x: G.get('c1', c1.shape) } });
    grads['conv.2.weight'] = g2.weight;
    grads['conv.2.bias'] = g2.bias!;
    const g1 = conv2dBackward(c0, P['conv.1.weight'], P['conv.1.bias'], g2.x, { padding: 1, gradOut: { x: G.get('c0', c0.shape) } });
    grads['conv.1.weight'] = g1.weight;
    grads['conv.1.bias'] = g1.bias!;
    const g0 = conv2dBackward(x, P['conv.0.weight'], P['conv.0.bias'], g1.x, { padding: 1 });
    grads['conv.0.weight'] = g0.weight;
    grads['conv.0.bias'] = g0.bias!;
    grads.x = g0.x;
    return grads;
  }

  /** The PyTorch module's state_dict: parameters and running statistics (tensors shared, not copied). */
  stateDict(): Record<string, Tensor> {
    return stateDictOf(this.state);
  }

  /** Loads a PyTorch state dict (values copied); names missing, unexpected or mis-shaped keys. */
  loadStateDict(sd: Record<string, Tensor>, opts?: LoadOptions): void {
    loadState(this.state, sd, opts, 'WaveMix');
  }
}
