// Public API of @wf/models: configurations, loading, the model object and the architectures' forward
// passes, built only from @wf/core ops (the caller picks the backend).
export * from './config.js';
export { WfModel, type CompiledModel, type ForwardOptions, type NonFiniteInputPolicy } from './model.js';
export { loadModel, modelFromSafetensors, fetchBytes, parseConfigJson, type LoadOptions, type LoadProgress, type ModelSource } from './load.js';
export { wfmForward } from './arch/wfm.js';
export { vitForward } from './arch/vit.js';
export { ditForward, ditForwardWithCfg, timestepFrequencies } from './arch/dit.js';
export { resizePosEmbed } from './pos-embed.js';
