// The pipeline API: `const classify = await imageClassifier(source)`, then `await classify(image)`. A
// pipeline loads the checkpoint (a built-in name, a path, a URL or bytes), owns and reuses one backend (or
// uses the one given), reads the input size, normalization and labels from the checkpoint, and turns any
// image (path, URL, Blob, ImageData, ImageBitmap, pixels, or a list of them, run in batches) into typed
// results. `featureExtractor` does the same for pooled and token features. Same API in Node and browsers.
import { type AnyBackend, type TensorData, WfError } from '@wf/core';
import { ModelError } from './config.js';
import { type Prediction, topK } from './data/imagenet-classes.js';
import { type ImageInput, type ReadImageOptions, readImage } from './image/image-input.js';
import {
  preprocessClassifierImage,
  preprocessMnistImage,
  type RgbaImage,
  stackBatch,
} from './image/preprocess.js';
import { type LoadOptions, loadModel, type ModelSource } from './load.js';
import type { WfModel } from './model.js';
import { MODEL_VARIANTS } from './variants.js';

/** Names of the checkpoints shipped in @wf/models. */
export const BUILTIN_MODELS = ['wfm-mnist', 'vit-mnist'] as const;
/** A shipped checkpoint's name. */
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];

/** Options of {@link imageClassifier} and {@link featureExtractor}. */
export interface PipelineOptions extends LoadOptions {
  /**
   * The backend to run on. Given, the pipeline uses it and leaves it to the caller; omitted, the pipeline
   * creates a cpu backend (`@wf/backend-cpu`, which must be installed) and disposes it in `dispose()`.
   */
  backend?: AnyBackend;
  /**
   * Input resolution: a side in pixels, or `{ width, height }` (multiples of the patch size). Default:
   * the checkpoint's {@link WfModel.inputSize}.
   */
  inputSize?: number | { width: number; height: number };
  /** Images per forward pass when a list is given (default 8). */
  batchSize?: number;
  /** Largest image accepted in pixels (Node decoders; default 100 megapixels). */
  maxPixels?: number;
}

/** Options of one call of a pipeline. */
export interface PipelineCallOptions {
  /** Stops the call (downloads and the forward pass); the pipeline stays usable. */
  signal?: AbortSignal;
}

/** Options of one classification. */
export interface ClassifyOptions extends PipelineCallOptions {
  /** How many classes to return per image, most probable first (default 5). */
  topK?: number;
}

/** What a pipeline has and does besides being called. */
export interface PipelineBase {
  /** The model. */
  readonly model: WfModel;
  /** The backend it runs on. */
  readonly backend: AnyBackend;
  /** The resolution images are brought to. */
  readonly inputSize: { readonly width: number; readonly height: number };
  /** Reads and preprocesses one image into a `[1, C, H, W]` input. */
  preprocess(image: ImageInput, opts?: PipelineCallOptions): Promise<TensorData>;
  /** Frees the compiled model, and the backend when the pipeline created it. Idempotent. */
  dispose(): Promise<void>;
}

/** An image classifier: call it with an image (one result) or a list of images (one result per image). */
export interface ImageClassifier extends PipelineBase {
  (image: ImageInput, opts?: ClassifyOptions): Promise<Prediction[]>;
  (images: readonly ImageInput[], opts?: ClassifyOptions): Promise<Prediction[][]>;
  /** Class names, one per logit, when the checkpoint (or the ImageNet / MNIST defaults) has them. */
  readonly labels: readonly string[] | undefined;
}

/** Options of one feature extraction. */
export interface ExtractOptions extends PipelineCallOptions {
  /**
   * `pooled` (default): the vector the classifier head reads, `[D]` per image (token mean for WeightFormer,
   * class token for ViT); `tokens`: every final-norm patch token, `[N, D]` per image (ViT: the class token, the pooled output, is dropped).
   */
  pooling?: 'pooled' | 'tokens';
}

/** A feature extractor: call it with an image (`[D]` or `[N, D]`) or a list (`[B, D]` or `[B, N, D]`). */
export interface FeatureExtractor extends PipelineBase {
  (image: ImageInput, opts?: ExtractOptions): Promise<TensorData>;
  (images: readonly ImageInput[], opts?: ExtractOptions): Promise<TensorData>;
}

function isBuiltin(s: string): s is BuiltinModel {
  return (BUILTIN_MODELS as readonly string[]).includes(s);
}

/** The URL of a shipped checkpoint (a file: URL in Node). */
export function builtinModelUrl(name: BuiltinModel): URL {
  // Not a literal: bundlers must not copy the weights into every build.
  const rel = `../weights/${name}.safetensors`;
  return new URL(rel, import.meta.url);
}

/** The valid kinds of model names, for error messages. */
export function modelChoices(): string {
  return `a built-in model (${BUILTIN_MODELS.join(', ')}), a .safetensors path or URL (with --variant / { variant } for ${Object.keys(MODEL_VARIANTS).join(', ')})`;
}

/**
 * What a model name given by a user stands for: a built-in's URL, or the source as given. A variant name
 * alone (no weights) and a bare word that is no file are errors listing the choices.
 *
 * @throws {ModelError} for a variant name without weights or an unknown name.
 */
export async function resolveModelSource(source: ModelSource): Promise<ModelSource> {
  if (typeof source !== 'string') return source;
  if (isBuiltin(source)) return builtinModelUrl(source);
  if (source in MODEL_VARIANTS) {
    throw new ModelError(
      `"${source}" is a model variant, not a checkpoint: give its weights (a .safetensors path or URL) and the variant, e.g. imageClassifier('${source}.safetensors', { variant: '${source}' }) or wf ... --model ${source}.safetensors --variant ${source}`,
    );
  }
  const bare = !/[/\\.:]/.test(source);
  if (bare && typeof process !== 'undefined' && process.versions?.node) {
    const { access } = await import('node:fs/promises');
    const exists = await access(source).then(
      () => true,
      () => false,
    );
    if (!exists) throw new ModelError(`unknown model "${source}": use ${modelChoices()}`);
  }
  return source;
}

async function defaultBackend(): Promise<AnyBackend> {
  const spec = '@wf/backend-cpu';
  let mod: { createCpuBackend?: () => AnyBackend };
  try {
    mod = (await import(/* @vite-ignore */ spec)) as typeof mod;
  } catch (e) {
    throw new WfError(
      'E_ARGUMENT',
      'the pipeline needs a backend: install @wf/backend-cpu, or pass { backend } (e.g. a gpu.js backend)',
      { cause: e },
    );
  }
  if (!mod.createCpuBackend) throw new WfError('E_ARGUMENT', '@wf/backend-cpu has no createCpuBackend');
  return mod.createCpuBackend();
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new WfError('E_ARGUMENT', `${what} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Loads the model and backend and builds what both pipelines share. */
async function createBase(source: ModelSource, opts: PipelineOptions) {
  const { backend: given, inputSize, batchSize, maxPixels, ...load } = opts;
  const batch = positiveInt(batchSize ?? 8, 'batchSize');
  const model = await loadModel(await resolveModelSource(source), load);
  if (model.config.arch === 'wfm-dit') {
    await model.dispose();
    throw new ModelError('a pipeline needs a classifier checkpoint (wfm or vit), not wfm-dit');
  }
  const prep = model.preprocessing;
  const native = model.inputSize;
  let size = { width: native.width, height: native.height };
  if (inputSize !== undefined) {
    size =
      typeof inputSize === 'number'
        ? { width: positiveInt(inputSize, 'inputSize'), height: inputSize }
        : {
            width: positiveInt(inputSize?.width, 'inputSize.width'),
            height: positiveInt(inputSize?.height, 'inputSize.height'),
          };
    if (prep.kind === 'mnist' && (size.width !== native.width || size.height !== native.height)) {
      throw new ModelError(
        `the MNIST models take ${native.width}x${native.height} inputs only (got ${size.width}x${size.height})`,
      );
    }
  }
  // Fails now, with the patch size, rather than on the first image.
  model.inputShapes({ width: size.width, height: size.height });
  const backend = given ?? (await defaultBackend());
  let disposed = false;
  const toInput = (img: RgbaImage): TensorData =>
    prep.kind === 'mnist'
      ? preprocessMnistImage(img)
      : preprocessClassifierImage(img, { ...size, mean: prep.mean, std: prep.std, cropPct: prep.cropPct });
  const readOpts = (o: PipelineCallOptions): ReadImageOptions => ({
    maxPixels,
    fetch: load.fetch,
    timeoutMs: load.timeoutMs,
    signal: o.signal,
  });
  const preprocess = async (image: ImageInput, o: PipelineCallOptions = {}) =>
    toInput(await readImage(image, readOpts(o)));
  /** Runs `images` in batches; `collect` gets each batch's outputs and its size. */
  const runAll = async (
    images: readonly ImageInput[],
    o: PipelineCallOptions,
    tokens: boolean,
    collect: (out: Record<string, TensorData>, n: number) => void,
  ) => {
    if (disposed) throw new WfError('E_ARGUMENT', 'this pipeline was disposed; create a new one');
    for (let at = 0; at < images.length; at += batch) {
      const inputs: TensorData[] = [];
      for (const img of images.slice(at, at + batch)) inputs.push(await preprocess(img, o));
      const x = inputs.length === 1 ? inputs[0] : stackBatch(inputs);
      const out = await model.run(backend, x, { signal: o.signal, tokens });
      collect(out, inputs.length);
    }
  };
  const base = {
    model,
    backend,
    inputSize: Object.freeze(size),
    preprocess,
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      await model.dispose();
      if (!given) backend.dispose();
    },
  };
  return { base, runAll };
}

function asList(images: ImageInput | readonly ImageInput[]): {
  list: readonly ImageInput[];
  single: boolean;
} {
  return Array.isArray(images)
    ? { list: images as readonly ImageInput[], single: false }
    : { list: [images as ImageInput], single: true };
}

/**
 * An image classifier pipeline:
 *
 * ```ts
 * const classify = await imageClassifier('wfm-tiny.safetensors');
 * console.log(await classify('cat.jpg', { topK: 3 })); // [{ label, probability, index, logit }, ...]
 * ```
 *
 * @param source - A built-in name (`wfm-mnist`, `vit-mnist`), a checkpoint path (Node), URL or bytes (with
 *   `{ variant }` when the checkpoint does not say its configuration).
 * @throws {ModelError} for an unknown name, a variant name without weights, a wfm-dit checkpoint or an
 *   input size the model cannot take; the errors of `loadModel`.
 */
export async function imageClassifier(
  source: ModelSource,
  opts: PipelineOptions = {},
): Promise<ImageClassifier> {
  const { base, runAll } = await createBase(source, opts);
  const labels = base.model.labels;
  const classes = base.model.config.numClasses;
  const classify = async (images: ImageInput | readonly ImageInput[], o: ClassifyOptions = {}) => {
    const k = Math.min(positiveInt(o.topK ?? 5, 'topK'), classes);
    const { list, single } = asList(images);
    const results: Prediction[][] = [];
    await runAll(list, o, false, (out, n) => {
      const logits = out.logits.data;
      for (let i = 0; i < n; i++)
        results.push(topK(logits.subarray(i * classes, (i + 1) * classes), k, labels));
    });
    return single ? results[0] : results;
  };
  return Object.assign(classify, base, { labels }) as ImageClassifier;
}

/**
 * A feature extractor pipeline on the same machinery as {@link imageClassifier}:
 *
 * ```ts
 * const extract = await featureExtractor('wfm-tiny.safetensors');
 * const v = await extract('cat.jpg'); // { shape: [192], data: Float32Array }
 * ```
 */
export async function featureExtractor(
  source: ModelSource,
  opts: PipelineOptions = {},
): Promise<FeatureExtractor> {
  const { base, runAll } = await createBase(source, opts);
  const extract = async (images: ImageInput | readonly ImageInput[], o: ExtractOptions = {}) => {
    const pooling = o.pooling ?? 'pooled';
    if (pooling !== 'pooled' && pooling !== 'tokens') {
      throw new WfError('E_ARGUMENT', `pooling must be 'pooled' or 'tokens', got ${String(pooling)}`);
    }
    const { list, single } = asList(images);
    const parts: TensorData[] = [];
    await runAll(list, o, pooling === 'tokens', (out) => {
      parts.push(pooling === 'tokens' ? out.tokens : out.features);
    });
    const all = parts.length === 1 ? parts[0] : stackBatch(parts);
    return single ? { ...all, shape: all.shape.slice(1) } : all;
  };
  return Object.assign(extract, base) as FeatureExtractor;
}
