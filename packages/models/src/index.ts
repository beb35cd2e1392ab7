// Public API of @wf/models: configurations, loading, the model object and the architectures' forward
// passes, built only from @wf/core ops (the caller picks the backend).

/** Seeded uniform random numbers in [0, 1) (mulberry32), as used by `randomModel` and the block workloads. */
export { seededRandom } from '@wf/core';
export type { Grid } from './arch/common.js';
export { ditForward, ditForwardWithCfg, timestepFrequencies } from './arch/dit.js';
export { vitForward } from './arch/vit.js';
export { wfmForward } from './arch/wfm.js';
export { attentionBlockGraph, type BlockOptions, weightFormerBlockGraph } from './blocks.js';
export * from './config.js';
export * from './data/imagenet-classes.js';
export {
  type ErfImages,
  type ErfOptions,
  type ErfProgress,
  type ErfResult,
  erf,
  erfCenterToken,
  erfGraph,
  erfMassArea,
  erfNormalize,
} from './erf.js';
export {
  cacheDir,
  DEFAULT_TIMEOUT_MS,
  FetchError,
  type FetchOptions,
  fetchBytes,
  type LoadProgress,
} from './fetch.js';
export { type ImageInput, type ReadImageOptions, readImage } from './image/image-input.js';
export * from './image/preprocess.js';
export {
  type LoadOptions,
  loadModel,
  type ModelSource,
  modelFromSafetensors,
  parseConfigJson,
} from './load.js';
export {
  type CompiledModel,
  DEFAULT_MAX_BACKENDS,
  DEFAULT_MAX_COMPILED,
  type ForwardOptions,
  type GradOptions,
  type GradResult,
  type NonFiniteInputPolicy,
  WfModel,
} from './model.js';
export type { ModelInputSize, ModelPreprocessing } from './model-info.js';
export {
  BUILTIN_MODELS,
  type BuiltinModel,
  builtinModelUrl,
  type ClassifyOptions,
  type ExtractOptions,
  type FeatureExtractor,
  featureExtractor,
  type ImageClassifier,
  imageClassifier,
  modelChoices,
  type PipelineBase,
  type PipelineCallOptions,
  type PipelineOptions,
  resolveModelSource,
} from './pipeline.js';
export { resizePosEmbed } from './pos-embed.js';
export { serializeModel } from './save.js';
export * from './train/index.js';
export {
  type InitScheme,
  MODEL_VARIANTS,
  type ModelVariant,
  randomModel,
  variantConfig,
} from './variants.js';
