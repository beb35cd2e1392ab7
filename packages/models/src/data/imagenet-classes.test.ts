// Tests of the ImageNet-1K class names and of topK.

import { WfError } from '@wf/core';
import { describe, expect, it } from 'vitest';
import { IMAGENET_CLASSES, topK } from './imagenet-classes.js';

describe('IMAGENET_CLASSES', () => {
  it('has the 1000 class names in index order', () => {
    expect(IMAGENET_CLASSES.length).toBe(1000);
    expect(IMAGENET_CLASSES[0]).toBe('tench, Tinca tinca');
    expect(IMAGENET_CLASSES[1]).toBe('goldfish, Carassius auratus');
    expect(IMAGENET_CLASSES[207]).toBe('golden retriever');
    expect(IMAGENET_CLASSES[281]).toBe('tabby, tabby cat');
    expect(IMAGENET_CLASSES[409]).toBe('analog clock');
    expect(IMAGENET_CLASSES[999]).toBe('toilet tissue, toilet paper, bathroom tissue');
    for (const name of IMAGENET_CLASSES) {
      expect(typeof name).toBe('string');
      expect(name.trim()).toBe(name);
      expect(name.length).toBeGreaterThan(0);
    }
    expect(Object.isFrozen(IMAGENET_CLASSES)).toBe(true);
  });
});

describe('topK', () => {
  it('ranks logits with softmax probabilities and ImageNet labels by default', () => {
    const logits = new Float32Array(1000);
    logits[207] = 5;
    logits[281] = 4;
    logits[3] = 4;
    const top = topK(logits, 3);
    expect(top.map((p) => p.index)).toEqual([207, 3, 281]); // ties: lower index first
    expect(top[0].label).toBe('golden retriever');
    expect(top[0].logit).toBe(5);
    const z = Math.exp(5) + 2 * Math.exp(4) + 997;
    expect(top[0].probability).toBeCloseTo(Math.exp(5) / z, 12);
    expect(top[1].probability).toBeCloseTo(Math.exp(4) / z, 12);
  });

  it('uses given labels, index strings otherwise, and clamps k', () => {
    const logits = [0.1, 2, -1];
    expect(topK(logits, 10, ['a', 'b', 'c']).map((p) => p.label)).toEqual(['b', 'a', 'c']);
    const plain = topK(logits, 2);
    expect(plain.map((p) => p.label)).toEqual(['1', '0']);
    const sum = topK(logits, 3).reduce((s, p) => s + p.probability, 0);
    expect(sum).toBeCloseTo(1, 12);
    // Large logits do not overflow.
    expect(topK([1000, 999], 1)[0].probability).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
  });

  it('rejects bad arguments', () => {
    for (const [fn, re] of [
      [() => topK([], 1), /logits are empty/],
      [() => topK([1, 2], 0), /k must be a positive integer/],
      [() => topK([1, Number.NaN], 1), /logit 1 is NaN/],
      [() => topK([1, 2, 3], 1, ['a']), /3 logits but only 1 labels/],
    ] as [() => unknown, RegExp][]) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WfError);
      expect((err as WfError).code).toBe('E_ARGUMENT');
      expect((err as WfError).message).toMatch(re);
    }
  });
});
