// `wf erf`: the effective receptive field of a checkpoint (or a named model) over images, as the
// reference's erf.py measures it, written as safetensors (`erf`, `erf_norm`) and optionally as a PNG
// heatmap with a colour bar. Images: MNIST test digits (`mnist[:N]`), a folder of PNG/JPEG files, or a
// safetensors file whose `inputs [N, C, H, W]` are used as they are. Also home of the image sources and
// model names shared with `wf erf-figure`, and of the two commands' registration.
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { loadSafetensors, type TensorData, WfError, writeSafetensorsFile } from '@wf/core';
import {
  type ErfImages,
  erf,
  erfMassArea,
  IMAGENET_MEAN,
  IMAGENET_STD,
  imageToTensor,
  loadModel,
  MNIST_MEAN,
  MNIST_STD,
  MODEL_VARIANTS,
  preprocessImageNet,
  preprocessMnistImage,
  type RgbaImage,
  randomModel,
  stackBatch,
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
import { SingleBar } from 'cli-progress';
import { createBackend } from '../backends.js';
import { renderHeatmap } from '../erf-render.js';
import { UsageError } from '../errors.js';

/** Options of `wf erf`. */
export interface ErfCommandOptions {
  weights?: string;
  model?: string;
  images: string;
  res?: number;
  batch?: number;
  seed?: number;
  heads?: number;
  backend: string;
  threads?: number;
  output: string;
  png?: string;
  json?: boolean;
  progress?: boolean;
}

/** Result of `wf erf` (printed with --json). */
export interface ErfCommandResult {
  output: string;
  png?: string;
  model: string;
  backend: string;
  images: number;
  size: [number, number];
  /** Share of the image area holding 50%, 90% and 99% of the ERF mass. */
  area: { p50: number; p90: number; p99: number };
  seconds: number;
}

/**
 * A model by name: a built-in checkpoint (`wfm-mnist`, `vit-mnist`), a published variant at seeded random
 * init (`wfm-tiny`, `deit-tiny`, ...), or a checkpoint file.
 */
export async function openNamedModel(
  name: string,
  opts: { seed?: number; heads?: number } = {},
): Promise<WfModel> {
  if ((BUILTIN_MODELS as readonly string[]).includes(name)) return loadBuiltinModel(name as BuiltinModel);
  if (name in MODEL_VARIANTS) return randomModel(name as keyof typeof MODEL_VARIANTS, { seed: opts.seed });
  if (/\.safetensors$/i.test(name)) return loadModel(name, { heads: opts.heads });
  throw new UsageError(
    `unknown model "${name}": use ${[...BUILTIN_MODELS, ...Object.keys(MODEL_VARIANTS)].join(', ')}, or a .safetensors file (or --weights)`,
  );
}

/** A grayscale 32x32 RGBA image of an MNIST digit (28x28 zero-padded by 2, white on black). */
function digitImage(pixels: Float32Array): RgbaImage {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let i = 0; i < 32 * 32; i++) data[i * 4 + 3] = 255;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const v = Math.round(pixels[y * 28 + x] * 255);
      const i = ((y + 2) * 32 + x + 2) * 4;
      data[i] = data[i + 1] = data[i + 2] = v;
    }
  return { width: 32, height: 32, data };
}

/**
 * One MNIST digit as model input at side `res` (default the model's size): 1-channel models get the MNIST
 * transform (32x32 padded digit, MNIST mean/std), resized bicubically when `res` is not 32; 3-channel
 * models get the padded digit as a gray RGB image resized to `res` with the ImageNet mean/std.
 */
export function mnistInput(pixels: Float32Array, model: WfModel, res?: number): TensorData {
  const c = model.config;
  if (c.arch === 'wfm-dit') throw new UsageError('erf needs a classifier (wfm or vit), not wfm-dit');
  const side = res ?? c.imgSize;
  const img = digitImage(pixels);
  if (c.inChans === 1)
    return imageToTensor(img, { size: side, channels: 1, mean: [MNIST_MEAN], std: [MNIST_STD] });
  if (c.inChans === 3)
    return imageToTensor(img, { size: side, channels: 3, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] });
  throw new UsageError(`the model takes ${c.inChans}-channel images; MNIST digits give 1 or 3`);
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/**
 * Images for `wf erf` / `wf erf-figure`: `mnist[:N]` (the first N MNIST test digits, all 2,004 by
 * default), a folder of PNG/JPEG files (ImageNet transform at `res`, or the MNIST one for 1-channel
 * models), or a `.safetensors` file with `inputs [N, C, H, W]` used as is. Batches are made lazily.
 */
export function openImages(
  src: string,
  model: WfModel,
  opts: { res?: number; batch?: number } = {},
): { images: ErfImages; total: number } {
  const batch = opts.batch ?? 8;
  const c = model.config;
  if (c.arch === 'wfm-dit') throw new UsageError('erf needs a classifier (wfm or vit), not wfm-dit');
  const m = /^mnist(?::(.*))?$/.exec(src);
  if (m) {
    const split = mnistTestSplit();
    let n = split.indices.length;
    if (m[1] !== undefined) {
      if (!/^\d+$/.test(m[1]) || Number(m[1]) < 1 || Number(m[1]) > n)
        throw new UsageError(`--images ${src}: N must be an integer from 1 to ${n} (the MNIST test digits)`);
      n = Number(m[1]);
    }
    const digits = loadMnistDigits().images;
    const idx = split.indices.slice(0, n);
    async function* gen() {
      for (let i = 0; i < idx.length; i += batch)
        yield stackBatch(idx.slice(i, i + batch).map((k) => mnistInput(digits[k], model, opts.res)));
    }
    return { images: gen(), total: n };
  }
  if (/\.safetensors$/i.test(src)) {
    return {
      total: -1,
      images: (async function* () {
        const f = await loadSafetensors(src);
        if (!f.names().includes('inputs'))
          throw new WfError(
            'E_INPUT',
            `${src} has no tensor "inputs" [N, C, H, W] (found: ${f.names().join(', ') || 'none'})`,
          );
        const t = f.tensor('inputs');
        if (t.dtype !== 'float32' || t.shape.length !== 4)
          throw new WfError(
            'E_INPUT',
            `"inputs" of ${src} must be float32 [N, C, H, W], got ${t.dtype}[${t.shape.join(', ')}]`,
          );
        if (opts.res !== undefined && (t.shape[2] !== opts.res || t.shape[3] !== opts.res))
          throw new UsageError(
            `--res ${opts.res} does not apply to ${src}: its inputs are ${t.shape[2]}x${t.shape[3]}, used as they are`,
          );
        const per = t.shape[1] * t.shape[2] * t.shape[3];
        for (let i = 0; i < t.shape[0]; i += batch) {
          const b = Math.min(batch, t.shape[0] - i);
          yield {
            dtype: 'float32',
            shape: [b, t.shape[1], t.shape[2], t.shape[3]],
            data: (t.data as Float32Array).slice(i * per, (i + b) * per),
          } as TensorData;
        }
      })(),
    };
  }
  let files: string[];
  try {
    if (!statSync(src).isDirectory()) throw new Error('not a folder');
    files = readdirSync(src)
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(src, f));
  } catch {
    throw new UsageError(
      `--images ${src}: not mnist[:N], a folder of PNG/JPEG files, or a .safetensors file`,
    );
  }
  if (!files.length) throw new UsageError(`--images ${src}: the folder has no .png/.jpg/.jpeg files`);
  const side = opts.res ?? c.imgSize;
  const prep = (img: RgbaImage): TensorData =>
    c.inChans === 1
      ? opts.res && opts.res !== 32
        ? imageToTensor(img, { size: side, channels: 1, mean: [MNIST_MEAN], std: [MNIST_STD] })
        : preprocessMnistImage(img)
      : preprocessImageNet(img, side);
  async function* gen() {
    for (let i = 0; i < files.length; i += batch) {
      const ts: TensorData[] = [];
      for (const f of files.slice(i, i + batch)) ts.push(prep(await loadImageFile(f)));
      yield stackBatch(ts);
    }
  }
  return { images: gen(), total: files.length };
}

/** Executes `wf erf`. */
export async function erfCommand(
  opts: ErfCommandOptions,
  print: (line: string) => void,
): Promise<ErfCommandResult> {
  if (!!opts.weights === !!opts.model)
    throw new UsageError('give exactly one of --weights <file> and --model <name>');
  const model = opts.weights
    ? await loadModel(opts.weights, { heads: opts.heads })
    : await openNamedModel(opts.model!, { seed: opts.seed, heads: opts.heads });
  if (model.config.arch === 'wfm-dit')
    throw new UsageError('erf needs a classifier (wfm or vit), not a wfm-dit checkpoint');
  const { images, total } = openImages(opts.images, model, { res: opts.res, batch: opts.batch });
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  const bar =
    opts.progress !== false && !opts.json && process.stderr.isTTY
      ? new SingleBar({ format: 'erf [{bar}] {value}/{total} images', stream: process.stderr })
      : undefined;
  const t0 = performance.now();
  try {
    if (bar && total > 0) bar.start(total, 0);
    const res = await erf(model, images, {
      backend,
      batchSize: opts.batch,
      total: total > 0 ? total : undefined,
      onProgress: (p) => bar?.update(p.done),
    });
    bar?.stop();
    const seconds = (performance.now() - t0) / 1000;
    const name = opts.weights ?? opts.model!;
    await writeSafetensorsFile(
      opts.output,
      { erf: res.erf, erf_norm: res.erfNorm },
      {
        producer: '@wf/cli',
        model: name,
        images: String(res.images),
        source: opts.images,
        backend: backend.name,
        definition:
          'features = tokens after the final norm (class tokens dropped) as [B,C,H,W]; s = relu(features[:, :, H//2, W//2]).sum(); erf = mean over images of relu(ds/dinput) summed over batch and channels; erf_norm = erf**0.2 / max(erf**0.2)',
      },
    );
    const [p50, p90, p99] = erfMassArea(res.erf);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    if (opts.png) {
      await writeFile(
        opts.png,
        renderHeatmap(res.erfNorm, `ERF ${basename(name)}`, [
          `${res.images} images, ${res.erf.shape[0]}x${res.erf.shape[1]} px`,
          `area for 50/90/99% of mass: ${pct(p50)} ${pct(p90)} ${pct(p99)}`,
        ]),
      );
    }
    const result: ErfCommandResult = {
      output: opts.output,
      png: opts.png,
      model: name,
      backend: backend.name,
      images: res.images,
      size: [res.erf.shape[0], res.erf.shape[1]],
      area: { p50, p90, p99 },
      seconds,
    };
    if (opts.json) print(JSON.stringify(result));
    else {
      print(
        `wrote ${opts.output}${opts.png ? ` and ${opts.png}` : ''}: ERF of ${model.describe()} over ${res.images} images at ${res.erf.shape[0]}x${res.erf.shape[1]} px (backend ${backend.name}, ${seconds.toFixed(1)} s)`,
      );
      print(`area holding 50% / 90% / 99% of the ERF mass: ${pct(p50)} / ${pct(p90)} / ${pct(p99)}`);
    }
    return result;
  } finally {
    bar?.stop();
    await model.dispose();
    backend.dispose();
  }
}
