// Writing a model back to safetensors with the metadata `loadModel` needs to rebuild the same network
// (`arch` and the full `config`, WeightFormer strategies included).
import { serializeSafetensors } from '@wf/core';
import { configMetadata } from './config.js';
import type { WfModel } from './model.js';

/**
 * The model's weights as safetensors bytes, with the checkpoint's metadata plus `arch` and `config` (see
 * `configMetadata`) and any `extra` entries, so `loadModel(bytes)` rebuilds exactly this configuration.
 */
export function serializeModel(model: WfModel, extra: Record<string, string> = {}): Uint8Array {
  const weights = Object.fromEntries(model.weights);
  return serializeSafetensors(weights, { ...model.metadata, ...configMetadata(model.config), ...extra });
}
