// `wf classify`: top-k classes of an image file (PNG/JPEG) or of an MNIST test digit (`mnist:<index>`),
// with the built-in MNIST models or any classifier checkpoint (ImageNet class names for 1000 classes).
import { type AnyBackend, type TensorData, WfError } from '@wf/core';
import {
  IMAGENET_CLASSES,
  loadModel,
  type Prediction,
  preprocessImageNet,
  preprocessMnistDigit,
  preprocessMnistImage,
  topK,
  type WfModel,
} from '@wf/models';
import {
  BUILTIN_MODELS,
  type BuiltinModel,
  loadBuiltinModel,
  loadImageFile,
  loadMnistDigits,
  mnistTestSplit,
} from '@wf/models/node';
import { createBackend } from '../backends.js';
import { UsageError } from '../errors.js';

/** Options of `wf classify`. */
export interface ClassifyOptions {
  model: string;
  top: number;
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  heads?: number;
  /** `--max-pixels`: largest image accepted (default the decoder's, 100 megapixels). */
  maxPixels?: number;
  json?: boolean;
}

/** What `wf classify` found. */
export interface ClassifyResult {
  source: string;
  model: string;
  label?: number;
  predictions: Prediction[];
}

async function openModel(name: string, heads?: number): Promise<{ model: WfModel; mnist: boolean }> {
  if ((BUILTIN_MODELS as readonly string[]).includes(name)) {
    return { model: await loadBuiltinModel(name as BuiltinModel), mnist: true };
  }
  return { model: await loadModel(name, { heads }), mnist: false };
}

/** Parses `mnist:<i>`, checking the index. */
function mnistIndex(source: string, count: number): number {
  const s = source.slice('mnist:'.length);
  const i = Number(s);
  if (!/^\d+$/.test(s) || i >= count) {
    throw new UsageError(`"${source}": the MNIST test split has indices 0..${count - 1}`);
  }
  return i;
}

/** Executes `wf classify`. */
export async function classifyCommand(
  source: string,
  opts: ClassifyOptions,
  print: (line: string) => void,
): Promise<ClassifyResult> {
  if (!Number.isInteger(opts.top) || opts.top < 1)
    throw new UsageError(`--top must be a positive integer, got ${opts.top}`);
  const { model, mnist } = await openModel(opts.model, opts.heads);
  if (model.config.arch === 'wfm-dit')
    throw new UsageError('classify needs a classifier (wfm or vit), not a wfm-dit checkpoint');
  let input: TensorData;
  let label: number | undefined;
  if (source.startsWith('mnist:')) {
    const split = mnistTestSplit();
    const i = mnistIndex(source, split.indices.length);
    if (model.config.inChans !== 1)
      throw new WfError(
        'E_INPUT',
        `${opts.model} takes ${model.config.inChans}-channel images, not MNIST digits`,
      );
    input = preprocessMnistDigit(loadMnistDigits().images[split.indices[i]]);
    label = split.labels[i];
  } else {
    const img = await loadImageFile(source, { maxPixels: opts.maxPixels }).catch((e: unknown) => {
      // The decoder names its option (maxPixels); name the command line's instead.
      if (e instanceof WfError && e.message.endsWith('; pass maxPixels to raise it')) {
        throw new WfError(
          e.code,
          e.message.replace(/pass maxPixels to raise it$/, 'pass --max-pixels to raise it'),
          {
            cause: e,
          },
        );
      }
      throw e;
    });
    input = mnist ? preprocessMnistImage(img) : preprocessImageNet(img, model.config.imgSize);
    if (!mnist && model.config.inChans !== 3) {
      throw new WfError(
        'E_INPUT',
        `${opts.model} takes ${model.config.inChans}-channel input; image files are RGB`,
      );
    }
  }
  const backend: AnyBackend = await createBackend(opts.backend, { threads: opts.threads });
  const out = await model.run(backend, input);
  const labels = model.config.numClasses === 1000 ? IMAGENET_CLASSES : undefined;
  const predictions = topK(out.logits.data, Math.min(opts.top, model.config.numClasses), labels);
  const result: ClassifyResult = { source, model: opts.model, label, predictions };
  if (opts.json) print(JSON.stringify(result));
  else {
    print(
      `${source}${label === undefined ? '' : ` (label ${label})`} with ${opts.model} on ${backend.name}:`,
    );
    for (const p of predictions)
      print(`  ${p.label.padEnd(24)} ${(100 * p.probability).toFixed(2).padStart(6)}%`);
  }
  await model.dispose();
  backend.dispose();
  return result;
}
