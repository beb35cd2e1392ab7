// Tests of the safetensors reader/writer: round trips, the real reference fixtures, dtype decoding against
// hand-computed bit patterns, and rejection of malformed, truncated and hostile files with SafetensorsError.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../errors.js';
import type { TensorData } from '../ir/types.js';
import {
  loadSafetensors,
  type ParsedSafetensors,
  parseSafetensors,
  readSafetensorsFile,
  serializeSafetensors,
  tensorsToRecord,
  writeSafetensorsFile,
} from './safetensors.js';

/** Absolute path of a fixture of the @wf/test-fixtures package. */
function fixture(rel: string): string {
  return fileURLToPath(new URL(`../../../test-fixtures/${rel}`, import.meta.url));
}

/** Builds a file from a raw header text (padded with `pad` spaces) and a data buffer. */
function rawFile(headerText: string, data: Uint8Array = new Uint8Array(0), pad = 0): Uint8Array {
  const header = new TextEncoder().encode(headerText + ' '.repeat(pad));
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** Builds a file from a header object, padding the header so that the data buffer starts 8-byte aligned. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const text = JSON.stringify(header);
  const len = new TextEncoder().encode(text).length;
  return rawFile(text, data, (8 - (len % 8)) % 8);
}

/** Little-endian bytes of 16-bit words. */
function u16Bytes(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 2);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => {
    v.setUint16(2 * i, w, true);
  });
  return out;
}

/** Calls `fn` and returns the SafetensorsError it throws (failing the test if it throws anything else). */
function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    return err as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, but nothing was thrown');
}

/** Parses then decodes every tensor: exercises the whole reader. */
function parseAll(bytes: Uint8Array): Record<string, TensorData> {
  return tensorsToRecord(parseSafetensors(bytes));
}

/** A float32 tensor of one F32 entry named `t` with shape [2]. */
const F32_ENTRY = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

describe('serializeSafetensors / parseSafetensors round trip', () => {
  const weights = new Float32Array([1.5, -2.25, 3.0e-8, Number.POSITIVE_INFINITY, -0, 65504, 0.1, Math.PI]);
  const ids = new Int32Array([0, -1, 2147483647, -2147483648, 42, 7]);
  const tensors: Record<string, TensorData> = {
    'blocks.0.w': { dtype: 'float32', shape: [2, 4], data: weights },
    ids: { dtype: 'int32', shape: [3, 2], data: ids },
    scalar: { dtype: 'float32', shape: [], data: new Float32Array([-7.5]) },
    empty: { dtype: 'int32', shape: [0, 3], data: new Int32Array(0) },
  };
  const metadata = { format: 'pt', arch: 'wfm', note: 'ünïcødé ✓' };

  it('keeps values, shapes, dtypes, order and metadata', () => {
    const bytes = serializeSafetensors(tensors, metadata);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual(metadata);
    expect(parsed.names()).toEqual(['blocks.0.w', 'ids', 'scalar', 'empty']);
    expect(parsed.entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([
      ['blocks.0.w', 'F32', [2, 4]],
      ['ids', 'I32', [3, 2]],
      ['scalar', 'F32', []],
      ['empty', 'I32', [0, 3]],
    ]);
    const w = parsed.tensor('blocks.0.w');
    expect(w.dtype).toBe('float32');
    expect(w.shape).toEqual([2, 4]);
    expect(Array.from(w.data)).toEqual(Array.from(weights));
    expect(Object.is(w.data[4], -0)).toBe(true);
    const i = parsed.tensor('ids');
    expect(i.dtype).toBe('int32');
    expect(i.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i.data)).toEqual([0, -1, 2147483647, -2147483648, 42, 7]);
    expect(Array.from(parsed.tensor('scalar').data)).toEqual([-7.5]);
    expect(parsed.tensor('empty').data.length).toBe(0);
    expect(parsed.has('ids')).toBe(true);
    expect(parsed.has('nope')).toBe(false);
  });

  it('writes the documented layout: u64 length, space-padded 8-aligned JSON header, F32/I32 data', () => {
    const bytes = serializeSafetensors(tensors, metadata);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    const header = JSON.parse(text);
    expect(header.__metadata__).toEqual(metadata);
    expect(header['blocks.0.w']).toEqual({ dtype: 'F32', shape: [2, 4], data_offsets: [0, 32] });
    expect(header.ids).toEqual({ dtype: 'I32', shape: [3, 2], data_offsets: [32, 56] });
    expect(bytes.length).toBe(8 + n + 32 + 24 + 4);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-2.25);
    expect(view.getInt32(8 + n + 32 + 4, true)).toBe(-1);
  });

  it('omits __metadata__ when none is given and parses it as an empty object', () => {
    const bytes = serializeSafetensors({ a: { dtype: 'float32', shape: [1], data: new Float32Array([2]) } });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({});
    expect(Array.from(parsed.tensor('a').data)).toEqual([2]);
  });

  it('serializes a tensor that is a view into a larger buffer', () => {
    const big = new Float32Array([9, 9, 1, 2, 3, 9]);
    const bytes = serializeSafetensors({ v: { dtype: 'float32', shape: [3], data: big.subarray(2, 5) } });
    expect(Array.from(parseSafetensors(bytes).tensor('v').data)).toEqual([1, 2, 3]);
  });

  it('returns aligned F32 tensors copy-free, as views on the input', () => {
    const bytes = serializeSafetensors(tensors);
    const t = parseSafetensors(bytes).tensor('blocks.0.w');
    expect(t.data.buffer).toBe(bytes.buffer);
  });

  it('tensorsToRecord decodes every tensor in header order', () => {
    const rec = tensorsToRecord(parseSafetensors(serializeSafetensors(tensors)));
    expect(Object.keys(rec)).toEqual(['blocks.0.w', 'ids', 'scalar', 'empty']);
    expect(Array.from(rec.ids.data)).toEqual(Array.from(ids));
  });

  it('rejects tensors whose data does not match their shape or dtype', () => {
    expect(
      errorOf(() =>
        serializeSafetensors({ x: { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) } }),
      ).message,
    ).toMatch(/tensor "x".*shape \[2,3\] needs 6 elements, data has 5/);
    expect(
      errorOf(() => serializeSafetensors({ y: { dtype: 'int32', shape: [2], data: new Float32Array(2) } }))
        .message,
    ).toMatch(/tensor "y".*int32 needs a Int32Array/);
    expect(
      errorOf(() =>
        serializeSafetensors({ __metadata__: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }),
      ).message,
    ).toMatch(/reserved/);
  });
});

describe('unaligned data', () => {
  // A 1-byte U8 tensor first puts the F32 tensor at data offset 1: not 4-byte aligned.
  const data = new Uint8Array(9);
  data[0] = 200;
  new DataView(data.buffer).setFloat32(1, 1.25, true);
  new DataView(data.buffer).setFloat32(5, -3.5, true);
  const bytes = file(
    {
      u: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
      f: { dtype: 'F32', shape: [2], data_offsets: [1, 9] },
    },
    data,
  );

  it('copies an F32 tensor whose offset is not 4-byte aligned', () => {
    const parsed = parseSafetensors(bytes);
    const f = parsed.tensor('f');
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.data)).toEqual([1.25, -3.5]);
    expect(f.data.buffer).not.toBe(bytes.buffer);
    expect(Array.from(parsed.tensor('u').data)).toEqual([200]);
  });

  it('reads a file that starts at an odd offset of a larger buffer', () => {
    const rt = serializeSafetensors({
      a: { dtype: 'float32', shape: [3], data: new Float32Array([0.5, -1, 8]) },
      b: { dtype: 'int32', shape: [2], data: new Int32Array([-5, 123456789]) },
    });
    const host = new Uint8Array(rt.length + 3);
    host.set(rt, 1);
    const parsed = parseSafetensors(host.subarray(1, 1 + rt.length));
    expect(Array.from(parsed.tensor('a').data)).toEqual([0.5, -1, 8]);
    expect(Array.from(parsed.tensor('b').data)).toEqual([-5, 123456789]);
  });
});

describe('real fixtures', () => {
  it('reads wfm-micro.safetensors: metadata and a [64,256] F32 weight', () => {
    const bytes = readFileSync(fixture('reference/wfm-micro.safetensors'));
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata.arch).toBe('wfm');
    expect(parsed.metadata.format).toBe('pt');
    expect(JSON.parse(parsed.metadata.config).embed_dim).toBe(64);
    const entry = parsed.entries.find((e) => e.name === 'blocks.1.linear1.w');
    expect(entry).toBeDefined();
    expect(entry?.dtype).toBe('F32');
    expect(entry?.shape).toEqual([64, 256]);
    expect(entry?.byteLength).toBe(64 * 256 * 4);
    const t = parsed.tensor('blocks.1.linear1.w');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([64, 256]);
    expect(t.data.length).toBe(64 * 256);
    // Independent check of a few values straight from the raw bytes.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const begin: number = header['blocks.1.linear1.w'].data_offsets[0];
    expect(entry?.byteOffset).toBe(8 + n + begin);
    for (const i of [0, 1, 777, 64 * 256 - 1]) {
      expect(t.data[i]).toBe(view.getFloat32(8 + n + begin + 4 * i, true));
    }
    expect(t.data.some((x) => x !== 0)).toBe(true);
    // Every tensor decodes, and the names are in header order.
    const rec = tensorsToRecord(parsed);
    expect(Object.keys(rec)).toEqual(Object.keys(header).filter((k) => k !== '__metadata__'));
  });

  it('decodes the I64 indices of wfm-mnist.test.safetensors to int32', () => {
    const bytes = readFileSync(fixture('mnist/wfm-mnist.test.safetensors'));
    const parsed = parseSafetensors(bytes);
    const entry = parsed.entries.find((e) => e.name === 'indices');
    expect(entry?.dtype).toBe('I64');
    expect(entry?.shape).toEqual([2004]);
    const t = parsed.tensor('indices');
    expect(t.dtype).toBe('int32');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(t.shape).toEqual([2004]);
    // Independent decoding with BigInt64 reads of the raw bytes.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const [begin, end]: [number, number] = header.indices.data_offsets;
    expect(end - begin).toBe(2004 * 8);
    const expected: number[] = [];
    for (let i = 0; i < 2004; i++) expected.push(Number(view.getBigInt64(8 + n + begin + 8 * i, true)));
    expect(Array.from(t.data.subarray(0, 8))).toEqual(expected.slice(0, 8));
    expect(Array.from(t.data)).toEqual(expected);
    expect(new Set(expected).size).toBeGreaterThan(1);
    const labels = parsed.tensor('labels');
    expect(labels.data.every((x) => x >= 0 && x <= 9)).toBe(true);
    expect(parsed.tensor('logits').shape).toEqual([2004, 10]);
  });
});

describe('dtype decoding', () => {
  it('decodes F16 normals, subnormals, zeros, infinities and NaN', () => {
    const words = [
      0x3c00, 0xc000, 0x7c00, 0xfc00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x3555, 0x8000, 0x0000, 0x7e00,
    ];
    const bytes = file({ h: { dtype: 'F16', shape: [3, 4], data_offsets: [0, 24] } }, u16Bytes(words));
    const t = parseSafetensors(bytes).tensor('h');
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([3, 4]);
    const d = Array.from(t.data);
    expect(d[0]).toBe(1);
    expect(d[1]).toBe(-2);
    expect(d[2]).toBe(Number.POSITIVE_INFINITY);
    expect(d[3]).toBe(Number.NEGATIVE_INFINITY);
    expect(d[4]).toBe(2 ** -24);
    expect(d[5]).toBe(1023 * 2 ** -24);
    expect(d[6]).toBe(2 ** -14);
    expect(d[7]).toBe(65504);
    expect(d[8]).toBe((1 + 0x155 / 1024) * 2 ** -2); // 0x3555: exponent 13 - 15 = -2, mantissa 0x155
    expect(Object.is(d[9], -0)).toBe(true);
    expect(Object.is(d[10], 0)).toBe(true);
    expect(Number.isNaN(d[11])).toBe(true);
  });

  it('decodes BF16 by shifting the bits into the top half of a float32', () => {
    const words = [0x3f80, 0xc000, 0x7f80, 0x4049, 0x0001, 0xff80];
    const bytes = file({ b: { dtype: 'BF16', shape: [6], data_offsets: [0, 12] } }, u16Bytes(words));
    const d = Array.from(parseSafetensors(bytes).tensor('b').data);
    expect(d).toEqual([1, -2, Number.POSITIVE_INFINITY, 3.140625, 2 ** -133, Number.NEGATIVE_INFINITY]);
  });

  it('decodes F64 to float32 (rounding, overflow to Infinity)', () => {
    const data = new Uint8Array(32);
    const v = new DataView(data.buffer);
    [1.5, -2.25, 0.1, 1e300].forEach((x, i) => {
      v.setFloat64(8 * i, x, true);
    });
    const t = parseSafetensors(file({ d: { dtype: 'F64', shape: [4], data_offsets: [0, 32] } }, data)).tensor(
      'd',
    );
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.data)).toEqual([1.5, -2.25, Math.fround(0.1), Number.POSITIVE_INFINITY]);
  });

  it('decodes I64/I16/I8/U8/BOOL to int32', () => {
    const data = new Uint8Array(24 + 6 + 3 + 3 + 3);
    const v = new DataView(data.buffer);
    v.setBigInt64(0, -1n, true);
    v.setBigInt64(8, -2147483648n, true);
    v.setBigInt64(16, 2147483647n, true);
    v.setInt16(24, -32768, true);
    v.setInt16(26, 1234, true);
    v.setInt16(28, -1, true);
    v.setInt8(30, -128);
    v.setInt8(31, 127);
    v.setInt8(32, -3);
    data.set([0, 255, 17], 33);
    data.set([0, 1, 2], 36);
    const parsed = parseSafetensors(
      file(
        {
          i64: { dtype: 'I64', shape: [3], data_offsets: [0, 24] },
          i16: { dtype: 'I16', shape: [3], data_offsets: [24, 30] },
          i8: { dtype: 'I8', shape: [3], data_offsets: [30, 33] },
          u8: { dtype: 'U8', shape: [3], data_offsets: [33, 36] },
          bool: { dtype: 'BOOL', shape: [3], data_offsets: [36, 39] },
        },
        data,
      ),
    );
    const rec = tensorsToRecord(parsed);
    for (const t of Object.values(rec)) {
      expect(t.dtype).toBe('int32');
      expect(t.data).toBeInstanceOf(Int32Array);
    }
    expect(Array.from(rec.i64.data)).toEqual([-1, -2147483648, 2147483647]);
    expect(Array.from(rec.i16.data)).toEqual([-32768, 1234, -1]);
    expect(Array.from(rec.i8.data)).toEqual([-128, 127, -3]);
    expect(Array.from(rec.u8.data)).toEqual([0, 255, 17]);
    expect(Array.from(rec.bool.data)).toEqual([0, 1, 1]);
  });

  it('rejects I64 values outside the int32 range, naming the tensor and value', () => {
    for (const big of [2147483648n, -2147483649n, 4294967296n]) {
      const data = new Uint8Array(16);
      new DataView(data.buffer).setBigInt64(8, big, true);
      const parsed = parseSafetensors(
        file({ ix: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data),
      );
      expect(errorOf(() => parsed.tensor('ix')).message).toMatch(
        new RegExp(`tensor "ix".*element 1 = ${big} is outside the int32 range`),
      );
    }
  });
});

describe('malformed files', () => {
  const two = new Uint8Array(8);

  it('rejects a file shorter than 8 bytes', () => {
    for (const n of [0, 1, 7]) {
      expect(errorOf(() => parseSafetensors(new Uint8Array(n))).message).toMatch(/shorter than the 8-byte/);
    }
  });

  it('rejects a header length of 0', () => {
    expect(errorOf(() => parseSafetensors(new Uint8Array(16))).message).toMatch(/header length is 0/);
  });

  it('rejects a header length past the end of the file', () => {
    const bytes = rawFile('{}');
    new DataView(bytes.buffer).setBigUint64(0, 3n, true);
    expect(errorOf(() => parseSafetensors(bytes)).message).toMatch(
      /header length 3 past end of file \(10 bytes\)/,
    );
  });

  it('fails fast on a header claiming 2^50 bytes (and on 2^64-1)', () => {
    for (const claim of [2n ** 50n, 2n ** 64n - 1n]) {
      const bytes = new Uint8Array(64).fill(0x20);
      new DataView(bytes.buffer).setBigUint64(0, claim, true);
      const t0 = performance.now();
      expect(errorOf(() => parseSafetensors(bytes)).message).toMatch(
        new RegExp(`header length ${claim} past end of file \\(64 bytes\\)`),
      );
      expect(performance.now() - t0).toBeLessThan(100);
    }
  });

  it('rejects a header longer than maxHeaderBytes', () => {
    const bytes = file({ t: F32_ENTRY }, new Uint8Array(8));
    expect(errorOf(() => parseSafetensors(bytes, { maxHeaderBytes: 16 })).message).toMatch(
      /header length \d+ exceeds maxHeaderBytes \(16\)/,
    );
    expect(parseSafetensors(bytes, { maxHeaderBytes: 1 << 20 }).names()).toEqual(['t']);
  });

  it('rejects a header that is not UTF-8, not JSON, or not an object', () => {
    const bad = rawFile('{"a":1}');
    bad[10] = 0xff;
    expect(errorOf(() => parseSafetensors(bad)).message).toMatch(/header .*not valid UTF-8/);
    expect(errorOf(() => parseSafetensors(rawFile('{"a": '))).message).toMatch(/header is not valid JSON/);
    expect(errorOf(() => parseSafetensors(rawFile('\u0000\u0000'))).message).toMatch(/not valid JSON/);
    for (const text of ['[]', 'null', '42', '"str"', 'true']) {
      expect(errorOf(() => parseSafetensors(rawFile(text))).message).toMatch(/header must be a JSON object/);
    }
  });

  it('rejects deeply nested hostile headers quickly, with a SafetensorsError', () => {
    const t0 = performance.now();
    expect(errorOf(() => parseSafetensors(rawFile('['.repeat(1_000_000)))).message).toMatch(
      /header nests deeper than 64 levels/,
    );
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(errorOf(() => parseSafetensors(rawFile(deep))).message).toMatch(/nests deeper/);
    expect(performance.now() - t0).toBeLessThan(2000);
    // Nesting within the limit reaches entry validation, whose message stays short.
    const msg = errorOf(() => parseSafetensors(rawFile(`{"a":${'['.repeat(50)}${']'.repeat(50)}}`))).message;
    expect(msg).toMatch(/tensor "a" must be an object/);
    expect(msg.length).toBeLessThan(200);
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    for (const meta of [null, 'x', ['a'], { a: 1 }, { a: 'ok', b: { c: 'd' } }]) {
      expect(errorOf(() => parseSafetensors(file({ __metadata__: meta }))).message).toMatch(
        /__metadata__ must be an object of strings/,
      );
    }
    expect(parseSafetensors(file({ __metadata__: {} })).metadata).toEqual({});
  });

  it('rejects an entry that is not an object', () => {
    for (const entry of [null, 3, 'F32', [1, 2]]) {
      expect(errorOf(() => parseSafetensors(file({ 'blocks.0.w': entry }))).message).toMatch(
        /tensor "blocks\.0\.w" must be an object/,
      );
    }
  });

  it('rejects an unknown dtype', () => {
    for (const dtype of ['F8_E4M3', 'f32', 3, undefined, 'constructor', 'toString']) {
      const msg = errorOf(() => parseSafetensors(file({ w: { ...F32_ENTRY, dtype } }, two))).message;
      expect(msg).toMatch(/tensor "w" has unknown dtype/);
    }
  });

  it('rejects a shape that is not an array of non-negative safe integers', () => {
    for (const shape of [2, null, '2', [-1], [1.5], [2 ** 53], ['2'], [Number.NaN]]) {
      const header = JSON.stringify({ w: { ...F32_ENTRY, shape } });
      const msg = errorOf(() => parseSafetensors(rawFile(header, two))).message;
      expect(msg).toMatch(/tensor "w" has shape .*(not an array|not a non-negative safe integer)/);
    }
  });

  it('rejects shape entries and data_offsets not written as plain digits (-0, 1.0, 1e2), as serde does', () => {
    const ok = (shape: string, offsets: string) =>
      `{"w":{"dtype":"F32","shape":[${shape}],"data_offsets":[${offsets}]}}`;
    // Each spelling equals a valid value once JSON.parse has folded it; the text decides.
    for (const dim of ['2.0', '2e0', '2E0', '2e+0', '20e-1', '0.2e1', '2.00']) {
      const msg = errorOf(() => parseSafetensors(rawFile(ok(dim, '0,8'), two))).message;
      expect(msg).toBe(
        `safetensors: tensor "w" has shape [2]: dimension 0 is written ${dim}; ` +
          'write it as plain digits (no sign, fraction or exponent)',
      );
    }
    for (const dim of ['-0', '-0.0', '-0e0', '0e5']) {
      expect(errorOf(() => parseSafetensors(rawFile(ok(dim, '0,0'), two))).message).toMatch(
        `tensor "w" has shape [0]: dimension 0 is written ${dim};`,
      );
    }
    for (const [offsets, which, written] of [
      ['-0,8', 'begin', '-0'],
      ['0,8.0', 'end', '8.0'],
      ['0,8e0', 'end', '8e0'],
      ['0.0,8', 'begin', '0.0'],
      ['0,0.8e1', 'end', '0.8e1'],
    ]) {
      const msg = errorOf(() => parseSafetensors(rawFile(ok('2', offsets), two))).message;
      expect(msg).toMatch(`tensor "w" has data_offsets [0,8]: ${which} is written ${written};`);
    }
    // A long spelling is cut; whitespace, escaped field names and the last duplicate field follow JSON.
    const long = `2.${'0'.repeat(200)}`;
    const longMsg = errorOf(() => parseSafetensors(rawFile(ok(long, '0,8'), two))).message;
    expect(longMsg).toContain(`is written ${long.slice(0, 21)}...;`);
    expect(longMsg.length).toBeLessThan(200);
    const spaced = '{ "w" : { "dtype" : "F32" , "shape" : [ 2 ] , "data_offsets" : [ 0 , 8 ] } }';
    expect(parseSafetensors(rawFile(spaced, two)).entries[0].shape).toEqual([2]);
    const escaped = '{"w":{"dtype":"F32","sh\\u0061pe":[2.0],"data_offsets":[0,8]}}';
    expect(errorOf(() => parseSafetensors(rawFile(escaped, two))).message).toMatch(/written 2\.0;/);
    const redefined = '{"w":{"dtype":"F32","shape":[-0],"data_offsets":[0,8],"shape":[2]}}';
    expect(parseSafetensors(rawFile(redefined, two)).entries[0].shape).toEqual([2]);
    const laterOdd = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"shape":[2e0]}}';
    expect(errorOf(() => parseSafetensors(rawFile(laterOdd, two))).message).toMatch(/written 2e0;/);
    // Numbers elsewhere keep their rules: unknown fields are ignored, metadata values must be strings.
    const extra = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":-0.5e1}}';
    expect(parseSafetensors(rawFile(extra, two)).entries[0].byteLength).toBe(8);
  });

  it('rejects data_offsets that are not two ordered safe integers', () => {
    for (const offsets of [null, [0], [0, 8, 16], ['0', '8'], [0.5, 8], [-8, 0], [0, 2 ** 53]]) {
      const msg = errorOf(() =>
        parseSafetensors(file({ w: { ...F32_ENTRY, data_offsets: offsets } }, two)),
      ).message;
      expect(msg).toMatch(/tensor "w" has data_offsets .*expected two non-negative safe integers/);
    }
    const msg = errorOf(() =>
      parseSafetensors(file({ w: { ...F32_ENTRY, data_offsets: [8, 0] } }, two)),
    ).message;
    expect(msg).toMatch(/tensor "w" has data_offsets \[8,0\] with begin > end/);
  });

  it('rejects data_offsets past the end of the data buffer', () => {
    const msg = errorOf(() =>
      parseSafetensors(file({ w: { ...F32_ENTRY, data_offsets: [4, 12] } }, two)),
    ).message;
    expect(msg).toMatch(/tensor "w" has data_offsets \[4,12\] past the end of the data buffer \(8 bytes\)/);
  });

  it('rejects a byte size that does not match shape x dtype', () => {
    const data = new Uint8Array(128);
    const msg = errorOf(() =>
      parseSafetensors(file({ 'blocks.0.w': { dtype: 'F32', shape: [5, 6], data_offsets: [0, 100] } }, data)),
    ).message;
    expect(msg).toBe(
      'safetensors: tensor "blocks.0.w" has data_offsets [0,100] but shape [5,6] x F32 needs 120 bytes',
    );
    const huge = errorOf(() =>
      parseSafetensors(
        file({ h: { dtype: 'F16', shape: [2 ** 40, 2 ** 40, 3], data_offsets: [0, 8] } }, data),
      ),
    ).message;
    expect(huge).toMatch(/tensor "h" has data_offsets \[0,8\] but shape .* x F16 needs more than \d+ bytes/);
  });

  it('rejects overlapping tensors but allows gaps and empty tensors', () => {
    const data = new Uint8Array(32);
    const overlap = errorOf(() =>
      parseSafetensors(
        file(
          {
            b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
            a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
          },
          data,
        ),
      ),
    ).message;
    expect(overlap).toMatch(/tensors "a" \[0,16\] and "b" \[12,20\] have overlapping data_offsets/);
    const same = errorOf(() => parseSafetensors(file({ a: F32_ENTRY, b: F32_ENTRY }, data))).message;
    expect(same).toMatch(/overlapping/);
    const ok = parseSafetensors(
      file(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
          e: { dtype: 'F32', shape: [0], data_offsets: [2, 2] },
        },
        data,
      ),
    );
    expect(ok.names()).toEqual(['a', 'b', 'e']);
  });

  it('rejects duplicate tensor names in the raw header', () => {
    const entry = JSON.stringify(F32_ENTRY);
    const msg = errorOf(() =>
      parseSafetensors(rawFile(`{"w":${entry}, "x":${entry},"w" :${entry}}`, two)),
    ).message;
    expect(msg).toMatch(/duplicate key "w"/);
    // Keys with escapes are compared by value; nested keys with the same name are not duplicates.
    const esc = errorOf(() => parseSafetensors(rawFile(`{"\\u0061":${entry},"a":${entry}}`, two))).message;
    expect(esc).toMatch(/duplicate key "a"/);
    const nested = rawFile(`{"__metadata__":{"dtype":"x","shape":"y"},"dtype":${entry}}`, two);
    expect(parseSafetensors(nested).names()).toEqual(['dtype']);
  });

  it('treats names like __proto__ and constructor as ordinary tensor names', () => {
    const header = `{"__proto__":${JSON.stringify(F32_ENTRY)}}`;
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(4, 6.5, true);
    const parsed = parseSafetensors(rawFile(header, data));
    expect(parsed.names()).toEqual(['__proto__']);
    expect(parsed.has('constructor')).toBe(false);
    expect(errorOf(() => parsed.tensor('constructor')).message).toMatch(/no tensor named "constructor"/);
    const rec = tensorsToRecord(parsed);
    expect(Object.keys(rec)).toEqual(['__proto__']);
    const own = Object.getOwnPropertyDescriptor(rec, '__proto__')?.value as TensorData;
    expect(Array.from(own.data)).toEqual([0, 6.5]);
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype);
  });

  it('names the missing tensor when asked for an absent one', () => {
    const parsed = parseSafetensors(file({ t: F32_ENTRY }, two));
    expect(errorOf(() => parsed.tensor('blocks.9.w')).message).toMatch(
      /no tensor named "blocks\.9\.w" \(the file has 1 tensors: "t"\)/,
    );
  });

  it('rejects input that is not bytes', () => {
    expect(errorOf(() => parseSafetensors('abc' as unknown as Uint8Array)).message).toMatch(
      /expected a Uint8Array or ArrayBuffer/,
    );
  });
});

describe('truncated and corrupted files', () => {
  it('throws only SafetensorsError for a small file cut at every byte', () => {
    const bytes = serializeSafetensors(
      {
        a: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
        b: { dtype: 'int32', shape: [3], data: new Int32Array([5, 6, 7]) },
      },
      { k: 'v' },
    );
    expect(Object.keys(parseAll(bytes))).toEqual(['a', 'b']);
    for (let cut = 0; cut < bytes.length; cut++) {
      const part = bytes.slice(0, cut);
      expect(errorOf(() => parseAll(part)).message).toMatch(/^safetensors: /);
    }
  });

  it('throws only SafetensorsError for the real fixture cut at several points', () => {
    const bytes = readFileSync(fixture('mnist/wfm-mnist.test.safetensors'));
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const cuts = [0, 4, 8, 9, 8 + (n >> 1), 8 + n - 1, 8 + n, 8 + n + 1, 8 + n + 16031, bytes.length - 1];
    for (const cut of cuts) {
      const msg = errorOf(() => parseAll(bytes.subarray(0, cut))).message;
      expect(msg).toMatch(/shorter than|header length|not valid|past the end of the data buffer/);
    }
  });

  it('throws only SafetensorsError (or succeeds) when header bytes are corrupted', () => {
    const bytes = serializeSafetensors(
      {
        x: { dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) },
        y: { dtype: 'int32', shape: [1, 2], data: new Int32Array([4, 5]) },
      },
      { arch: 'wfm' },
    );
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let failures = 0;
    for (let trial = 0; trial < 500; trial++) {
      const copy = bytes.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < flips; k++)
        copy[Math.floor(rand() * (bytes.length - 24))] = Math.floor(rand() * 256);
      try {
        parseAll(copy);
      } catch (err) {
        expect(err).toBeInstanceOf(SafetensorsError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});

describe('file and source helpers', () => {
  const tensors: Record<string, TensorData> = {
    w: { dtype: 'float32', shape: [2], data: new Float32Array([0.25, -4]) },
    i: { dtype: 'int32', shape: [1], data: new Int32Array([-9]) },
  };
  const bytes = serializeSafetensors(tensors, { arch: 'wfm' });

  /** Checks that a parse of `bytes` has the expected contents. */
  function expectContents(parsed: ParsedSafetensors): void {
    expect(parsed.metadata).toEqual({ arch: 'wfm' });
    expect(Array.from(parsed.tensor('w').data)).toEqual([0.25, -4]);
    expect(Array.from(parsed.tensor('i').data)).toEqual([-9]);
  }

  it('readSafetensorsFile names the path and the reason for a missing file', async () => {
    const path = join(tmpdir(), 'wf-no-such-dir', 'missing.safetensors');
    const err = await readSafetensorsFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).code).toBe('E_SAFETENSORS');
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/ENOENT/);
    await expect(loadSafetensors(path)).rejects.toThrow(SafetensorsError);
  });

  it('writeSafetensorsFile + readSafetensorsFile / loadSafetensors(path) round trip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wf-safetensors-'));
    try {
      const path = join(dir, 'model.safetensors');
      await writeSafetensorsFile(path, tensors, { arch: 'wfm' });
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
      expectContents(await readSafetensorsFile(path));
      expectContents(await loadSafetensors(path));
      const dirErr = await readSafetensorsFile(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(dirErr).toBeInstanceOf(SafetensorsError);
      expect((dirErr as Error).message).toMatch(/EISDIR/);
      await expect(writeSafetensorsFile(join(dir, 'nope', 'x.safetensors'), tensors)).rejects.toThrow(
        /cannot write file .*nope.*ENOENT/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loadSafetensors accepts an ArrayBuffer, a Uint8Array and a Node Buffer', async () => {
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    expectContents(await loadSafetensors(ab));
    expectContents(parseSafetensors(ab));
    expectContents(await loadSafetensors(bytes));
    const buf = Buffer.from(bytes);
    expect(buf).toBeInstanceOf(Uint8Array);
    expectContents(await loadSafetensors(buf));
    // A small Buffer usually lives at an offset inside Node's shared pool.
    const pooled = Buffer.alloc(bytes.length + 5);
    pooled.set(bytes, 5);
    expectContents(await loadSafetensors(pooled.subarray(5)));
  });
});
