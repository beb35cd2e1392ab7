// Node-only entry of @wf/models: built-in demo checkpoints on disk, image files and the MNIST digits.
import { fileURLToPath } from 'node:url';
import { decodeImageAsync, loadImageFile } from './image/decode-node.js';
import { registerNodeDecoders } from './image/image-input.js';
import type { LoadOptions } from './load.js';
import { loadModel } from './load.js';
import type { WfModel } from './model.js';
import { BUILTIN_MODELS, type BuiltinModel } from './pipeline.js';

export { BUILTIN_MODELS, type BuiltinModel };

// The pipeline's image reader decodes files and bytes with these in Node.
registerNodeDecoders({ decodeImage: decodeImageAsync, loadImageFile });

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
