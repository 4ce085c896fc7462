// Optimisers with PyTorch's semantics (torch.optim.SGD and AdamW), over a
// module's params record: step(grads) updates the parameters in place from
// gradients keyed by the same names (what a module's backward() returns).
import { fail } from './errors.js';
import { Tensor } from './tensor.js';

export interface SGDOptions {
  lr: number;
  /** Default 0. */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Default false. */
  nesterov?: boolean;
}

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (default 1e-2). */
  weightDecay?: number;
  /** Default false. */
  amsgrad?: boolean;
}

function nonNegative(v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) fail('E_ARG', `${what}: expected a finite number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

function checkParams(params: unknown, what: string): Record<string, Tensor> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) fail('E_ARG', `${what}: expected a record of parameter tensors (a module's params)`);
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (!(v instanceof Tensor)) fail('E_DTYPE', `${what}: '${k}' is not a Tensor`);
  }
  return params as Record<string, Tensor>;
}

abstract class Optimizer {
  /** Learning rate; may be changed between steps (schedules). */
  lr: number;
  protected readonly params: Record<string, Tensor>;
  private readonly name: string;

  constructor(params: Record<string, Tensor>, lr: number, name: string) {
    this.name = name;
    this.params = checkParams(params, `${name} params`);
    this.lr = nonNegative(lr, `${name} option 'lr'`);
  }

  /**
   * One update from `grads` (keyed by parameter name; extra keys such as 'x'
   * are ignored). A parameter without a gradient is left alone, as PyTorch
   * skips parameters whose .grad is None.
   */
  step(grads: Record<string, Tensor>): void {
    nonNegative(this.lr, `${this.name}.lr`);
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      if (g === undefined) continue;
      if (!(g instanceof Tensor) || g.data.length !== p.data.length) {
        fail('E_SHAPE', `${this.name}.step: gradient '${name}' must be a Tensor of shape [${p.shape.join(', ')}]`);
      }
      this.update(name, p.data, g.data);
    }
  }

  protected abstract update(name: string, p: Float32Array, g: Float32Array): void;
}

/** torch.optim.SGD (momentum, dampening, weight decay, Nesterov). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly buffers = new Map<string, Float32Array>();

  constructor(params: Record<string, Tensor>, opts: SGDOptions) {
    if (opts === null || typeof opts !== 'object') fail('E_ARG', "SGD options: expected an object with 'lr'");
    super(params, opts.lr, 'SGD');
    this.momentum = nonNegative(opts.momentum ?? 0, "SGD option 'momentum'");
    this.dampening = nonNegative(opts.dampening ?? 0, "SGD option 'dampening'");
    this.weightDecay = nonNegative(opts.weightDecay ?? 0, "SGD option 'weightDecay'");
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) fail('E_ARG', 'SGD: Nesterov momentum requires a momentum and zero dampening');
  }

  protected update(name: string, p: Float32Array, g: Float32Array): void {
    const { lr, momentum: mu, dampening, weightDecay: wd, nesterov } = this;
    let buf = this.buffers.get(name);
    const first = buf === undefined && mu !== 0;
    if (first) this.buffers.set(name, (buf = new Float32Array(p.length)));
    for (let i = 0; i < p.length; i++) {
      let d = g[i] + wd * p[i];
      if (mu !== 0) {
        const b = first ? d : mu * buf![i] + (1 - dampening) * d;
        buf![i] = b;
        d = nesterov ? d + mu * b : b;
      }
      p[i] -= lr * d;
    }
  }
}

/** torch.optim.AdamW: decoupled weight decay, bias-corrected moments, optional AMSGrad. */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  private readonly state = new Map<string, { step: number; m: Float32Array; v: Float32Array; vmax: Float32Array | null }>();

  constructor(params: Record<string, Tensor>, opts: AdamWOptions = {}) {
    if (opts === null || typeof opts !== 'object') fail('E_ARG', 'AdamW options: expected an object');
    super(params, opts.lr ?? 1e-3, 'AdamW');
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => typeof b !== 'number' || !(b >= 0 && b < 1))) {
      fail('E_ARG', `AdamW option 'betas': expected two numbers in [0, 1), got ${JSON.stringify(betas)}`);
    }
    this.betas = [betas[0], betas[1]];
    this.eps = nonNegative(opts.eps ?? 1e-8, "AdamW option 'eps'");
    this.weightDecay = nonNegative(opts.weightDecay ?? 1e-2, "AdamW option 'weightDecay'");
    this.amsgrad = opts.amsgrad ?? false;
  }

  protected update(name: string, p: Float32Array, g: Float32Array): void {
    let s = this.state.get(name);
    if (!s) {
      s = { step: 0, m: new Float32Array(p.length), v: new Float32Array(p.length), vmax: this.amsgrad ? new Float32Array(p.length) : null };
      this.state.set(name, s);
    }
    s.step += 1;
    const { lr, eps, weightDecay: wd } = this;
    const [b1, b2] = this.betas;
    const bc1 = 1 - b1 ** s.step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
    const stepSize = lr / bc1;
    const decay = 1 - lr * wd;
    const { m, v, vmax } = s;
    for (let i = 0; i < p.length; i++) {
      p[i] *= decay;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      let vv = v[i];
      if (vmax) vv = vmax[i] = Math.max(vmax[i], vv);
      p[i] -= (stepSize * m[i]) / (Math.sqrt(vv) / bc2Sqrt + eps);
    }
  }
}
