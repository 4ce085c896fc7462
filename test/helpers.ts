// Shared test helpers: the backends every test runs on, fixture loading and
// the pass criterion of SPEC section 5.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as wt from '../ts/index.js';
import { parityError, randomTensor } from './data.js';

export { parityError, randomTensor, randomWTConvParams } from './data.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** shared/ sits beside the repository (in development and in CI). */
export const FIXTURES_DIR = path.resolve(here, '..', '..', 'shared', 'fixtures');

/** Every CPU backend, and the WASM module variants, that CI must exercise. */
export const BACKENDS: { label: string; options: wt.InitOptions }[] = [
  { label: 'native', options: { backend: 'native', threads: 2 } },
  { label: 'wasm (threaded)', options: { backend: 'wasm', threads: 2 } },
  { label: 'wasm (single-threaded)', options: { backend: 'wasm', threads: 1 } },
];

export function fixtureNames(prefix: string): string[] {
  const names = readdirSync(FIXTURES_DIR).filter((f) => f.startsWith(prefix) && f.endsWith('.safetensors'));
  if (names.length === 0) throw new Error(`no fixtures '${prefix}*' in ${FIXTURES_DIR}`);
  return names.sort();
}

export function loadFixture(name: string): { tensors: Record<string, wt.Tensor>; config: Record<string, unknown> } {
  const file = wt.loadSafetensors(new Uint8Array(readFileSync(path.join(FIXTURES_DIR, name))));
  return { tensors: file.tensors, config: JSON.parse(file.metadata.config) };
}

export function expectParity(actual: wt.Tensor, ref: wt.Tensor, what: string): void {
  expect(actual.shape, `${what}: shape`).toEqual(ref.shape);
  const e = parityError(actual.data, ref.data);
  expect(e.relL2, `${what}: relative L2 error`).toBeLessThanOrEqual(1e-5);
  expect(e.maxAbs, `${what}: max abs error`).toBeLessThanOrEqual(e.bound);
}

/** Finite differences: the dot product in float64, a tensor moved along a direction, and a directional-derivative check. */
export const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
export const shifted = (t: wt.Tensor, dir: wt.Tensor, h: number) => new wt.Tensor(t.data.map((v, i) => v + h * dir.data[i]), t.shape);

/** Checks <grad, dir> against (f(t + h dir) - f(t - h dir)) / 2h. */
export function expectDirectional(f: (t: wt.Tensor) => number, t: wt.Tensor, grad: wt.Tensor, seed: number, h: number, tol: number, what: string) {
  const dir = randomTensor([...t.shape], seed);
  const numeric = (f(shifted(t, dir, h)) - f(shifted(t, dir, -h))) / (2 * h);
  const analytic = dot(grad.data, dir.data);
  expect(Math.abs(numeric - analytic), `${what}: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(analytic)));
}
