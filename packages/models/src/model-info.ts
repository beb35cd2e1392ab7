// What a checkpoint says about its input: the input size, the preprocessing (normalization, crop) and the
// class labels, read from its config.json (HF / timm style: `label_names`, `id2label`, `pretrained_cfg`)
// and its safetensors metadata, with the reference defaults (ImageNet statistics, crop 224/256, ImageNet
// class names for 1000 classes, MNIST digits for the MNIST models) where they say nothing.
import type { ConfigSource, ModelConfig } from './config.js';
import { IMAGENET_CLASSES } from './data/imagenet-classes.js';
import { IMAGENET_MEAN, IMAGENET_STD, MNIST_MEAN, MNIST_STD } from './image/preprocess.js';

/** A model's input size in pixels (classifiers) or latent cells (wfm-dit). */
export interface ModelInputSize {
  /** Input channels (3 for RGB, 1 for the MNIST models). */
  readonly channels: number;
  /** Height. */
  readonly height: number;
  /** Width. */
  readonly width: number;
}

/** How images are turned into a classifier's input. */
export interface ModelPreprocessing {
  /**
   * `imagenet`: bicubic resize of the whole image to `size / cropPct`, centre crop to `size`, scale to
   * [0, 1], `(v - mean) / std` per channel (the reference evaluation transform). `mnist`: luminance, resize
   * to 28x28, invert a light background, pad to 32x32, `(v - 0.1307) / 0.3081` (the built-in MNIST models).
   */
  readonly kind: 'imagenet' | 'mnist';
  /** Per-channel mean. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation. */
  readonly std: readonly number[];
  /** Fraction of the resized image kept by the centre crop (timm `crop_pct`; default 224/256). */
  readonly cropPct: number;
}

/** The reference crop: resize to 256, centre crop 224. */
export const DEFAULT_CROP_PCT = 224 / 256;

type Json = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON object from an object or a JSON text (safetensors metadata stores text); undefined otherwise. */
function objectOf(v: unknown): Json | undefined {
  if (isObject(v)) return v;
  if (typeof v === 'string' && v.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(v);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function numbers(v: unknown, n: number): number[] | undefined {
  if (typeof v === 'string') {
    try {
      return numbers(JSON.parse(v), n);
    } catch {
      return undefined;
    }
  }
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x))
    ? (v as number[])
    : undefined;
}

/** The places that can describe the input, highest priority first: config.json, then metadata. */
function sources(configJson: ConfigSource | undefined, metadata: Readonly<Record<string, string>>): Json[] {
  const out: Json[] = [];
  const add = (o: Json | undefined) => {
    if (!o) return;
    const pre = objectOf(o.pretrained_cfg) ?? objectOf(o.pretrainedCfg);
    if (pre) out.push(pre);
    out.push(o);
  };
  add(configJson);
  add(objectOf(metadata.config));
  add(metadata);
  return out;
}

function first<T>(list: readonly Json[], read: (o: Json) => T | undefined): T | undefined {
  for (const o of list) {
    const v = read(o);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** True for the built-in MNIST models and checkpoints like them (1 channel, 32x32, 10 classes). */
function isMnistLike(config: ModelConfig, metadata: Readonly<Record<string, string>>): boolean {
  if (config.arch === 'wfm-dit') return false;
  if (/mnist/i.test(metadata.train ?? '')) return true;
  return config.inChans === 1 && config.imgSize === 32 && config.numClasses === 10;
}

/** The input size (see {@link WfModel.inputSize}). */
export function inputSizeOf(
  config: ModelConfig,
  configJson: ConfigSource | undefined,
  metadata: Readonly<Record<string, string>>,
): ModelInputSize {
  if (config.arch === 'wfm-dit') {
    return { channels: config.inChannels, height: config.inputSize, width: config.inputSize };
  }
  // timm's pretrained_cfg.input_size is [C, H, W]; used when the model can run at it.
  const size = first(sources(configJson, metadata), (o) => {
    const v = numbers(o.input_size, 3) ?? numbers(o.test_input_size, 3);
    return v && v[0] === config.inChans && v.slice(1).every((d) => d > 0 && d % config.patchSize === 0)
      ? v
      : undefined;
  });
  if (size) return { channels: size[0], height: size[1], width: size[2] };
  return { channels: config.inChans, height: config.imgSize, width: config.imgSize };
}

/** The preprocessing (see {@link WfModel.preprocessing}). */
export function preprocessingOf(
  config: ModelConfig,
  configJson: ConfigSource | undefined,
  metadata: Readonly<Record<string, string>>,
): ModelPreprocessing {
  if (isMnistLike(config, metadata)) {
    return { kind: 'mnist', mean: [MNIST_MEAN], std: [MNIST_STD], cropPct: 1 };
  }
  const list = sources(configJson, metadata);
  const c = config.arch === 'wfm-dit' ? config.inChannels : config.inChans;
  const mean = first(list, (o) => numbers(o.mean, c) ?? numbers(o.image_mean, c));
  const std = first(list, (o) => {
    const v = numbers(o.std, c) ?? numbers(o.image_std, c);
    return v?.every((x) => x > 0) ? v : undefined;
  });
  const cropPct = first(list, (o) => {
    const v = typeof o.crop_pct === 'string' ? Number(o.crop_pct) : o.crop_pct;
    return typeof v === 'number' && v > 0 && v <= 1 ? v : undefined;
  });
  return {
    kind: 'imagenet',
    mean: mean ?? (c === 3 ? IMAGENET_MEAN : new Array<number>(c).fill(0.5)),
    std: std ?? (c === 3 ? IMAGENET_STD : new Array<number>(c).fill(0.5)),
    cropPct: cropPct ?? DEFAULT_CROP_PCT,
  };
}

/** The class labels (see {@link WfModel.labels}). */
export function labelsOf(
  config: ModelConfig,
  configJson: ConfigSource | undefined,
  metadata: Readonly<Record<string, string>>,
): readonly string[] | undefined {
  const n = config.numClasses;
  const named = first(sources(configJson, metadata), (o) => {
    const raw = typeof o.label_names === 'string' ? safeParse(o.label_names) : o.label_names;
    if (Array.isArray(raw) && raw.length === n && raw.every((x) => typeof x === 'string'))
      return raw as string[];
    const id2label = objectOf(o.id2label);
    if (id2label && Object.keys(id2label).length === n) {
      const out = Array.from({ length: n }, (_, i) => id2label[String(i)]);
      if (out.every((x) => typeof x === 'string')) return out as string[];
    }
    return undefined;
  });
  if (named) return named;
  if (config.arch !== 'wfm-dit' && isMnistLike(config, metadata)) {
    return Array.from({ length: 10 }, (_, i) => String(i));
  }
  return n === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : undefined;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
