// NaN/Inf weights at load time: the micro WeightFormer checkpoint rewritten with an F16 tensor holding Inf,
// a BF16 tensor holding NaN, or many F32 tensors with NaN. `nonFiniteWeights: 'report'` (default) loads it
// and lists them on `model.nonFiniteWeights`; `'error'` rejects it with a one-line ModelError naming them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, WfError } from '@wf/core';
import { readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { ModelError } from './config.js';
import { loadModel } from './load.js';
import { randomModel } from './variants.js';

const microBytes = readFixture('reference/wfm-micro.safetensors');
const micro = parseSafetensors(microBytes);

/** A tensor written with another dtype: its raw little-endian 16-bit words. */
interface Override {
  dtype: 'F16' | 'BF16';
  words: Uint16Array;
}

/**
 * The micro checkpoint rewritten: every tensor as F32 (values as they are, or with `nan` indices set to
 * NaN), except `overrides`, written as F16/BF16 words. Metadata (the model config) is kept.
 */
function rewrite(overrides: Record<string, Override> = {}, nan: Record<string, number[]> = {}): Uint8Array {
  const parts: string[] = [`"__metadata__":${JSON.stringify(micro.metadata)}`];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of micro.names()) {
    const t = micro.tensor(name);
    let bytes: Uint8Array;
    let dtype = 'F32';
    const o = overrides[name];
    if (o !== undefined) {
      expect(o.words.length).toBe(t.data.length);
      dtype = o.dtype;
      bytes = new Uint8Array(o.words.length * 2);
      const v = new DataView(bytes.buffer);
      o.words.forEach((w, i) => {
        v.setUint16(2 * i, w, true);
      });
    } else {
      const data = Float32Array.from(t.data);
      for (const i of nan[name] ?? []) data[i] = Number.NaN;
      bytes = new Uint8Array(data.buffer);
    }
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":${JSON.stringify(t.shape)},` +
        `"data_offsets":[${offset},${offset + bytes.length}]}`,
    );
    chunks.push(bytes);
    offset += bytes.length;
  }
  const header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** F16 words of a 64-element bias: zeros and ones, with +Inf at index 5 and -Inf at index 40. */
function f16WithInf(): Uint16Array {
  const w = new Uint16Array(64).fill(0x3c00);
  w[0] = 0;
  w[5] = 0x7c00;
  w[40] = 0xfc00;
  return w;
}

/** BF16 words of the [10, 64] head weight: the float32 values' top halves, with NaN at index 3. */
function bf16WithNaN(): Uint16Array {
  const f = Float32Array.from(micro.tensor('head.weight').data);
  const w = new Uint16Array(f.length);
  const bits = new Uint32Array(f.buffer);
  for (let i = 0; i < f.length; i++) w[i] = bits[i] >>> 16;
  w[3] = 0x7fc0;
  return w;
}

/** Calls `fn` and returns the error it rejects with. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected loading to fail');
  return err;
}

describe('nonFiniteWeights', () => {
  it('reports an empty list for a clean checkpoint, and loads it with "error" too', async () => {
    const m = await loadModel(microBytes);
    expect(m.nonFiniteWeights).toEqual([]);
    const strict = await loadModel(microBytes, { nonFiniteWeights: 'error' });
    expect(strict.nonFiniteWeights).toEqual([]);
    expect(randomModel(m.config).nonFiniteWeights).toEqual([]);
  });

  it('reports an F16 tensor with Inf (default "report"), keeping the values', async () => {
    const bytes = rewrite({ 'blocks.0.dwc.bias': { dtype: 'F16', words: f16WithInf() } });
    const m = await loadModel(bytes);
    expect(m.nonFiniteWeights).toEqual([
      { name: 'blocks.0.dwc.bias', count: 2, first: 5, value: Number.POSITIVE_INFINITY },
    ]);
    const w = m.weights.get('blocks.0.dwc.bias');
    expect(w?.data[5]).toBe(Number.POSITIVE_INFINITY);
    expect(w?.data[40]).toBe(Number.NEGATIVE_INFINITY);
    expect(w?.data[1]).toBe(1);
    expect((await loadModel(bytes, { nonFiniteWeights: 'report' })).nonFiniteWeights).toHaveLength(1);
  });

  it('rejects an F16 tensor with Inf under "error", naming it in one line', async () => {
    const bytes = rewrite({ 'blocks.0.dwc.bias': { dtype: 'F16', words: f16WithInf() } });
    const err = await rejection(loadModel(bytes, { nonFiniteWeights: 'error' }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toBeInstanceOf(WfError);
    expect((err as ModelError).code).toBe('E_MODEL');
    expect(err.message).toBe(
      '1 weight tensor holds NaN/Inf values: "blocks.0.dwc.bias" (2 values, first Infinity at index 5) ' +
        "(nonFiniteWeights: 'report' loads them anyway)",
    );
  });

  it('reports and rejects a BF16 tensor with NaN, with an F16 one with Inf, in weight order', async () => {
    const bytes = rewrite({
      'blocks.0.dwc.bias': { dtype: 'F16', words: f16WithInf() },
      'head.weight': { dtype: 'BF16', words: bf16WithNaN() },
    });
    const m = await loadModel(bytes);
    expect(m.nonFiniteWeights).toEqual([
      { name: 'blocks.0.dwc.bias', count: 2, first: 5, value: Number.POSITIVE_INFINITY },
      { name: 'head.weight', count: 1, first: 3, value: Number.NaN },
    ]);
    // The rest of the BF16 tensor decodes to the float32 values truncated to 8 mantissa bits.
    const head = m.weights.get('head.weight');
    const orig = micro.tensor('head.weight').data;
    expect(Math.abs((head?.data[0] ?? 0) - orig[0])).toBeLessThanOrEqual(Math.abs(orig[0]) / 128);
    const err = await rejection(loadModel(bytes, { nonFiniteWeights: 'error' }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(
      /^2 weight tensors hold NaN\/Inf values: "blocks\.0\.dwc\.bias" \(2 values, first Infinity at index 5\), "head\.weight" \(1 value, first NaN at index 3\)/,
    );
    expect(err.message).not.toMatch(/\n/);
  });

  it('names at most 8 tensors, then "and N more"', async () => {
    const names = micro.names().slice(0, 11);
    const bytes = rewrite({}, Object.fromEntries(names.map((n, i) => [n, [i]])));
    const m = await loadModel(bytes);
    expect(m.nonFiniteWeights.map((t) => t.name)).toEqual(names);
    expect(m.nonFiniteWeights.map((t) => t.first)).toEqual(names.map((_, i) => i));
    const err = await rejection(loadModel(bytes, { nonFiniteWeights: 'error' }));
    expect(err.message).toMatch(/^11 weight tensors hold NaN\/Inf values: /);
    expect(err.message).toContain(JSON.stringify(names[7]));
    expect(err.message).not.toContain(JSON.stringify(names[8]));
    expect(err.message).toMatch(/ and 3 more \(nonFiniteWeights: 'report' loads them anyway\)$/);
  });

  it('applies to checkpoints loaded from a file path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wf-load-nonfinite-'));
    try {
      const path = join(dir, 'bad.safetensors');
      await writeFile(path, rewrite({ 'head.weight': { dtype: 'BF16', words: bf16WithNaN() } }));
      expect((await loadModel(path)).nonFiniteWeights).toEqual([
        { name: 'head.weight', count: 1, first: 3, value: Number.NaN },
      ]);
      const err = await rejection(loadModel(path, { nonFiniteWeights: 'error' }));
      expect(err).toBeInstanceOf(ModelError);
      expect(err.message).toMatch(/"head\.weight" \(1 value, first NaN at index 3\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown policy', async () => {
    const err = await rejection(loadModel(microBytes, { nonFiniteWeights: 'ignore' as unknown as 'report' }));
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toBe(`nonFiniteWeights must be 'report' or 'error', got "ignore"`);
  });
});
