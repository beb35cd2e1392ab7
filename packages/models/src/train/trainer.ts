// The training loop of a classifier (WeightFormer or ViT): one gradient graph per batch shape whose inputs
// are the images and the smoothed targets, reading the model's weights as parameters (one copy per
// backend, shared with the model's compiled forward passes; each step bumps their versions, so the new
// values are used without recompiling), whose outputs are the logits and the gradient of every trainable weight; the loss, its exactness and the
// optimizer run in JavaScript. Every random choice (shuffle, shift, drop-path) is a pure function of the
// seed and the step, so `state()` + `restore()` resume a run exactly.
import {
  type AnyBackend,
  type CompiledGraph,
  compile,
  F,
  type GraphBuilder,
  gradName,
  seededRandom,
  sizeOf,
  type Tensor,
  type TensorData,
  trace,
  vjpGraph,
  WfError,
} from '@wf/core';
import { vitForward } from '../arch/vit.js';
import { wfmForward } from '../arch/wfm.js';
import type { WfModel } from '../model.js';
import {
  epochOrder,
  gatherBatch,
  type ImageSet,
  mixSeed,
  setSize,
  stepShift,
  type TrainData,
} from './data.js';
import { crossEntropy } from './loss.js';
import { AdamW, clipGradNorm, decayByParam, type Optimizer, Sgd } from './optim.js';
import { constantSchedule, cosineSchedule, type LrSchedule, oneCycleSchedule } from './schedule.js';

/** Options of a training run (defaults in brackets). */
export interface TrainOptions {
  /** Batch size [128]. */
  batch?: number;
  /** Epochs [1]; ignored when `steps` is set. */
  epochs?: number;
  /** Optimizer steps in all (overrides `epochs`). */
  steps?: number;
  /** `adamw` [default] or `sgd`. */
  optimizer?: 'adamw' | 'sgd';
  /** Peak learning rate [1e-3]. */
  lr?: number;
  /** Weight decay [0.05]. */
  weightDecay?: number;
  /** Decay every parameter, not only the reference rule's [false]. */
  decayAll?: boolean;
  /** Adam betas [0.9, 0.999]. */
  betas?: [number, number];
  /** Adam eps [1e-8]. */
  eps?: number;
  /** SGD momentum [0.9]. */
  momentum?: number;
  /** SGD Nesterov [false]. */
  nesterov?: boolean;
  /** Clip the total gradient norm to this (0 or undefined = no clipping). */
  clipGradNorm?: number;
  /** Label smoothing [0]. */
  labelSmoothing?: number;
  /** `constant` [default], `onecycle` or `cosine`. */
  schedule?: 'constant' | 'onecycle' | 'cosine';
  /** Warm-up fraction of all steps (one-cycle [0.3], cosine [0]). */
  warmup?: number;
  /** Cosine schedule's final rate [0]. */
  minLr?: number;
  /** One-cycle cycles Adam's beta1 / SGD momentum as PyTorch does [true]. */
  cycleMomentum?: boolean;
  /** Shuffle the training set each epoch [true]. */
  shuffle?: boolean;
  /** Shift augmentation, one random offset of up to 2 px per batch [true]. */
  augment?: boolean;
  /** Seed of shuffling, augmentation and drop-path [0]. */
  seed?: number;
  /**
   * Stochastic-depth rate [0]: per-sample drop-path as timm's (kept branches scaled by 1 / keep), block i's
   * rate `dropPath * i / (depth - 1)`, on both residual branches, in train mode only.
   */
  dropPath?: number;
}

/** One optimizer step's record (the fields of a `--log` line). */
export interface StepRecord {
  /** 1-based number of this step. */
  step: number;
  /** 0-based epoch it belongs to. */
  epoch: number;
  /** Mean loss of the batch (before the update). */
  loss: number;
  /** Learning rate used. */
  lr: number;
  /** Total gradient norm before clipping. */
  grad_norm: number;
  /** Training-batch accuracy (before the update). */
  batch_accuracy: number;
  /** Images in the batch. */
  images: number;
}

/** A non-finite loss or gradient: the step's update was not applied. */
export class NonFiniteLossError extends WfError {
  /** The 1-based step whose loss was not finite. */
  readonly step: number;
  constructor(step: number, what: string) {
    super(
      'E_NUMERIC',
      `non-finite ${what} at step ${step}; stopped without applying it (lower --lr or clip with --clip-grad-norm)`,
    );
    this.step = step;
  }
}

type Resolved = Required<Omit<TrainOptions, 'steps' | 'minLr'>> & { steps?: number; minLr: number };

function resolve(o: TrainOptions): Resolved {
  const r: Resolved = {
    batch: o.batch ?? 128,
    epochs: o.epochs ?? 1,
    steps: o.steps,
    optimizer: o.optimizer ?? 'adamw',
    lr: o.lr ?? 1e-3,
    weightDecay: o.weightDecay ?? 0.05,
    decayAll: o.decayAll ?? false,
    betas: o.betas ?? [0.9, 0.999],
    eps: o.eps ?? 1e-8,
    momentum: o.momentum ?? 0.9,
    nesterov: o.nesterov ?? false,
    clipGradNorm: o.clipGradNorm ?? 0,
    labelSmoothing: o.labelSmoothing ?? 0,
    schedule: o.schedule ?? 'constant',
    warmup: o.warmup ?? (o.schedule === 'onecycle' ? 0.3 : 0),
    minLr: o.minLr ?? 0,
    cycleMomentum: o.cycleMomentum ?? true,
    shuffle: o.shuffle ?? true,
    augment: o.augment ?? true,
    seed: o.seed ?? 0,
    dropPath: o.dropPath ?? 0,
  };
  const bad = (m: string) => {
    throw new WfError('E_ARGUMENT', m);
  };
  if (!Number.isInteger(r.batch) || r.batch < 1) bad(`batch must be a positive integer, got ${r.batch}`);
  if (r.steps !== undefined && (!Number.isInteger(r.steps) || r.steps < 1))
    bad(`steps must be a positive integer, got ${r.steps}`);
  if (!Number.isInteger(r.epochs) || r.epochs < 1) bad(`epochs must be a positive integer, got ${r.epochs}`);
  if (!(r.lr > 0) || !Number.isFinite(r.lr)) bad(`learning rate must be a positive number, got ${r.lr}`);
  if (!(r.weightDecay >= 0)) bad(`weight decay must be >= 0, got ${r.weightDecay}`);
  if (!(r.clipGradNorm >= 0)) bad(`gradient clip norm must be >= 0, got ${r.clipGradNorm}`);
  if (!(r.warmup >= 0 && r.warmup < 1)) bad(`warm-up must be a fraction in [0, 1), got ${r.warmup}`);
  if (!(r.dropPath >= 0 && r.dropPath < 1)) bad(`drop-path rate must be in [0, 1), got ${r.dropPath}`);
  return r;
}

/** A training run of one classifier on one data set. */
export class Trainer {
  /** The model; its weights are updated in place. */
  readonly model: WfModel;
  /** The resolved options. */
  readonly options: Readonly<Resolved>;
  /** Optimizer steps per epoch (the last batch of an epoch may be smaller). */
  readonly stepsPerEpoch: number;
  /** Steps of the whole run. */
  readonly totalSteps: number;
  /** The learning-rate schedule. */
  readonly schedule: LrSchedule;
  /** Steps completed. */
  step = 0;
  /** `train` while stepping, `eval` while evaluating (drop-path is active in train mode only). */
  mode: 'train' | 'eval' = 'train';
  private readonly backend: AnyBackend;
  private readonly data: TrainData;
  private readonly optimizer: Optimizer;
  private readonly trainable: string[];
  private readonly graphs = new Map<string, Promise<CompiledGraph>>();
  /**
   * Per training graph, the host buffers its gradients are read into every step (`RunOptions.outputs`) on
   * a backend that cannot lend them (`RunOptions.borrow`): a step reuses them instead of allocating
   * megabytes of arrays to be collected.
   */
  private readonly gradBuffers = new WeakMap<CompiledGraph, Record<string, TensorData>>();
  private order?: { epoch: number; order: Int32Array };

  /**
   * A run of `model` (a `wfm` or `vit` classifier) on `data` with `backend`.
   * @throws {WfError} `E_ARGUMENT` for options or data that do not fit the model.
   */
  constructor(model: WfModel, backend: AnyBackend, data: TrainData, options: TrainOptions = {}) {
    if (model.config.arch === 'wfm-dit')
      throw new WfError('E_ARGUMENT', 'training supports the wfm and vit classifiers, not wfm-dit');
    this.model = model;
    this.backend = backend;
    this.data = data;
    this.options = resolve(options);
    const [c] = data.train.imageShape;
    if (c !== model.config.inChans)
      throw new WfError(
        'E_ARGUMENT',
        `${data.name} has ${c}-channel images; the model expects ${model.config.inChans}`,
      );
    const n = setSize(data.train);
    if (n === 0) throw new WfError('E_ARGUMENT', `${data.name} has no training images`);
    for (const l of data.train.labels)
      if (l < 0 || l >= model.config.numClasses)
        throw new WfError(
          'E_ARGUMENT',
          `${data.name} has label ${l}; the model has ${model.config.numClasses} classes`,
        );
    this.stepsPerEpoch = Math.ceil(n / this.options.batch);
    this.totalSteps = this.options.steps ?? this.options.epochs * this.stepsPerEpoch;
    const o = this.options;
    this.schedule =
      o.schedule === 'onecycle'
        ? oneCycleSchedule(o.lr, this.totalSteps, { pctStart: o.warmup, cycleMomentum: o.cycleMomentum })
        : o.schedule === 'cosine'
          ? cosineSchedule(o.lr, this.totalSteps, Math.round(o.warmup * this.totalSteps), o.minLr)
          : constantSchedule(o.lr);
    this.trainable = model.trainableWeights;
    const params = this.params();
    const decay = decayByParam(params, o.weightDecay, o.decayAll);
    this.optimizer =
      o.optimizer === 'sgd'
        ? new Sgd({ momentum: o.momentum, nesterov: o.nesterov, decay })
        : new AdamW({ betas: o.betas, eps: o.eps, decay });
  }

  /** The trainable parameters by name (the model's weight tensors, updated in place). */
  params(): Map<string, TensorData> {
    return new Map(this.trainable.map((n) => [n, this.model.weights.get(n)!]));
  }

  /** The 0-based epoch the next step belongs to. */
  get epoch(): number {
    return Math.floor(this.step / this.stepsPerEpoch);
  }

  /** Whether every step has been taken. */
  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  /** The images and labels of 0-based step `k` (shuffle and shift applied as configured). */
  batchOf(k: number): { input: TensorData; labels: Int32Array } {
    const o = this.options;
    const epoch = Math.floor(k / this.stepsPerEpoch);
    const within = k % this.stepsPerEpoch;
    const n = setSize(this.data.train);
    if (this.order?.epoch !== epoch) this.order = { epoch, order: epochOrder(n, epoch, o.seed, o.shuffle) };
    const idx = this.order.order.subarray(within * o.batch, Math.min(n, (within + 1) * o.batch));
    const shift = o.augment ? stepShift(k, o.seed) : ([0, 0] as [number, number]);
    return gatherBatch(this.data.train, idx, shift, this.data.background);
  }

  /** Drop-path rate of block `i` (timm's linear rule). */
  dropRate(i: number): number {
    const d = this.model.config.depth;
    return d > 1 ? (this.options.dropPath * i) / (d - 1) : this.options.dropPath;
  }

  /**
   * The drop-path inputs of 0-based step `k` (`drop_path.<block>.<branch>`, `[B, 1, 1]`: 0 or 1 / keep per
   * sample), seeded by (seed, step); empty when the rate is 0.
   */
  dropPathMasks(k: number, b: number): Record<string, TensorData> {
    const out: Record<string, TensorData> = {};
    if (this.options.dropPath === 0) return out;
    const rand = seededRandom(mixSeed(this.options.seed, 3, k));
    for (let i = 0; i < this.model.config.depth; i++) {
      const p = this.dropRate(i);
      if (p === 0) continue;
      for (const j of [0, 1]) {
        const data = new Float32Array(b);
        for (let s = 0; s < b; s++) data[s] = rand() < 1 - p ? 1 / (1 - p) : 0;
        out[`drop_path.${i}.${j}`] = { dtype: 'float32', shape: [b, 1, 1], data };
      }
    }
    return out;
  }

  private forward(g: GraphBuilder, x: Tensor, train: boolean): Tensor {
    const cfg = this.model.config;
    const w = (name: string): Tensor => {
      const p = this.model.parameters.get(name);
      if (!p) throw new WfError('E_INTERNAL', `weight ${name} missing`);
      return g.parameter(p);
    };
    const b = x.shape[0];
    const branch =
      train && this.options.dropPath > 0
        ? (i: number, j: 0 | 1, t: Tensor) =>
            this.dropRate(i) === 0 ? t : F.mul(t, g.input(`drop_path.${i}.${j}`, [b, 1, 1], 'float32'))
        : undefined;
    if (cfg.arch === 'wfm') return wfmForward(cfg, w, x, false, false, branch).logits;
    if (cfg.arch === 'vit') return vitForward(cfg, w, x, false, undefined, false, branch).logits;
    throw new WfError('E_ARGUMENT', `cannot train ${cfg.arch}`);
  }

  private compiled(kind: 'train' | 'eval', shape: readonly number[]): Promise<CompiledGraph> {
    const key = `${kind}:${shape.join('x')}`;
    let p = this.graphs.get(key);
    if (!p) {
      const classes = this.model.config.numClasses;
      const graph = trace((g): Record<string, Tensor> => {
        const x = g.input('input', shape, 'float32');
        const logits = this.forward(g, x, kind === 'train');
        if (kind === 'eval') return { logits };
        // target = q / B (smoothed one-hot over the batch size): loss = -sum(target * log softmax(logits)),
        // whose gradient (softmax - q) / B is the exact one; the reported loss is recomputed in float64.
        const target = g.input('target', [shape[0], classes], 'float32');
        const loss = F.neg(F.sum(F.mul(target, F.log(F.add(F.softmax(logits, -1), 1e-30)))));
        return { loss, logits };
      });
      const read = new Set(graph.nodes.flatMap((node) => (node.param ? [node.param.name] : [])));
      const used = this.trainable.filter((n) => read.has(n));
      p = compile(kind === 'eval' ? graph : vjpGraph(graph, used), this.backend);
      this.graphs.set(key, p);
      p.catch(() => this.graphs.delete(key));
    }
    return p;
  }

  /** The gradient buffers of a training graph (made at its first step; see `gradBuffers`). */
  private gradBuffersOf(compiled: CompiledGraph): Record<string, TensorData> {
    let bufs = this.gradBuffers.get(compiled);
    if (!bufs) {
      bufs = {};
      for (const n of this.trainable) {
        const type = compiled.outputTypes.get(gradName(n));
        if (type && type.dtype === 'float32') {
          const data = new Float32Array(sizeOf(type.shape));
          bufs[gradName(n)] = { dtype: 'float32', shape: [...type.shape], data };
        }
      }
      this.gradBuffers.set(compiled, bufs);
    }
    return bufs;
  }

  private feed(compiled: CompiledGraph, extra: Record<string, TensorData>): Record<string, TensorData> {
    const feed: Record<string, TensorData> = {};
    for (const [name, type] of compiled.inputTypes) {
      if (extra[name]) feed[name] = extra[name];
      else if (name.startsWith('cotangent')) {
        const n = type.shape.reduce((a, b) => a * b, 1);
        feed[name] = {
          dtype: 'float32',
          shape: [...type.shape],
          data: new Float32Array(n).fill(name === 'cotangent.loss' ? 1 : 0),
        };
      } else throw new WfError('E_INTERNAL', `training graph input ${name} has no value`);
    }
    return feed;
  }

  /**
   * Takes the next optimizer step: batch, forward and backward, loss, clipping, update.
   * @throws {NonFiniteLossError} when the loss or gradient norm is not finite (nothing is updated).
   */
  async trainStep(): Promise<StepRecord> {
    if (this.done) throw new WfError('E_ARGUMENT', `the run is complete (${this.totalSteps} steps)`);
    this.mode = 'train';
    const k = this.step;
    const o = this.options;
    const { input, labels } = this.batchOf(k);
    const b = labels.length;
    const classes = this.model.config.numClasses;
    const target = new Float32Array(b * classes).fill(o.labelSmoothing / classes / b);
    for (let i = 0; i < b; i++) target[i * classes + labels[i]] += (1 - o.labelSmoothing) / b;
    const compiled = await this.compiled('train', input.shape);
    const out = await compiled.run(
      this.feed(compiled, {
        input,
        target: { dtype: 'float32', shape: [b, classes], data: target },
        ...this.dropPathMasks(k, b),
      }),
      // gradients used within this step only: lent by the backend where it can, else read into buffers
      this.backend.borrow ? { borrow: true } : { outputs: this.gradBuffersOf(compiled) },
    );
    const ce = crossEntropy(out.logits, labels, o.labelSmoothing);
    if (!Number.isFinite(ce.loss)) throw new NonFiniteLossError(k + 1, `loss (${ce.loss})`);
    const grads = new Map<string, TensorData>();
    for (const n of this.trainable) {
      const g = out[gradName(n)];
      if (g) grads.set(n, g);
    }
    const norm =
      o.clipGradNorm > 0
        ? clipGradNorm(grads.values(), o.clipGradNorm)
        : clipGradNorm(grads.values(), Number.POSITIVE_INFINITY);
    if (!Number.isFinite(norm)) throw new NonFiniteLossError(k + 1, `gradient norm (${norm})`);
    const lr = this.schedule.lr(k);
    const mom = this.schedule.momentum?.(k);
    this.optimizer.step(this.params(), grads, lr, mom);
    // The weights changed in place: every graph compiled for the model (its forward passes at any shape,
    // on any backend) reads the new values from its next run.
    this.model.weightsUpdated(grads.keys());
    this.step = k + 1;
    return {
      step: k + 1,
      epoch: Math.floor(k / this.stepsPerEpoch),
      loss: ce.loss,
      lr,
      grad_norm: norm,
      batch_accuracy: ce.correct / b,
      images: b,
    };
  }

  /** Accuracy and mean loss (no smoothing) on a set, in eval mode; the data's test split by default. */
  async evaluate(
    set: ImageSet | undefined = this.data.test,
    batch = 256,
  ): Promise<{ accuracy: number; loss: number } | undefined> {
    if (!set) return undefined;
    const prev = this.mode;
    this.mode = 'eval';
    try {
      const n = setSize(set);
      let correct = 0;
      let loss = 0;
      for (let s = 0; s < n; s += batch) {
        const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
        const { input, labels } = gatherBatch(set, idx);
        const compiled = await this.compiled('eval', input.shape);
        const out = await compiled.run(this.feed(compiled, { input }));
        const ce = crossEntropy(out.logits, labels, 0);
        correct += ce.correct;
        loss += ce.loss * labels.length;
      }
      return { accuracy: correct / n, loss: loss / n };
    } finally {
      this.mode = prev;
    }
  }

  /** Everything a resume needs beyond the weights: optimizer state tensors and a JSON-able record. */
  state(): {
    tensors: Record<string, TensorData>;
    meta: { step: number; optimizerSteps: number; options: Resolved };
  } {
    const s = this.optimizer.state();
    return { tensors: s.tensors, meta: { step: this.step, optimizerSteps: s.steps, options: this.options } };
  }

  /**
   * Restores {@link state}'s output (weights are restored by loading the checkpoint as the model).
   * @throws {WfError} `E_ARGUMENT` when the saved run used other options that change the result.
   */
  restore(
    tensors: Readonly<Record<string, TensorData>>,
    meta: { step: number; optimizerSteps: number; options: Partial<Resolved> },
  ): void {
    for (const k of ['batch', 'seed', 'optimizer', 'schedule', 'shuffle', 'augment', 'lr'] as const) {
      const a = JSON.stringify(meta.options[k]);
      const b = JSON.stringify(this.options[k]);
      if (a !== b)
        throw new WfError(
          'E_ARGUMENT',
          `cannot resume: the checkpoint was trained with ${k} ${a}, this run has ${b}`,
        );
    }
    if (meta.step > this.totalSteps)
      throw new WfError(
        'E_ARGUMENT',
        `cannot resume: the checkpoint is at step ${meta.step}, past this run's ${this.totalSteps} steps`,
      );
    this.optimizer.load(tensors, meta.optimizerSteps);
    this.step = meta.step;
  }

  /** Frees the compiled graphs. */
  async dispose(): Promise<void> {
    const all = [...this.graphs.values()];
    this.graphs.clear();
    for (const p of all) (await p.catch(() => undefined))?.dispose();
  }
}
