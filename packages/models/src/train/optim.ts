// Optimizers exactly as PyTorch's: AdamW (decoupled weight decay, bias correction, eps added after the
// square root) and SGD with momentum / Nesterov; the reference's parameter-group rule (no weight decay on
// 1-D parameters, names ending `.bias`, `pos_embed`, `cls_token`, `dist_token`); total gradient-norm
// clipping. Parameters are float32 tensors updated in place; updates are computed in float64, and the
// optimizer state is float32 so it round-trips through a checkpoint exactly.
import { type TensorData, WfError } from '@wf/core';

/** Whether the reference's optimizer decays a parameter (its `no_weight_decay` rule). */
export function referenceDecays(name: string, shape: readonly number[]): boolean {
  if (shape.length <= 1) return false;
  if (name.endsWith('.bias')) return false;
  return !['pos_embed', 'cls_token', 'dist_token'].includes(name);
}

/** The decay rate per parameter: `weightDecay` where the reference rule decays (or everywhere with `decayAll`), else 0. */
export function decayByParam(
  params: ReadonlyMap<string, TensorData>,
  weightDecay: number,
  decayAll = false,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [n, t] of params) out.set(n, decayAll || referenceDecays(n, t.shape) ? weightDecay : 0);
  return out;
}

/** The total L2 norm of all gradients (float64 sum of squares). */
export function gradNorm(grads: Iterable<TensorData>): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.data.length; i++) s += g.data[i] * g.data[i];
  return Math.sqrt(s);
}

/**
 * PyTorch's `clip_grad_norm_`: scales every gradient in place by `maxNorm / (norm + 1e-6)` when that is
 * below 1. Returns the norm before clipping.
 */
export function clipGradNorm(grads: Iterable<TensorData>, maxNorm: number): number {
  const list = [...grads];
  const norm = gradNorm(list);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of list) for (let i = 0; i < g.data.length; i++) g.data[i] *= coef;
  return norm;
}

/** What every optimizer offers the trainer. */
export interface Optimizer {
  /** `adamw` or `sgd`. */
  readonly kind: 'adamw' | 'sgd';
  /** Steps taken. */
  readonly steps: number;
  /**
   * One update of every parameter that has a gradient, with learning rate `lr` and, when a schedule
   * cycles it, the momentum / beta1 of this step.
   */
  step(
    params: ReadonlyMap<string, TensorData>,
    grads: ReadonlyMap<string, TensorData>,
    lr: number,
    momentum?: number,
  ): void;
  /** The state as float32 tensors (`<slot>.<param>`), plus the step count. */
  state(): { tensors: Record<string, TensorData>; steps: number };
  /** Restores {@link state}'s output. */
  load(tensors: Readonly<Record<string, TensorData>>, steps: number): void;
}

function slot(map: Map<string, Float32Array>, name: string, n: number): Float32Array {
  let a = map.get(name);
  if (!a) {
    a = new Float32Array(n);
    map.set(name, a);
  }
  return a;
}

function dumpSlots(
  prefix: string,
  map: Map<string, Float32Array>,
  params: Map<string, readonly number[]>,
  out: Record<string, TensorData>,
) {
  for (const [n, a] of map)
    out[`${prefix}.${n}`] = { dtype: 'float32', shape: [...(params.get(n) ?? [a.length])], data: a.slice() };
}

function loadSlots(
  prefix: string,
  map: Map<string, Float32Array>,
  tensors: Readonly<Record<string, TensorData>>,
) {
  map.clear();
  for (const [k, t] of Object.entries(tensors)) {
    if (!k.startsWith(`${prefix}.`)) continue;
    if (t.dtype !== 'float32') throw new WfError('E_ARGUMENT', `optimizer state ${k} must be float32`);
    map.set(k.slice(prefix.length + 1), Float32Array.from(t.data));
  }
}

/** Options of {@link AdamW}; defaults are PyTorch's except the weight decay, given per parameter. */
export interface AdamWOptions {
  /** beta1, beta2 (0.9, 0.999). */
  betas?: [number, number];
  /** Added to sqrt(v_hat) (1e-8). */
  eps?: number;
  /** Decoupled weight decay per parameter name (see {@link decayByParam}); missing names get 0. */
  decay?: ReadonlyMap<string, number>;
}

/** AdamW exactly as `torch.optim.AdamW` (single tensor path). */
export class AdamW implements Optimizer {
  readonly kind = 'adamw' as const;
  steps = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, readonly number[]>();
  private readonly betas: [number, number];
  private readonly eps: number;
  private readonly decay: ReadonlyMap<string, number>;

  /** An AdamW with no state yet. */
  constructor(opts: AdamWOptions = {}) {
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.decay = opts.decay ?? new Map();
  }

  step(
    params: ReadonlyMap<string, TensorData>,
    grads: ReadonlyMap<string, TensorData>,
    lr: number,
    momentum?: number,
  ): void {
    this.steps++;
    const t = this.steps;
    const b1 = momentum ?? this.betas[0];
    const b2 = this.betas[1];
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const stepSize = lr / bc1;
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) continue;
      const n = p.data.length;
      if (g.data.length !== n)
        throw new WfError('E_SHAPE', `gradient of ${name} has ${g.data.length} values for ${n} parameters`);
      this.shapes.set(name, p.shape);
      const m = slot(this.m, name, n);
      const v = slot(this.v, name, n);
      const keep = 1 - lr * (this.decay.get(name) ?? 0);
      const pd = p.data as Float32Array;
      const gd = g.data;
      for (let i = 0; i < n; i++) {
        const gi = gd[i];
        const mi = m[i] + (gi - m[i]) * (1 - b1);
        const vi = v[i] * b2 + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        pd[i] = pd[i] * keep - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + this.eps);
      }
    }
  }

  state(): { tensors: Record<string, TensorData>; steps: number } {
    const tensors: Record<string, TensorData> = {};
    dumpSlots('exp_avg', this.m, this.shapes as Map<string, readonly number[]>, tensors);
    dumpSlots('exp_avg_sq', this.v, this.shapes as Map<string, readonly number[]>, tensors);
    return { tensors, steps: this.steps };
  }

  load(tensors: Readonly<Record<string, TensorData>>, steps: number): void {
    loadSlots('exp_avg', this.m, tensors);
    loadSlots('exp_avg_sq', this.v, tensors);
    for (const [k, t] of Object.entries(tensors))
      if (k.startsWith('exp_avg.')) this.shapes.set(k.slice(8), t.shape);
    this.steps = steps;
  }
}

/** Options of {@link Sgd}; defaults are PyTorch's. */
export interface SgdOptions {
  /** Momentum (0). */
  momentum?: number;
  /** Dampening (0). */
  dampening?: number;
  /** Nesterov momentum (false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient, per parameter name (as torch.optim.SGD). */
  decay?: ReadonlyMap<string, number>;
}

/** SGD exactly as `torch.optim.SGD` (momentum buffer initialised to the first gradient). */
export class Sgd implements Optimizer {
  readonly kind = 'sgd' as const;
  steps = 0;
  private readonly buf = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, readonly number[]>();
  private readonly opts: Required<Omit<SgdOptions, 'decay'>> & { decay: ReadonlyMap<string, number> };

  /** An SGD with no state yet. */
  constructor(opts: SgdOptions = {}) {
    this.opts = {
      momentum: opts.momentum ?? 0,
      dampening: opts.dampening ?? 0,
      nesterov: opts.nesterov ?? false,
      decay: opts.decay ?? new Map(),
    };
    if (this.opts.nesterov && (this.opts.momentum <= 0 || this.opts.dampening !== 0))
      throw new WfError('E_ARGUMENT', 'Nesterov momentum needs momentum > 0 and dampening 0');
  }

  step(
    params: ReadonlyMap<string, TensorData>,
    grads: ReadonlyMap<string, TensorData>,
    lr: number,
    momentum?: number,
  ): void {
    this.steps++;
    const mu = momentum ?? this.opts.momentum;
    const { dampening, nesterov } = this.opts;
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) continue;
      const n = p.data.length;
      this.shapes.set(name, p.shape);
      const wd = this.opts.decay.get(name) ?? 0;
      const pd = p.data as Float32Array;
      const fresh = !this.buf.has(name);
      const b = mu !== 0 ? slot(this.buf, name, n) : undefined;
      for (let i = 0; i < n; i++) {
        let d = g.data[i] + wd * pd[i];
        if (b) {
          b[i] = fresh ? d : mu * b[i] + (1 - dampening) * d;
          d = nesterov ? d + mu * b[i] : b[i];
        }
        pd[i] -= lr * d;
      }
    }
  }

  state(): { tensors: Record<string, TensorData>; steps: number } {
    const tensors: Record<string, TensorData> = {};
    dumpSlots('momentum_buffer', this.buf, this.shapes as Map<string, readonly number[]>, tensors);
    return { tensors, steps: this.steps };
  }

  load(tensors: Readonly<Record<string, TensorData>>, steps: number): void {
    loadSlots('momentum_buffer', this.buf, tensors);
    for (const [k, t] of Object.entries(tensors))
      if (k.startsWith('momentum_buffer.')) this.shapes.set(k.slice(16), t.shape);
    this.steps = steps;
  }
}
