// Unit tests of the command-line filters and the plans.
import { describe, expect, it } from 'vitest';
import {
  engineFilter,
  namedExplicitly,
  OptionError,
  PLANS,
  parseModels,
  parseTokens,
  splitList,
} from './options.js';

describe('filters', () => {
  it('--model takes ids and aliases', () => {
    expect(parseModels(undefined)).toEqual(['wfm-block', 'attn-block', 'wfm-tiny', 'deit-tiny']);
    expect(parseModels(['blocks'])).toEqual(['wfm-block', 'attn-block']);
    expect(parseModels(['deit-tiny', 'wfm'])).toEqual(['wfm-block', 'wfm-tiny', 'deit-tiny']);
    expect(() => parseModels(['resnet'])).toThrow(OptionError);
  });

  it('--tokens takes square counts', () => {
    expect(parseTokens(['784', '196', '784'])).toEqual([196, 784]);
    expect(parseTokens(undefined)).toBeUndefined();
    expect(() => parseTokens(['200'])).toThrow(/square/);
    expect(() => parseTokens(['abc'])).toThrow(OptionError);
  });

  it('--backend matches engines by name and by group', () => {
    const all = engineFilter(undefined);
    expect(['cpu', 'ort-web', 'gpujs:webgl2'].every(all)).toBe(true);
    const f = engineFilter(['cpu', 'ort']);
    expect(['cpu', 'ort-node', 'ort-web'].every(f)).toBe(true);
    expect(f('gpujs:webgl2')).toBe(false);
    expect(f('cpu:plain')).toBe(false);
    const g = engineFilter(['gpujs']);
    expect(g('gpujs:wasm') && !g('cpu')).toBe(true);
    const o = engineFilter(['ours']);
    expect(o('cpu') && o('gpujs:cpu') && !o('ort-node')).toBe(true);
    expect(() => engineFilter(['tfjs'])).toThrow(OptionError);
    expect(namedExplicitly(['cpu:plain'])('cpu:plain')).toBe(true);
    expect(namedExplicitly(['ours'])('cpu:plain')).toBe(false);
  });

  it('splits comma lists', () => {
    expect(splitList(['a,b', ' c '])).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toBeUndefined();
    expect(splitList([','])).toBeUndefined();
  });

  it('quick mode covers the sizes issue 5 checks, with one warm-up', () => {
    expect(PLANS.quick.blockTokens).toEqual(expect.arrayContaining([196, 784, 3136, 12544]));
    expect(PLANS.quick.policy.warmup).toBe(1);
    expect(PLANS.full.blockTokens.length).toBeGreaterThan(PLANS.quick.blockTokens.length);
    expect(PLANS.full.modelPx).toEqual(expect.arrayContaining([224, 896, 1792]));
  });
});
