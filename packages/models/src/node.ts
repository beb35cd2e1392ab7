// Node-only entry of @wf/models: built-in demo checkpoints on disk, image files and the MNIST digits.
import { fileURLToPath } from 'node:url';
import type { LoadOptions } from './load.js';
import { loadModel } from './load.js';
import type { WfModel } from './model.js';

/** Names of the checkpoints shipped in this package. */
export const BUILTIN_MODELS = ['wfm-mnist', 'vit-mnist'] as const;
/** A shipped checkpoint's name. */
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];

/** Path of a shipped checkpoint. */
export function builtinModelPath(name: BuiltinModel): string {
  return fileURLToPath(new URL(`../weights/${name}.safetensors`, import.meta.url));
}

/** Loads a shipped checkpoint (`wfm-mnist`, `vit-mnist`). */
export function loadBuiltinModel(name: BuiltinModel, opts: LoadOptions = {}): Promise<WfModel> {
  return loadModel(builtinModelPath(name), opts);
}
export * from './data/mnist-eval-node.js';
export * from './data/mnist-node.js';
export * from './image/decode-node.js';
export * from './train/checkpoint-node.js';
export * from './train/data-node.js';
