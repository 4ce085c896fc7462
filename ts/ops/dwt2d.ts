// Multi-level 2-D DWT and inverse DWT (SPEC section 2): validation and memory
// here, arithmetic in core/src/operators/dwt2d-nchw.cc.
import { fail } from '../errors.js';
import { Tensor, asTensor } from '../tensor.js';
import { In, Out } from '../backends/backend.js';
import { current } from '../runtime.js';
import { waveletId, type WaveletName } from '../wavelets.js';
import { MAX_LEVELS } from './wtconv2d.js';
import { expectShape, intIn, nchw, options, outputTensor, overlap } from './args.js';

export interface Dwt2dOptions {
  levels: number;
  wavelet?: WaveletName;
  /** Tensors to write the bands into (one per level, shapes as returned), instead of new ones. */
  out?: Tensor[];
  /** Backward only: a tensor of x's shape to write the gradient into, instead of a new one. */
  gradOut?: Tensor;
}

export interface Idwt2dOptions {
  /** (H_l, W_l) of the signal each level was computed from; default: the even sizes the bands imply. */
  shapes?: [number, number][];
  wavelet?: WaveletName;
  /** Forward only: a tensor of the output's shape to write into, instead of a new one. */
  out?: Tensor;
  /** Backward only: tensors to write the bands' gradients into (one per level, shapes as returned). */
  gradOut?: Tensor[];
}

/** Band shapes (N, C, 4, h_l, w_l) of an (N, C, H, W) signal. */
function bandShapes(n: number, c: number, h: number, w: number, levels: number): number[][] {
  const shapes: number[][] = [];
  for (let l = 0; l < levels; l++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
    shapes.push([n, c, 4, h, w]);
  }
  return shapes;
}

function dwtPlan(x: unknown, opts: unknown) {
  const [n, c, h, w] = nchw(x, 'x');
  const o = options<Dwt2dOptions>(opts, 'dwt2d options');
  if (o.levels === undefined) fail('E_ARG', "option 'levels': required (an integer >= 1)");
  const levels = intIn(o.levels, "option 'levels'", 1, MAX_LEVELS);
  const wavelet = waveletId(o.wavelet ?? 'db1', "option 'wavelet'");
  return { dims: [n, c, h, w, levels, wavelet], shape: [n, c, h, w], bands: bandShapes(n, c, h, w, levels) };
}

/** Multi-level DWT: x (N, C, H, W) -> per level the bands (N, C, 4, ceil(H_l/2), ceil(W_l/2)). */
export function dwt2d(x: Tensor, opts: Dwt2dOptions): Tensor[] {
  const p = dwtPlan(x, opts);
  const bands = outputBands(p.bands, (opts as Dwt2dOptions).out, "option 'out'", { x });
  current().run('dwt2dForward', [...p.dims, new In(x), new Out(bands)]);
  return bands;
}

/** Gradient of x given the gradients of every level's bands. */
export function dwt2dBackward(x: Tensor, gradBands: Tensor[], opts: Dwt2dOptions): Tensor {
  const p = dwtPlan(x, opts);
  const grads = bandList(gradBands, p.bands, 'gradBands');
  const inputs: Record<string, Tensor> = {};
  grads.forEach((g, l) => (inputs[`gradBands[${l}]`] = g));
  const gx = outputTensor(p.shape, opts?.gradOut, inputs, "option 'gradOut'");
  current().run('dwt2dBackward', [...p.dims, new In(grads), new Out(gx)]);
  return gx;
}

/**
 * The band tensors an op writes: `given` (one per level, checked against the
 * shapes and against sharing memory with the inputs and each other), or new ones.
 */
function outputBands(shapes: number[][], given: unknown, what: string, inputs: Record<string, Tensor>): Tensor[] {
  if (given === undefined) return shapes.map((s) => Tensor.zeros(s));
  const bands = bandList(given, shapes, what);
  bands.forEach((b, l) => {
    const input = Object.keys(inputs).find((name) => overlap(b, inputs[name]));
    const other = input ?? (bands.slice(0, l).some((o) => overlap(o, b)) ? 'another band' : null);
    if (other) fail('E_ARG', `${what}[${l}]: must not share memory with ${other}`);
  });
  return bands;
}

function bandList(list: unknown, shapes: number[][], what: string): Tensor[] {
  if (!Array.isArray(list)) fail('E_ARG', `${what}: expected an array of ${shapes.length} tensors, got ${JSON.stringify(list)}`);
  if (list.length !== shapes.length) fail('E_SHAPE', `${what}: expected ${shapes.length} tensors (one per level), got ${list.length}`);
  return list.map((t, l) => expectShape(t, shapes[l], `${what}[${l}]`));
}

function idwtPlan(bandsIn: unknown, opts: unknown) {
  if (!Array.isArray(bandsIn) || bandsIn.length === 0) fail('E_ARG', `bands: expected a non-empty array of tensors (one per level), got ${JSON.stringify(bandsIn)}`);
  if (bandsIn.length > MAX_LEVELS) fail('E_ARG', `bands: at most ${MAX_LEVELS} levels, got ${bandsIn.length}`);
  const first = asTensor(bandsIn[0], 'bands[0]');
  if (first.rank !== 5 || first.shape[2] !== 4) fail('E_SHAPE', `bands[0]: expected shape (N, C, 4, h, w), got [${first.shape.join(', ')}]`);
  const [n, c, , h0, w0] = first.shape;
  const o = options<Idwt2dOptions>(opts, 'idwt2d options');
  const wavelet = waveletId(o.wavelet ?? 'db1', "option 'wavelet'");
  const levels = bandsIn.length;
  let shapes: [number, number][];
  if (o.shapes === undefined) {
    shapes = [[2 * h0, 2 * w0]];
    for (let l = 1; l < levels; l++) {
      const b = asTensor(bandsIn[l - 1], `bands[${l - 1}]`);
      shapes.push([b.shape[3], b.shape[4]]);
    }
  } else {
    if (!Array.isArray(o.shapes) || o.shapes.length !== levels) {
      fail('E_ARG', `option 'shapes': expected ${levels} [H, W] pairs (one per level), got ${JSON.stringify(o.shapes)}`);
    }
    shapes = o.shapes.map((s, l) => {
      if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => Number.isInteger(d) && d >= 1)) {
        fail('E_ARG', `option 'shapes'[${l}]: expected a pair of positive integers, got ${JSON.stringify(s)}`);
      }
      return [s[0], s[1]] as [number, number];
    });
  }
  // Level l's signal has the size of level l-1's bands: the cascade must be consistent.
  const [h, w] = shapes[0];
  const expected = bandShapes(n, c, h, w, levels);
  for (let l = 1; l < levels; l++) {
    if (shapes[l][0] !== expected[l - 1][3] || shapes[l][1] !== expected[l - 1][4]) {
      fail('E_SHAPE', `option 'shapes'[${l}]: expected [${expected[l - 1][3]}, ${expected[l - 1][4]}] (the size of level ${l - 1}'s bands), got [${shapes[l].join(', ')}]`);
    }
  }
  const bands = bandList(bandsIn, expected, 'bands');
  if (n * c * h * w > 2 ** 32) fail('E_SHAPE', `idwt2d: output [${n}, ${c}, ${h}, ${w}] is too large`);
  return { dims: [n, c, h, w, levels, wavelet], shape: [n, c, h, w], bands, bandShapes: expected };
}

/**
 * Inverse multi-level DWT: rebuilds (N, C, H_0, W_0) from the last level's LL band and every
 * level's detail bands (the LL bands of lower levels are ignored, as SPEC section 2 says).
 */
export function idwt2d(bands: Tensor[], opts?: Idwt2dOptions): Tensor {
  const p = idwtPlan(bands, opts);
  const inputs: Record<string, Tensor> = {};
  p.bands.forEach((b, l) => (inputs[`bands[${l}]`] = b));
  const y = outputTensor(p.shape, opts?.out, inputs);
  current().run('idwt2dForward', [...p.dims, new In(p.bands), new Out(y)]);
  return y;
}

/** Gradients of every band tensor given the gradient of idwt2d's output. */
export function idwt2dBackward(bands: Tensor[], gradY: Tensor, opts?: Idwt2dOptions): Tensor[] {
  const p = idwtPlan(bands, opts);
  expectShape(gradY, p.shape, 'gradY');
  const grads = outputBands(p.bandShapes, opts?.gradOut, "option 'gradOut'", { gradY });
  current().run('idwt2dBackward', [...p.dims, new In(gradY), new Out(grads)]);
  return grads;
}
