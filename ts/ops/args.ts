// Argument checks shared by the ops. Every message names the argument, what
// was expected and what came.
import { fail } from '../errors.js';
import { Tensor, asTensor, storageOf } from '../tensor.js';
import { sharesMemory } from '../backends/backend.js';

/** A positive integer, or a [h, w] pair of them (as PyTorch accepts `stride=2` or `(2, 1)`). */
export function intPair(v: unknown, what: string, min = 1): [number, number] {
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  return fail('E_ARG', `${what}: expected an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
}

export function intIn(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('E_ARG', `${what}: expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function options<T extends object>(v: unknown, what: string): Partial<T> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('E_ARG', `${what}: expected an options object, got ${JSON.stringify(v)}`);
  return v as Partial<T>;
}

/** Checks rank-4 NCHW; returns [n, c, h, w]. Sizes must fit the core's int32 arguments. */
export function nchw(t: unknown, what: string): [number, number, number, number] {
  const x = asTensor(t, what);
  if (x.rank !== 4) fail('E_SHAPE', `${what}: expected a 4-D tensor (N, C, H, W), got shape [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape;
  if (c * h * w > 2 ** 31 - 1 || n * c > 2 ** 31 - 1) fail('E_SHAPE', `${what}: shape [${x.shape.join(', ')}] is too large`);
  return [n, c, h, w];
}

export function expectShape(t: unknown, shape: readonly number[], what: string): Tensor {
  const x = asTensor(t, what);
  if (x.shape.length !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    fail('E_SHAPE', `${what}: expected shape [${shape.join(', ')}], got [${x.shape.join(', ')}]`);
  }
  return x;
}

/** A named tensor of a parameter record; missing ones are E_STATE. */
export function param(params: Record<string, unknown>, name: string, shape: readonly number[], what = 'params'): Tensor {
  if (!Object.prototype.hasOwnProperty.call(params, name) || params[name] === undefined) {
    fail('E_STATE', `${what}: missing parameter '${name}' (expected shape [${shape.join(', ')}])`);
  }
  return expectShape(params[name], shape, `${what}['${name}']`);
}

export function record(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Tensor) {
    fail('E_ARG', `${what}: expected an object of tensors keyed by parameter name, got ${v instanceof Tensor ? 'a Tensor' : JSON.stringify(v)}`);
  }
  return v as Record<string, unknown>;
}

/** Whether two tensors share memory (device tensors compared without reading them back). */
export function overlap(a: Tensor, b: Tensor): boolean {
  return sharesMemory(storageOf(a), storageOf(b));
}

/**
 * The tensor an op writes: the `out` option (or the option `what` names),
 * checked against the output shape and against sharing memory with the named
 * inputs, or a new tensor.
 */
export function outputTensor(shape: readonly number[], out: unknown, inputs: Record<string, Tensor | null>, what = "option 'out'"): Tensor {
  if (out === undefined) return Tensor.zeros(shape);
  const y = expectShape(out, shape, what);
  for (const [name, t] of Object.entries(inputs)) {
    if (t !== null && overlap(t, y)) fail('E_ARG', `${what}: must not share memory with ${name}`);
  }
  return y;
}

/**
 * The tensors a backward op writes, keyed as its result: `gradOut[key]` where
 * given (checked against that gradient's shape and against sharing memory with
 * the inputs or with each other), else a new tensor. `shapes` holds every key.
 */
export function gradientTensors(
  shapes: Record<string, readonly number[]>,
  gradOut: unknown,
  inputs: Record<string, Tensor | null>,
): Record<string, Tensor> {
  const given = gradOut === undefined ? {} : record(gradOut, "option 'gradOut'");
  for (const key of Object.keys(given)) {
    if (given[key] !== undefined && !Object.prototype.hasOwnProperty.call(shapes, key)) {
      fail('E_ARG', `option 'gradOut': unknown key '${key}' (accepted: ${Object.keys(shapes).map((k) => `'${k}'`).join(', ')})`);
    }
  }
  const grads: Record<string, Tensor> = {};
  for (const [key, shape] of Object.entries(shapes)) {
    if (!Object.prototype.hasOwnProperty.call(given, key) || given[key] === undefined) {
      grads[key] = Tensor.zeros(shape);
      continue;
    }
    const what = `option 'gradOut'['${key}']`;
    const g = expectShape(given[key], shape, what);
    for (const [name, t] of Object.entries(inputs)) {
      if (t !== null && overlap(t, g)) fail('E_ARG', `${what}: must not share memory with ${name}`);
    }
    for (const [other, t] of Object.entries(grads)) {
      if (overlap(t, g)) fail('E_ARG', `${what}: must not share memory with option 'gradOut'['${other}']`);
    }
    grads[key] = g;
  }
  return grads;
}
