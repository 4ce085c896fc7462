// DCLS, dilated convolution with learnable spacings (SPEC section 4): kernels
// built from a few weights at float positions P (bilinear 'v0' or Gaussian
// 'gauss' with widths SIG), and the convolution with them. Validation here,
// construction in core/src/operators/dcls-construct.cc, the convolution in ./conv.ts.
import { fail } from '../errors.js';
import { Tensor, asTensor } from '../tensor.js';
import { In, Out } from '../backends/backend.js';
import { current } from '../runtime.js';
import { expectShape, gradientTensors, options } from './args.js';
import { conv1d, conv1dBackward, conv2d, conv2dBackward, conv3d, conv3dBackward, intTuple, type ConvGrads, type ConvOptions } from './conv.js';

export type DclsVersion = 'v0' | 'gauss';
const VERSIONS: Record<DclsVersion, number> = { v0: 0, gauss: 1 };

export interface DclsConstructOptions {
  /** Size of the built kernel per spatial axis (a number for every axis). */
  dilatedKernelSize: number | number[];
  /** 'v0' (bilinear, default) or 'gauss'. */
  version?: DclsVersion;
  /** Gaussian widths, same shape as P ('gauss' only). */
  SIG?: Tensor;
  /**
   * Backward only: tensors to write the gradients into, keyed as the result
   * (the record a previous call returned, or part of it); the others are new.
   * Each must share memory with no input.
   */
  gradOut?: Partial<DclsConstructGrads>;
}

export interface DclsConvOptions extends DclsConstructOptions {
  stride?: number | number[];
  padding?: number | number[];
  groups?: number;
  /** Forward only: a tensor of the output's shape to write into (see ConvOptions.out). */
  out?: Tensor;
  /** Backward only: as for the kernel construction, also for `x` and `bias`. */
  gradOut?: Partial<DclsConvGrads>;
}

export interface DclsConstructGrads {
  weight: Tensor;
  P: Tensor;
  SIG?: Tensor;
}

export interface DclsConvGrads extends DclsConstructGrads {
  x: Tensor;
  bias?: Tensor;
}

interface Plan {
  dims: number;
  args: number[];  // dims, out, in / groups, count, size0, size1, size2, version
  kernelShape: number[];
  sig: Tensor | null;
}

function plan(weight: unknown, P: unknown, opts: unknown, what: string): Plan {
  const w = asTensor(weight, 'weight');
  if (w.rank !== 3) fail('E_SHAPE', `weight: expected a 3-D tensor (out, in / groups, count), got shape [${w.shape.join(', ')}]`);
  const p = asTensor(P, 'P');
  const dims = p.shape[0];
  if (p.rank !== 4 || dims < 1 || dims > 3) {
    fail('E_SHAPE', `P: expected shape [D, ${w.shape.join(', ')}] with D in 1..3, got [${p.shape.join(', ')}]`);
  }
  expectShape(p, [dims, ...w.shape], 'P');
  const o = options<DclsConstructOptions>(opts, `${what} options`);
  if (o.dilatedKernelSize === undefined) fail('E_ARG', `${what}: option 'dilatedKernelSize' is required`);
  const size = intTuple(o.dilatedKernelSize, dims, "option 'dilatedKernelSize'", 1);
  const version = o.version ?? 'v0';
  if (!Object.prototype.hasOwnProperty.call(VERSIONS, version)) {
    fail('E_ARG', `option 'version': expected 'v0' or 'gauss', got ${JSON.stringify(version)}`);
  }
  let sig: Tensor | null = null;
  if (version === 'gauss') {
    if (o.SIG === undefined || o.SIG === null) fail('E_STATE', `${what}: version 'gauss' needs option 'SIG' (shape [${p.shape.join(', ')}])`);
    sig = expectShape(o.SIG, p.shape, 'SIG');
  }
  const kernelShape = [w.shape[0], w.shape[1], ...size];
  if (kernelShape.reduce((a, b) => a * b, 1) > 2 ** 31 - 1) fail('E_SHAPE', `dilatedKernelSize: kernel shape [${kernelShape.join(', ')}] is too large`);
  const padded = [...size, 1, 1].slice(0, 3);
  return { dims, args: [dims, w.shape[0], w.shape[1], w.shape[2], ...padded, VERSIONS[version]], kernelShape, sig };
}

/** The dense kernel (out, in / groups, *dilatedKernelSize) from weight (out, in / groups, count) and P (D, out, in / groups, count). */
export function dclsConstructKernel(weight: Tensor, P: Tensor, opts: DclsConstructOptions): Tensor {
  const p = plan(weight, P, opts, 'dclsConstructKernel');
  const k = Tensor.zeros(p.kernelShape);
  current().run('dclsConstructForward', [...p.args, new In(weight), new In(P), p.sig ? new In(p.sig) : null, new Out(k)]);
  return k;
}

/** Gradients of sum(gradK * dclsConstructKernel(weight, P)) for weight, P (and SIG for 'gauss'). */
export function dclsConstructKernelBackward(weight: Tensor, P: Tensor, gradK: Tensor, opts: DclsConstructOptions): DclsConstructGrads {
  const p = plan(weight, P, opts, 'dclsConstructKernelBackward');
  expectShape(gradK, p.kernelShape, 'gradK');
  const shapes: Record<string, readonly number[]> = { weight: weight.shape, P: P.shape };
  if (p.sig) shapes.SIG = P.shape;
  const g = gradientTensors(shapes, opts?.gradOut, { weight, P, SIG: p.sig, gradK }) as unknown as DclsConstructGrads;
  current().run('dclsConstructBackward', [
    ...p.args, new In(weight), new In(P), p.sig ? new In(p.sig) : null, new In(gradK),
    new Out(g.weight), new Out(g.P), g.SIG ? new Out(g.SIG) : null,
  ]);
  return g;
}

const CONV = [undefined, conv1d, conv2d, conv3d];
const CONV_BACKWARD = [undefined, conv1dBackward, conv2dBackward, conv3dBackward];

function convDims(x: unknown, P: unknown): number {
  const xt = asTensor(x, 'x');
  const p = asTensor(P, 'P');
  const dims = xt.rank - 2;
  if (dims < 1 || dims > 3) fail('E_SHAPE', `x: expected a 3-D, 4-D or 5-D tensor (N, C, *spatial), got shape [${xt.shape.join(', ')}]`);
  if (p.shape[0] !== dims) fail('E_SHAPE', `P: expected ${dims} position axes for a ${xt.rank}-D x, got shape [${p.shape.join(', ')}]`);
  return dims;
}

function convOptions(opts: DclsConvOptions): ConvOptions {
  const o = options<DclsConvOptions>(opts, 'dclsConv options');
  return { stride: o.stride ?? 1, padding: o.padding ?? 0, dilation: 1, groups: o.groups ?? 1 };
}

/** A DCLS layer's forward: conv{1,2,3}d (by x's rank) with the constructed kernel. */
export function dclsConv(x: Tensor, weight: Tensor, P: Tensor, bias: Tensor | null, opts: DclsConvOptions): Tensor {
  const dims = convDims(x, P);
  const k = dclsConstructKernel(weight, P, opts);
  return CONV[dims]!(x, k, bias, { ...convOptions(opts), out: opts?.out });
}

/** Gradients of sum(gradY * dclsConv(...)) keyed x, weight, P, bias (when given), SIG ('gauss'). */
export function dclsConvBackward(x: Tensor, weight: Tensor, P: Tensor, bias: Tensor | null, gradY: Tensor, opts: DclsConvOptions): DclsConvGrads {
  const dims = convDims(x, P);
  const k = dclsConstructKernel(weight, P, opts);
  // Every given gradient tensor checked here against every input; the two
  // passes below write the conv's and the construction's parts of them.
  const shapes: Record<string, readonly number[]> = { x: x.shape, weight: weight.shape, P: P.shape };
  if (bias) shapes.bias = bias.shape;
  if (opts?.version === 'gauss') shapes.SIG = P.shape;
  const sig = opts?.version === 'gauss' ? opts.SIG ?? null : null;
  const out = gradientTensors(shapes, opts?.gradOut, { x, weight, P, bias, SIG: sig, gradY });
  const g: ConvGrads = CONV_BACKWARD[dims]!(x, k, bias, gradY, { ...convOptions(opts), gradOut: { x: out.x, bias: out.bias } });
  const c = dclsConstructKernelBackward(weight, P, g.weight, { ...opts, gradOut: { weight: out.weight, P: out.P, SIG: out.SIG } });
  const grads: DclsConvGrads = { x: g.x, weight: c.weight, P: c.P };
  if (g.bias) grads.bias = g.bias;
  if (c.SIG) grads.SIG = c.SIG;
  return grads;
}
