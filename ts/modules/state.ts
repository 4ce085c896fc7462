// The state-dict handling shared by the plain-parameter modules (Conv2d,
// ConvTranspose2d, Dcls*d): PyTorch's names, values copied on load, missing /
// unexpected / mis-shaped keys refused.
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Random } from '../random.js';
import { kernelArray } from '../runtime.js';

export interface LoadOptions {
  /** Refuse unexpected keys (default true), as PyTorch's strict loading does. */
  strict?: boolean;
}

export function loadParams(params: Record<string, Tensor>, sd: unknown, opts: LoadOptions | undefined, what: string): void {
  if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) fail('E_ARG', `${what}.loadStateDict: expected an object of tensors, got ${JSON.stringify(sd)}`);
  const given = sd as Record<string, unknown>;
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const missing = Object.keys(params).filter((k) => !has(given, k));
  if (missing.length) fail('E_STATE', `${what}.loadStateDict: missing keys ${missing.map((k) => `'${k}'`).join(', ')}`);
  const unexpected = Object.keys(given).filter((k) => !has(params, k));
  if ((opts?.strict ?? true) && unexpected.length) {
    fail('E_STATE', `${what}.loadStateDict: unexpected keys ${unexpected.map((k) => `'${k}'`).join(', ')} (pass { strict: false } to ignore them)`);
  }
  for (const [k, want] of Object.entries(params)) {
    const got = given[k];
    if (!(got instanceof Tensor)) fail('E_DTYPE', `${what}.loadStateDict: '${k}' is not a Tensor`);
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      fail('E_SHAPE', `${what}.loadStateDict: '${k}' has shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
    }
  }
  for (const k of Object.keys(params)) params[k].data.set((given[k] as Tensor).data);
}

/** PyTorch's default conv init, kaiming_uniform(a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function uniformParam(rng: Random, shape: number[], fanIn: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new Tensor(rng.uniform(kernelArray(size), 1 / Math.sqrt(fanIn)), shape);
}

/** N(0, std) samples (Box-Muller over the seeded generator). */
export function normalParam(rng: Random, shape: number[], std: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = kernelArray(size);
  for (let i = 0; i < size; i++) {
    const u = 1 - rng.next();
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  }
  return new Tensor(out, shape);
}

export function boolOption(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail('E_ARG', `${what}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
