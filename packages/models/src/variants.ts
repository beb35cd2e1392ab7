// Named model variants (the published sizes) and seeded random initialization, for building a model
// without a checkpoint (benchmarks, tests) or for naming the configuration of one that has none.
import { seededRandom, type TensorData } from '@wf/core';
import {
  type DitConfig,
  expectedWeights,
  type ModelConfig,
  ModelError,
  referenceDynamicBlocks,
  type VitConfig,
  type WfmConfig,
} from './config.js';
import { WfModel } from './model.js';

const wfm = (embedDim: number, imgSize: number): WfmConfig => ({
  arch: 'wfm',
  imgSize,
  patchSize: 16,
  inChans: 3,
  numClasses: 1000,
  embedDim,
  depth: 17,
  mlpRatio: 4,
  dynamicBlocks: referenceDynamicBlocks(17),
});

const deit = (embedDim: number, numHeads: number): VitConfig => ({
  arch: 'vit',
  imgSize: 224,
  patchSize: 16,
  inChans: 3,
  numClasses: 1000,
  embedDim,
  depth: 12,
  numHeads,
  mlpRatio: 4,
});

const dit = (hiddenSize: number, patchSize: number): DitConfig => ({
  arch: 'wfm-dit',
  inputSize: 32,
  patchSize,
  inChannels: 4,
  hiddenSize,
  depth: 15,
  numClasses: 1000,
  learnSigma: true,
  mlpRatio: 4,
  dynamicBlocks: referenceDynamicBlocks(15),
});

/** The published configurations by name (SPEC sections 2, 6 and 7). */
export const MODEL_VARIANTS = {
  /** WeightFormer-T: D=192, depth 17, 224 px (7.07M parameters). */
  'wfm-tiny': wfm(192, 224),
  /** WeightFormer-S: D=384, depth 17, 224 px. */
  'wfm-small': wfm(384, 224),
  /** WeightFormer-B: WeightFormer-S's architecture at 448 px. */
  'wfm-base': wfm(384, 448),
  /** DeiT-T softmax-attention baseline: D=192, depth 12, 3 heads, 224 px. */
  'deit-tiny': deit(192, 3),
  /** DeiT-S softmax-attention baseline: D=384, depth 12, 6 heads, 224 px. */
  'deit-small': deit(384, 6),
  /** WeightFormer-DiT-S/2: D=384, patch 2, 32x32x4 latents. */
  'wfm-dit-s-2': dit(384, 2),
  /** WeightFormer-DiT-S/4: D=384, patch 4, 32x32x4 latents. */
  'wfm-dit-s-4': dit(384, 4),
  /** WeightFormer-DiT-S/8: D=384, patch 8, 32x32x4 latents. */
  'wfm-dit-s-8': dit(384, 8),
  /** WeightFormer-DiT-B/2: D=768, patch 2, 32x32x4 latents. */
  'wfm-dit-b-2': dit(768, 2),
  /** WeightFormer-DiT-B/4: D=768, patch 4, 32x32x4 latents. */
  'wfm-dit-b-4': dit(768, 4),
  /** WeightFormer-DiT-B/8: D=768, patch 8, 32x32x4 latents. */
  'wfm-dit-b-8': dit(768, 8),
} as const satisfies Record<string, ModelConfig>;

/** A variant name. */
export type ModelVariant = keyof typeof MODEL_VARIANTS;

/** The configuration of a named variant; throws listing the known names. */
export function variantConfig(name: string): ModelConfig {
  const cfg = (MODEL_VARIANTS as Record<string, ModelConfig>)[name];
  if (!cfg)
    throw new ModelError(
      `unknown model variant "${name}" (known: ${Object.keys(MODEL_VARIANTS).join(', ')})`,
    );
  return cfg;
}

/**
 * How {@link randomModel} draws weights. `default`: PyTorch's default layer init (weights uniform with the
 * fan-in scale, std about 1/sqrt(3·fan_in)), as the reference WeightFormer trains from. `timm`: timm's
 * ViT init (Linear weights and `pos_embed` normal with std 0.02, `cls_token` / `dist_token` std 1e-6,
 * convolutions as `default`), as the reference softmax-attention ViT trains from. Both: biases 0, norms 1.
 */
export type InitScheme = 'default' | 'timm';

/**
 * A model with seeded random weights (see {@link InitScheme}; `default` unless `opts.init` says). Good for
 * timing and plumbing, and the starting point of training from scratch; not for predictions.
 */
export function randomModel(
  config: ModelConfig | ModelVariant,
  opts: { seed?: number; init?: InitScheme } = {},
): WfModel {
  const cfg = typeof config === 'string' ? variantConfig(config) : config;
  const rand = seededRandom(opts.seed ?? 0);
  const normal = (): number => {
    // Box-Muller on the seeded uniform stream
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const timm = opts.init === 'timm';
  const weights = new Map<string, TensorData>();
  for (const [name, shape] of expectedWeights(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = /norm\d?\.weight$|init_norm\.weight$/.test(name);
    const isBias = /(\.bias|\.b)$/.test(name);
    const isToken = /(^|\.)(cls_token|dist_token)$/.test(name);
    const isPos = /(^|\.)pos_embed$/.test(name);
    if (isNorm) data.fill(1);
    else if (timm && (isToken || isPos || shape.length === 2)) {
      const std = isToken ? 1e-6 : 0.02;
      for (let i = 0; i < n; i++) data[i] = Math.max(-2, Math.min(2, normal() * std));
    } else if (!isBias) {
      const fanIn = shape.length > 1 ? n / shape[0] : shape[0];
      const bound = 1 / Math.sqrt(Math.max(1, fanIn));
      for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * bound;
    }
    weights.set(name, { dtype: 'float32', shape, data });
  }
  return new WfModel(cfg, weights, {
    variant: typeof config === 'string' ? config : 'custom',
    weights: 'random',
  });
}
