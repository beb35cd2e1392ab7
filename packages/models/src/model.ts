// The model object: a resolved configuration plus validated weights. It traces its forward pass for a
// given input shape, compiles it once per backend and shape, and runs it with input checks (shape, channel
// count, non-finite values) that fail with one clear line. The weights are parameters (`@wf/core`
// Parameter): every graph compiled for a backend reads that backend's one copy of them, and an update
// (`setWeights`, `weightsUpdated` after in-place edits, a training step) is seen by every compiled graph at
// its next run, without recompiling.
import {
  type AnyBackend,
  type CompiledGraph,
  compile,
  differentiableNames,
  eliminateDeadCode,
  findNonFinite,
  fmtShape,
  type Graph,
  type GraphCost,
  gradName,
  graphCost,
  type NonFiniteTensor,
  onBackendDispose,
  Parameter,
  parametersOf,
  type RunOptions,
  type Tensor,
  type TensorData,
  trace,
  vjpGraph,
} from '@wf/core';
import { ditForward, ditForwardWithCfg, timestepFrequencies } from './arch/dit.js';
import { vitForward } from './arch/vit.js';
import { wfmForward } from './arch/wfm.js';
import { type ConfigSource, checkWeights, describeConfig, type ModelConfig, ModelError } from './config.js';
import {
  inputSizeOf,
  labelsOf,
  type ModelInputSize,
  type ModelPreprocessing,
  preprocessingOf,
} from './model-info.js';
import { resizePosEmbed } from './pos-embed.js';

/** Shape of one forward pass. Classifiers take images; the DiT takes latents of its input size. */
export interface ForwardOptions {
  /** Batch size (default 1). */
  batch?: number;
  /** Image height in pixels (classifiers; default the config's image size). */
  height?: number;
  /** Image width in pixels (classifiers; default = height). */
  width?: number;
  /** Also output `embed` and every `hidden.i`. */
  hidden?: boolean;
  /**
   * Classifiers only: also output `tokens`, the patch tokens after the final norm `[B, N, D]` (class token
   * dropped), the features the effective receptive field is measured on.
   */
  tokens?: boolean;
  /** DiT only: classifier-free guidance scale (runs `forward_with_cfg`; batch must be even). */
  cfgScale?: number;
}

/**
 * Default of {@link WfModel.maxCompiled}: compiled forward passes a model keeps (one per backend and input
 * shape) before it frees the least recently used one.
 */
export const DEFAULT_MAX_COMPILED = 4;

/**
 * Default of {@link WfModel.maxBackends}: backends a model keeps compiled passes for. Each holds its own
 * copy of the weights, so a loop that makes a new backend per call (never disposed) would otherwise hold
 * `maxCompiled` copies.
 */
export const DEFAULT_MAX_BACKENDS = 2;

/** One compiled forward pass in a model's cache. */
interface CacheEntry {
  promise: Promise<CompiledModel>;
  backendId: number;
  /** Set once compiled, so that an eviction can free it at once. */
  compiled?: CompiledModel;
}

/** Options of `WfModel.grad` and `WfModel.gradGraph`. */
export interface GradOptions {
  /**
   * What to differentiate: weight names and/or model input names (default: the image input, `input` or
   * `x`, and every trainable weight, see `WfModel.trainableWeights`).
   */
  wrt?: readonly string[];
}

/** What `WfModel.grad` returns. */
export interface GradResult {
  /** The forward output (`logits`, or `output` for the DiT). */
  readonly outputs: Record<string, TensorData>;
  /**
   * Gradient of `sum(output * cotangent)` for each differentiated name, under the checkpoint's weight
   * names (and `input` / `x` for the input); a weight the graph does not use gets zeros.
   */
  readonly grads: Map<string, TensorData>;
}

/** What to do with NaN/Inf in inputs: reject (default) or let them through. */
export type NonFiniteInputPolicy = 'error' | 'allow';

/** A model compiled for one backend and input shape. */
export interface CompiledModel {
  /** The compiled graph. */
  readonly graph: CompiledGraph;
  /** Input names and types it expects. */
  readonly inputTypes: CompiledGraph['inputTypes'];
  /**
   * Runs one forward pass. A single tensor is taken as the `input` (classifiers) input. Calls made while
   * another is in flight are queued and run in order.
   */
  run(
    inputs: TensorData | Readonly<Record<string, TensorData>>,
    options?: RunOptions,
  ): Promise<Record<string, TensorData>>;
  /** Frees the compiled graph's memory. Idempotent. */
  dispose(): void;
}

/** Finds the first non-finite value of a float tensor, or -1. */
function firstNonFinite(t: TensorData): number {
  if (t.dtype !== 'float32') return -1;
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

/** A WeightFormer, ViT or WeightFormer-DiT model with its weights. */
export class WfModel {
  /** The resolved configuration. */
  readonly config: ModelConfig;
  /**
   * Weights by PyTorch state_dict name. Each is the value of its parameter in {@link WfModel.parameters}:
   * to change weights use {@link WfModel.setWeights}, or edit the arrays in place and then call
   * {@link WfModel.weightsUpdated}, so that compiled graphs see the new values.
   */
  readonly weights: ReadonlyMap<string, TensorData>;
  /**
   * The weights as parameters, by the same names: compiled graphs refer to these (one copy per backend,
   * shared by every compiled shape) and follow their versions.
   */
  readonly parameters: ReadonlyMap<string, Parameter>;
  /** safetensors metadata of the checkpoint, if any. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Float weights holding NaN or +-Infinity (name, count, first index and value), in weight order; empty
   * when every weight is finite. `loadModel(..., { nonFiniteWeights: 'error' })` rejects such checkpoints.
   * Scanned again after {@link WfModel.setWeights} and {@link WfModel.weightsUpdated} (on first read).
   */
  get nonFiniteWeights(): readonly NonFiniteTensor[] {
    this.nonFinite ??= findNonFinite(this.weights);
    return this.nonFinite;
  }
  private nonFinite: readonly NonFiniteTensor[] | undefined;
  /** Policy for NaN/Inf in inputs. */
  nonFiniteInputs: NonFiniteInputPolicy = 'error';
  /**
   * How many compiled forward passes (one per backend and input shape) this model keeps; compiling one
   * more frees the least recently used (after its runs in flight finish). Default
   * {@link DEFAULT_MAX_COMPILED}. Disposing a backend frees its compiled passes at once.
   */
  maxCompiled = DEFAULT_MAX_COMPILED;
  /**
   * How many backends this model keeps compiled passes for; compiling for one more frees every pass of the
   * least recently used backend first. Default {@link DEFAULT_MAX_BACKENDS}.
   */
  maxBackends = DEFAULT_MAX_BACKENDS;
  /** Compiled passes by key, least recently used first. */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly gradCache = new Map<string, Promise<CompiledGraph>>();
  private readonly backendIds = new WeakMap<AnyBackend, number>();
  /** Removers of the backend-dispose listeners, by backend id. */
  private readonly unsubscribe = new Map<number, () => void>();
  /**
   * ViT position tables resized for other grids, by grid: parameters derived from `pos_embed`, recomputed
   * when its version moves on (see `refreshDerived`).
   */
  private readonly resizedPos = new Map<
    string,
    { param: Parameter; native: number; grid: [number, number]; from: number }
  >();

  /**
   * A model of a resolved configuration and its weights (see `loadModel` and `randomModel` to make one).
   *
   * @param config The resolved configuration.
   * @param weights Weights by PyTorch state_dict name (checked against the configuration), taken as they are
   *   (no copy): they become the values of {@link WfModel.parameters}.
   * @param metadata safetensors metadata.
   * @param nonFiniteWeights The weights' NaN/Inf report, when the caller has it already; scanned on first read otherwise.
   * @param configJson The checkpoint's config.json, when it has one (input size, normalization, labels).
   */
  constructor(
    config: ModelConfig,
    weights: ReadonlyMap<string, TensorData>,
    metadata: Record<string, string> = {},
    nonFiniteWeights?: readonly NonFiniteTensor[],
    configJson?: ConfigSource,
  ) {
    checkWeights(config, weights);
    this.config = config;
    this.weights = weights;
    this.parameters = parametersOf(weights);
    this.metadata = metadata;
    this.nonFinite = nonFiniteWeights;
    this.configJson = configJson;
  }

  /** The checkpoint's config.json (beside the weights, or `LoadOptions.configJson`), if it had one. */
  readonly configJson: ConfigSource | undefined;

  /**
   * The input size the checkpoint was made for: timm `pretrained_cfg.input_size` ([C, H, W]) of its
   * config.json or metadata when present, else the configuration's image size (classifiers; any multiple
   * of the patch size also runs) or latent size (wfm-dit).
   */
  get inputSize(): ModelInputSize {
    return inputSizeOf(this.config, this.configJson, this.metadata);
  }

  /**
   * Class names, one per logit: config.json / metadata `label_names` (timm) or `id2label` (HF) when they
   * have one name per class; else the digits for the MNIST models, the ImageNet-1K names for 1000 classes,
   * or undefined.
   */
  get labels(): readonly string[] | undefined {
    return labelsOf(this.config, this.configJson, this.metadata);
  }

  /**
   * How images become this classifier's input: mean, std and crop fraction from config.json /
   * metadata (`pretrained_cfg.mean`, `std`, `crop_pct`), else the reference's ImageNet transform; the MNIST
   * transform for the MNIST models.
   */
  get preprocessing(): ModelPreprocessing {
    return preprocessingOf(this.config, this.configJson, this.metadata);
  }

  /** Number of parameters (elements of all weights, the fixed position tables included). */
  get parameterCount(): number {
    let n = 0;
    for (const t of this.weights.values()) n += t.data.length;
    return n;
  }

  /** Short description, e.g. `wfm D=192 depth=17 patch=16 classes=1000`. */
  describe(): string {
    return `${this.config.arch} ${describeConfig(this.config)}`;
  }

  /** The input names and shapes of a forward pass. */
  inputShapes(opts: ForwardOptions = {}): Record<string, { shape: number[]; dtype: 'float32' | 'int32' }> {
    const b = opts.batch ?? 1;
    if (!Number.isInteger(b) || b < 1) throw new ModelError(`batch must be a positive integer, got ${b}`);
    const c = this.config;
    if (c.arch === 'wfm-dit') {
      if (opts.cfgScale !== undefined && b % 2 !== 0)
        throw new ModelError(`classifier-free guidance needs an even batch, got ${b}`);
      return {
        x: { shape: [b, c.inChannels, c.inputSize, c.inputSize], dtype: 'float32' },
        t: { shape: [b], dtype: 'float32' },
        y: { shape: [b], dtype: 'int32' },
      };
    }
    const h = opts.height ?? c.imgSize;
    const w = opts.width ?? h;
    for (const [name, v] of [
      ['height', h],
      ['width', w],
    ] as const) {
      if (!Number.isInteger(v) || v < c.patchSize || v % c.patchSize !== 0) {
        throw new ModelError(
          `image ${name} ${v} must be a positive multiple of the patch size ${c.patchSize}`,
        );
      }
    }
    return { input: { shape: [b, c.inChans, h, w], dtype: 'float32' } };
  }

  /** Traces the forward pass for one input shape. */
  graph(opts: ForwardOptions = {}): Graph {
    const shapes = this.inputShapes(opts);
    const c = this.config;
    return trace((g) => {
      const w = (name: string): Tensor => {
        const p = this.parameters.get(name);
        if (!p) throw new ModelError(`internal: weight ${name} missing`);
        return g.parameter(p);
      };
      const inputs = Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => [k, g.input(k, s.shape, s.dtype)]),
      );
      if (c.arch === 'wfm') return wfmForward(c, w, inputs.input, opts.hidden, opts.tokens);
      if (c.arch === 'vit') {
        const [, , h, wd] = shapes.input.shape;
        const grid: [number, number] = [h / c.patchSize, wd / c.patchSize];
        const native = c.imgSize / c.patchSize;
        const pos =
          grid[0] === native && grid[1] === native
            ? undefined
            : g.parameter(this.resizedPosEmbed(grid, native));
        return vitForward(c, w, inputs.input, opts.hidden, pos, opts.tokens);
      }
      const freqs = g.constant(timestepFrequencies(), 'timestep_frequencies');
      if (opts.cfgScale !== undefined)
        return ditForwardWithCfg(c, w, freqs, inputs.x, inputs.t, inputs.y, opts.cfgScale);
      return ditForward(c, w, freqs, inputs.x, inputs.t, inputs.y, opts.hidden);
    });
  }

  /** The ViT position table resized to `grid`, as a parameter kept up to date with `pos_embed`. */
  private resizedPosEmbed(grid: [number, number], native: number): Parameter {
    const key = grid.join('x');
    let e = this.resizedPos.get(key);
    if (!e) {
      const src = this.parameters.get('pos_embed')!;
      const value = resizePosEmbed(src.value, [native, native], grid);
      e = { param: new Parameter('pos_embed@resized', value), native, grid, from: src.version };
      this.resizedPos.set(key, e);
    }
    return e.param;
  }

  /**
   * Brings parameters derived from weights (resized ViT position tables) up to date: done by `setWeights`,
   * `weightsUpdated` and before every run; a graph from `graph()` run by other code after a direct
   * `parameters.get('pos_embed').set(...)` needs `setWeights` or `weightsUpdated` instead.
   */
  private refreshDerived(): void {
    if (!this.resizedPos.size) return;
    const src = this.parameters.get('pos_embed')!;
    for (const e of this.resizedPos.values()) {
      if (e.from === src.version) continue;
      e.param.set(resizePosEmbed(src.value, [e.native, e.native], e.grid));
      e.from = src.version;
    }
  }

  /**
   * Replaces weights by name (a Map or a record of tensors of the same shapes and dtypes, e.g. another
   * checkpoint's `weights`): copies them into the model's parameters, so every compiled graph, on every
   * backend, runs with them from its next run, without recompiling. Names not given keep their values.
   *
   * @throws {ModelError} for an unknown name or a tensor of another shape or dtype (nothing is changed).
   */
  setWeights(values: ReadonlyMap<string, TensorData> | Readonly<Record<string, TensorData>>): void {
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    const problems: string[] = [];
    for (const [name, t] of entries) {
      const p = this.parameters.get(name);
      if (!p) problems.push(`no weight named "${name}"`);
      else if (t.dtype !== p.value.dtype || fmtShape(t.shape) !== fmtShape(p.value.shape))
        problems.push(
          `weight "${name}" is ${p.value.dtype}${fmtShape(p.value.shape)}, got ${t.dtype}${fmtShape(t.shape)}`,
        );
      else if (t.data.length !== p.value.data.length)
        problems.push(`weight "${name}" has ${t.data.length} values for shape ${fmtShape(t.shape)}`);
    }
    if (problems.length) throw new ModelError(`setWeights: ${problems.join('; ')}`);
    for (const [name, t] of entries) this.parameters.get(name)!.set(t);
    this.nonFinite = undefined;
    this.refreshDerived();
  }

  /**
   * Records that weights were edited in place (`model.weights.get(name).data[i] = ...`, an optimizer
   * step): bumps the versions of the named parameters (default all), so compiled graphs upload them again
   * and drop packed copies at their next run.
   */
  weightsUpdated(names?: Iterable<string>): void {
    for (const name of names ?? this.parameters.keys()) {
      const p = this.parameters.get(name);
      if (!p) throw new ModelError(`weightsUpdated: no weight named "${name}"`);
      p.touch();
    }
    this.nonFinite = undefined;
    this.refreshDerived();
  }

  /** FLOPs and bytes of one forward pass at the given shape. */
  cost(opts: ForwardOptions = {}): GraphCost {
    return graphCost(this.graph(opts));
  }

  /** Names of the weights training updates: every weight but the DiT's fixed sin-cos `pos_embed`. */
  get trainableWeights(): string[] {
    const fixed = this.config.arch === 'wfm-dit' ? new Set(['pos_embed']) : new Set<string>();
    return [...this.weights.keys()].filter((n) => !fixed.has(n) && this.weights.get(n)!.dtype === 'float32');
  }

  /** The output gradients are taken of: `logits`, or `output` for the DiT. */
  get outputName(): 'logits' | 'output' {
    return this.config.arch === 'wfm-dit' ? 'output' : 'logits';
  }

  /** The differentiable input: `input`, or `x` for the DiT. */
  get inputName(): 'input' | 'x' {
    return this.config.arch === 'wfm-dit' ? 'x' : 'input';
  }

  /**
   * The gradient graph of one input shape: inputs are the model inputs and `cotangent` (the output's
   * shape); the weights are the model's parameters (one copy per backend, shared with the forward passes;
   * updates are seen without recompiling); outputs are the forward output and `grad.<name>` for every name
   * of `wrt` that the graph uses.
   */
  gradGraph(opts: Omit<ForwardOptions, 'hidden' | 'cfgScale'> & GradOptions = {}): Graph {
    const { wrt, ...shape } = opts;
    const fwd = this.graph(shape);
    const main = this.outputName;
    const graph: Graph = eliminateDeadCode({ ...fwd, outputs: new Map([[main, fwd.outputs.get(main)!]]) });
    const want = wrt ?? [this.inputName, ...this.trainableWeights];
    const unknown = want.filter((n) => !this.weights.has(n) && !fwd.inputs.has(n));
    if (unknown.length) throw new ModelError(`grad: no weight or input named ${unknown.join(', ')}`);
    const differentiable = new Set([
      ...differentiableNames(graph).inputs,
      ...differentiableNames(graph).constants.filter((n) => this.weights.has(n)),
    ]);
    const used = want.filter((n) => differentiable.has(n));
    if (!used.length) throw new ModelError('grad: nothing to differentiate');
    return vjpGraph(graph, used);
  }

  /**
   * Forward and backward pass for the loss `sum(output * cotangent)`: the output and the gradient of
   * every name of `opts.wrt` (default the input and every trainable weight), under the checkpoint's names.
   * The gradient graph is compiled once per backend and shape and reads the model's parameters, so
   * weights updated with `setWeights` (or in place, then `weightsUpdated`) are seen without recompiling.
   */
  async grad(
    backend: AnyBackend,
    inputs: TensorData | Readonly<Record<string, TensorData>>,
    cotangent: TensorData,
    opts: GradOptions & RunOptions = {},
  ): Promise<GradResult> {
    const named = isTensorData(inputs) ? { input: inputs } : inputs;
    const shaped = this.shapeOf(named);
    const key = `grad:${this.backendId(backend)}:${JSON.stringify(this.inputShapes(shaped))}:${JSON.stringify(opts.wrt ?? null)}`;
    let p = this.gradCache.get(key);
    if (!p) {
      p = compile(this.gradGraph({ ...shaped, wrt: opts.wrt }), backend);
      this.gradCache.set(key, p);
      p.catch(() => this.gradCache.delete(key));
    }
    const compiled = await p;
    this.refreshDerived();
    const feed: Record<string, TensorData> = {};
    for (const [name, type] of compiled.inputTypes) {
      if (name === 'cotangent') {
        if (fmtShape(cotangent.shape) !== fmtShape(type.shape))
          throw new ModelError(
            `cotangent is ${fmtShape(cotangent.shape)}; the ${this.outputName} are ${fmtShape(type.shape)}`,
          );
        feed.cotangent = cotangent;
      } else if (named[name]) feed[name] = named[name];
      else if (this.weights.has(name)) feed[name] = this.weights.get(name)!;
      else throw new ModelError(`missing input "${name}" (expected ${type.dtype}${fmtShape(type.shape)})`);
    }
    const out = await compiled.run(feed, { signal: opts.signal });
    const grads = new Map<string, TensorData>();
    const want = opts.wrt ?? [this.inputName, ...this.trainableWeights];
    for (const name of want) {
      const g = out[gradName(name)];
      if (g) grads.set(name, g);
      else {
        const like = named[name] ?? this.weights.get(name)!;
        grads.set(name, {
          dtype: 'float32',
          shape: [...like.shape],
          data: new Float32Array(like.data.length),
        });
      }
    }
    return { outputs: { [this.outputName]: out[this.outputName] }, grads };
  }

  private backendId(backend: AnyBackend): number {
    let id = this.backendIds.get(backend);
    if (id === undefined) {
      const newId = nextBackendId++;
      id = newId;
      this.backendIds.set(backend, newId);
      this.unsubscribe.set(newId, watchBackend(backend, new WeakRef(this), newId));
    }
    return id;
  }

  /** The forward shape options of a set of named inputs (checked). */
  private shapeOf(named: Readonly<Record<string, TensorData>>): ForwardOptions {
    const shaped: ForwardOptions = {};
    if (this.config.arch === 'wfm-dit') {
      if (!named.x) throw new ModelError('wfm-dit needs inputs x, t and y');
      shaped.batch = named.x.shape[0];
    } else {
      const x = named.input;
      if (!x) throw new ModelError('missing input "input" [B, C, H, W]');
      if (x.shape.length !== 4) throw new ModelError(`input must be [B, C, H, W], got ${fmtShape(x.shape)}`);
      if (x.shape[1] !== this.config.inChans) {
        throw new ModelError(`input has ${x.shape[1]} channels; this model expects ${this.config.inChans}`);
      }
      [shaped.batch, , shaped.height, shaped.width] = x.shape;
    }
    return shaped;
  }

  /**
   * Compiles the forward pass for `backend` (cached per backend and options, at most
   * {@link WfModel.maxCompiled} passes for at most {@link WfModel.maxBackends} backends at a time).
   */
  compile(backend: AnyBackend, opts: ForwardOptions = {}): Promise<CompiledModel> {
    const id = this.backendId(backend);
    const key = `${id}:${JSON.stringify(this.inputShapes(opts))}:${!!opts.hidden}:${!!opts.tokens}:${opts.cfgScale ?? ''}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.promise;
    }
    // Evict first, so that what is freed can be reused by the new pass.
    const backendId = id;
    const backends = [...new Set([...this.cache.values()].map((e) => e.backendId))];
    const maxBackends = Math.max(1, Math.floor(this.maxBackends) || 1);
    if (!backends.includes(backendId) && backends.length >= maxBackends) {
      // Backends in least recently used order (by their most recent pass): drop the oldest ones.
      const order = [...this.cache.values()].map((e) => e.backendId);
      const lastUse = (b: number) => order.lastIndexOf(b);
      const drop = backends
        .sort((a, b) => lastUse(a) - lastUse(b))
        .slice(0, backends.length - maxBackends + 1);
      for (const [k, e] of this.cache) {
        if (!drop.includes(e.backendId)) continue;
        this.cache.delete(k);
        freeEntry(e);
      }
    }
    const max = Math.max(1, Math.floor(this.maxCompiled) || 1);
    for (const [k, e] of this.cache) {
      if (this.cache.size < max) break;
      this.cache.delete(k);
      freeEntry(e);
    }
    const promise = this.compileUncached(backend, opts);
    const entry: CacheEntry = { promise, backendId };
    this.cache.set(key, entry);
    promise.then(
      (c) => {
        entry.compiled = c;
      },
      () => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
      },
    );
    return promise;
  }

  /** Number of compiled forward passes this model holds now. */
  get compiledCount(): number {
    return this.cache.size;
  }

  /** Frees the compiled passes (forward and gradient) of a backend that was disposed. @internal */
  dropBackend(id: number): void {
    this.unsubscribe.delete(id);
    for (const [k, p] of this.gradCache) {
      if (!k.startsWith(`grad:${id}:`)) continue;
      this.gradCache.delete(k);
      void p.then(
        (c) => c.dispose(),
        () => undefined,
      );
    }
    for (const [k, e] of this.cache) {
      if (e.backendId !== id) continue;
      this.cache.delete(k);
      freeEntry(e);
    }
  }

  private async compileUncached(backend: AnyBackend, opts: ForwardOptions): Promise<CompiledModel> {
    const compiled = await compile(this.graph(opts), backend);
    const check = (inputs: Readonly<Record<string, TensorData>>) => {
      for (const [name, type] of compiled.inputTypes) {
        const t = inputs[name];
        if (!t)
          throw new ModelError(`missing input "${name}" (expected ${type.dtype}${fmtShape(type.shape)})`);
        if (name === 'input' && t.shape.length === 4 && t.shape[1] !== type.shape[1]) {
          throw new ModelError(`input has ${t.shape[1]} channels; this model expects ${type.shape[1]}`);
        }
        if (this.nonFiniteInputs === 'error') {
          const bad = firstNonFinite(t);
          if (bad >= 0)
            throw new ModelError(
              `input "${name}" has a non-finite value (${t.data[bad]}) at flat index ${bad}`,
            );
        }
      }
    };
    let queue: Promise<void> = Promise.resolve();
    let disposed = false;
    let inFlight = 0;
    return {
      graph: compiled,
      inputTypes: compiled.inputTypes,
      run: (inputs, runOptions) => {
        if (disposed)
          return Promise.reject(new ModelError('this compiled model was disposed; compile again'));
        const named = isTensorData(inputs) ? { input: inputs } : inputs;
        check(named);
        // A compiled graph runs one call at a time (its intermediates live in one memory plan): calls
        // made while one is in flight wait their turn instead of failing.
        inFlight++;
        const result = queue.then(() => {
          this.refreshDerived();
          return compiled.run(named, runOptions);
        });
        result.then(
          () => inFlight--,
          () => inFlight--,
        );
        queue = result.then(
          () => undefined,
          () => undefined,
        );
        return result;
      },
      // At once when idle; otherwise runs already queued finish first. Later calls fail.
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (inFlight === 0) compiled.dispose();
        else void queue.then(() => compiled.dispose());
      },
    };
  }

  /**
   * Compiles (once per shape) and runs one forward pass. `opts.signal` aborts the run between ops: the
   * promise rejects with the signal's reason and the model stays usable.
   */
  async run(
    backend: AnyBackend,
    inputs: TensorData | Readonly<Record<string, TensorData>>,
    opts: Omit<ForwardOptions, 'batch' | 'height' | 'width'> & RunOptions = {},
  ): Promise<Record<string, TensorData>> {
    const named = isTensorData(inputs) ? { input: inputs } : inputs;
    const { signal, ...forward } = opts;
    const shaped: ForwardOptions = { ...forward, ...this.shapeOf(named) };
    const compiled = await this.compile(backend, shaped);
    return compiled.run(named, { signal });
  }

  /** Frees every compiled graph of this model. */
  async dispose(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const off of this.unsubscribe.values()) off();
    this.unsubscribe.clear();
    for (const e of all) (await e.promise.catch(() => undefined))?.dispose();
    const grads = [...this.gradCache.values()];
    this.gradCache.clear();
    for (const p of grads) (await p.catch(() => undefined))?.dispose();
  }
}

let nextBackendId = 0;

/**
 * Frees `model`'s graphs of `backend` when the backend is disposed. A function of its own so that the
 * listener's closure holds only the model (weakly: a long-lived backend must not keep dropped models alive)
 * and the id, not the compile call's variables (a compiled graph, and through it the backend).
 */
function watchBackend(backend: AnyBackend, model: WeakRef<WfModel>, id: number): () => void {
  return onBackendDispose(backend, () => model.deref()?.dropBackend(id));
}

/** Disposes a cache entry's compiled model, at once when it is compiled (a failed compile has nothing to free). */
function freeEntry(e: CacheEntry): void {
  if (e.compiled) {
    e.compiled.dispose();
    return;
  }
  e.promise.then(
    (c) => c.dispose(),
    () => undefined,
  );
}

function isTensorData(v: unknown): v is TensorData {
  return typeof v === 'object' && v !== null && 'data' in v && 'shape' in v && 'dtype' in v;
}
