// `wf classify`: top-k classes of image files (PNG, JPEG, WebP, GIF, BMP), folders of them, URLs, or MNIST
// test digits (`mnist:<index>`), with a built-in MNIST model or any classifier checkpoint, in batches. The
// input size, normalization and labels come from the checkpoint (see imageClassifier); --res overrides the
// resolution. An image that fails is reported on its own line and the others are still classified.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type TensorData, WfError } from '@wf/core';
import {
  type ImageClassifier,
  imageClassifier,
  modelChoices,
  type Prediction,
  preprocessMnistDigit,
  stackBatch,
  topK,
} from '@wf/models';
import { loadMnistDigits, mnistTestSplit } from '@wf/models/node';
import { Command } from 'commander';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../command-table.js';
import { type CommandContext, downloadProgress } from '../context.js';
import { describeError, errorJson, UsageError } from '../errors.js';
import { warnInapplicable } from '../model-source.js';
import {
  backendOption,
  headsOption,
  int,
  jsonOption,
  maxPixelsOption,
  modelOption,
  noProgressOption,
  type Resolution,
  resOption,
  threadsOption,
  variantOption,
} from '../options.js';

/** Options of `wf classify`. */
export interface ClassifyOptions {
  /** `--model`; default wfm-mnist when every source is an MNIST digit, required otherwise. */
  model?: string;
  variant?: string;
  top: number;
  /** Images per forward pass (default 8). */
  batch?: number;
  res?: Resolution;
  backend: string;
  /** `--threads` of the cpu backend. */
  threads?: number;
  heads?: number;
  /** `--max-pixels`: largest image accepted (default the decoder's, 100 megapixels). */
  maxPixels?: number;
  json?: boolean;
  /** False with --no-progress. */
  progress?: boolean;
}

/** What `wf classify` found for one source. */
export interface ClassifyResult {
  source: string;
  model: string;
  label?: number;
  predictions: Prediction[];
}

/** File name endings of the images a folder is searched for. */
const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp)$/i;

/** The sources: folders replaced by their image files (sorted), the rest as given. */
async function expandSources(sources: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of sources) {
    if (s.startsWith('mnist:') || /^[a-z]+:\/\//i.test(s)) {
      out.push(s);
      continue;
    }
    const st = await stat(s).catch(() => undefined);
    if (!st?.isDirectory()) {
      out.push(s);
      continue;
    }
    const files = (await readdir(s)).filter((f) => IMAGE_FILE.test(f)).sort();
    if (files.length === 0) throw new UsageError(`folder "${s}" holds no PNG, JPEG, WebP, GIF or BMP file`);
    out.push(...files.map((f) => join(s, f)));
  }
  return out;
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

/** One source made into an input, or the reason it could not be. */
interface Prepared {
  source: string;
  input?: TensorData;
  label?: number;
  error?: unknown;
}

async function prepare(source: string, clf: ImageClassifier, name: string): Promise<Prepared> {
  try {
    if (source.startsWith('mnist:')) {
      const split = mnistTestSplit();
      const i = mnistIndex(source, split.indices.length);
      if (clf.model.preprocessing.kind !== 'mnist') {
        throw new WfError(
          'E_INPUT',
          `${name} is not an MNIST model; mnist:<index> needs wfm-mnist or vit-mnist`,
        );
      }
      return {
        source,
        input: preprocessMnistDigit(loadMnistDigits().images[split.indices[i]]),
        label: split.labels[i],
      };
    }
    return { source, input: await clf.preprocess(source) };
  } catch (e) {
    // The decoder names its option (maxPixels); name the command line's instead.
    if (e instanceof WfError && e.message.endsWith('; pass maxPixels to raise it')) {
      const msg = e.message.replace(/pass maxPixels to raise it$/, 'pass --max-pixels to raise it');
      return { source, error: new WfError(e.code, msg, { cause: e }) };
    }
    return { source, error: e };
  }
}

/** Executes `wf classify`; returns one result per source that could be classified. */
export async function classifyCommand(
  sourcesGiven: readonly string[],
  opts: ClassifyOptions,
  ctx: CommandContext,
): Promise<ClassifyResult[]> {
  if (!Number.isInteger(opts.top) || opts.top < 1)
    throw new UsageError(`--top must be a positive integer, got ${opts.top}`);
  const sources = await expandSources(sourcesGiven);
  const allDigits = sources.every((s) => s.startsWith('mnist:'));
  if (!opts.model && !allDigits) {
    throw new UsageError(
      `classifying an image needs --model: ${modelChoices()}; wfm-mnist and vit-mnist read pictures of single digits`,
    );
  }
  const name = opts.model ?? 'wfm-mnist';
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  const bar = downloadProgress(ctx, `downloading ${name}`, opts.progress !== false);
  let clf: ImageClassifier;
  try {
    clf = await imageClassifier(name, {
      backend,
      heads: opts.heads,
      variant: opts.variant,
      inputSize: opts.res,
      maxPixels: opts.maxPixels,
      onProgress: bar.onProgress,
    });
  } catch (e) {
    backend.dispose();
    throw e;
  } finally {
    bar.done();
  }
  try {
    warnInapplicable(ctx, clf.model, { heads: opts.heads });
    const classes = clf.model.config.numClasses;
    if (opts.top > classes)
      ctx.warn(`--top ${opts.top} is more than the model's ${classes} classes; showing ${classes}`);
    const k = Math.min(opts.top, classes);
    const batch = opts.batch ?? 8;
    const results: ClassifyResult[] = [];
    const failures: unknown[] = [];
    for (let at = 0; at < sources.length; at += batch) {
      const prepared: Prepared[] = [];
      for (const s of sources.slice(at, at + batch)) prepared.push(await prepare(s, clf, name));
      const ok = prepared.filter((p) => p.input);
      for (const p of prepared.filter((q) => !q.input)) {
        // One source alone: its error is the command's error (one line, exit 1).
        if (sources.length === 1) throw p.error;
        failures.push(p.error);
        if (opts.json) ctx.out(JSON.stringify({ source: p.source, ...errorJson(p.error) }));
        else ctx.err(describeError(p.error, false).replace(/^wf: /, `wf: ${p.source}: `));
      }
      if (ok.length === 0) continue;
      const x = ok.length === 1 ? ok[0].input! : stackBatch(ok.map((p) => p.input!));
      const out = await clf.model.run(backend, x);
      ok.forEach((p, i) => {
        const predictions = topK(out.logits.data.subarray(i * classes, (i + 1) * classes), k, clf.labels);
        const result: ClassifyResult = { source: p.source, model: name, label: p.label, predictions };
        results.push(result);
        if (opts.json) ctx.out(JSON.stringify(result));
        else {
          ctx.out(
            `${p.source}${p.label === undefined ? '' : ` (label ${p.label})`} with ${name} on ${backend.name}:`,
          );
          for (const q of predictions)
            ctx.out(`  ${q.label.padEnd(24)} ${(100 * q.probability).toFixed(2).padStart(6)}%`);
        }
      });
    }
    if (failures.length) {
      throw new WfError(
        'E_INPUT',
        `${failures.length} of ${sources.length} images could not be classified (see above)`,
      );
    }
    return results;
  } finally {
    await clf.dispose();
    backend.dispose();
  }
}

/** The `wf classify` command. */
export const classifyCli: CliCommand = {
  name: 'classify',
  build: (ctx) =>
    new Command('classify')
      .description('top-k classes of images (files, folders, URLs) or MNIST test digits (mnist:<index>)')
      .argument('<images...>', 'PNG/JPEG/WebP/GIF/BMP files, folders of them, URLs, or mnist:<test index>')
      .addOption(
        modelOption(
          'a built-in model (wfm-mnist, vit-mnist), a classifier .safetensors path or a URL; required for images (default wfm-mnist for mnist:<index>)',
        ),
      )
      .addOption(variantOption())
      .option('--top <k>', 'how many classes to show', int('--top'), 5)
      .addOption(resOption("input resolution N or WxH (default: the checkpoint's)"))
      .option('--batch <n>', 'images per forward pass', int('--batch'), 8)
      .addOption(headsOption())
      .addOption(backendOption())
      .addOption(threadsOption())
      .addOption(maxPixelsOption())
      .addOption(noProgressOption())
      .addOption(jsonOption())
      .action(async (images: string[], o: ClassifyOptions) => {
        await classifyCommand(images, o, ctx);
      }),
};
