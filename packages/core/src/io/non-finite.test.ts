// Tests of NaN/Inf reporting: findNonFinite on parsed files (F16 with Inf, BF16 with NaN, F32, F64 that
// overflows float32) and on records/maps of host tensors, describeNonFinite's one-line list, and the
// reader's `nonFinite: 'error'` option (parse and file read).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../errors.js';
import type { TensorData } from '../ir/types.js';
import { describeNonFinite, findNonFinite, type NonFiniteTensor } from './non-finite.js';
import { parseSafetensors, readSafetensorsFile, serializeSafetensors } from './safetensors.js';

/** Builds a file from a header object (padded so the data starts 8-byte aligned) and a data buffer. */
function file(header: unknown, data: Uint8Array): Uint8Array {
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
function u16(words: number[]): Uint8Array {
  const out = new Uint8Array(2 * words.length);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => {
    v.setUint16(2 * i, w, true);
  });
  return out;
}

/** Concatenates byte arrays. */
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Returns the SafetensorsError thrown by `fn` (failing on anything else). */
function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SafetensorsError);
    return err as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, but nothing was thrown');
}

// F16: 1, +Inf, 65504 (largest finite), -Inf, a subnormal, NaN. BF16: 1, NaN, -2, +Inf (bits 0x7f80).
const F16_WORDS = [0x3c00, 0x7c00, 0x7bff, 0xfc00, 0x0001, 0x7e00];
const BF16_WORDS = [0x3f80, 0x7fc1, 0xc000, 0x7f80];
// F64: 1e300 is finite in the file but Infinity once decoded to float32, which is what the model gets.
const f64 = new Uint8Array(24);
new DataView(f64.buffer).setFloat64(0, 0.5, true);
new DataView(f64.buffer).setFloat64(8, -1e300, true);
new DataView(f64.buffer).setFloat64(16, 2, true);
// I64 holding a value outside int32: integer tensors are skipped, never decoded, so this cannot throw.
const i64 = new Uint8Array(8);
new DataView(i64.buffer).setBigInt64(0, 2n ** 40n, true);
const clean = u16([0x3c00, 0x4000]);

const mixed = file(
  {
    __metadata__: { format: 'pt' },
    'half.w': { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] },
    'bf.w': { dtype: 'BF16', shape: [4], data_offsets: [12, 20] },
    'ok.w': { dtype: 'F16', shape: [2], data_offsets: [20, 24] },
    'wide.w': { dtype: 'F64', shape: [3], data_offsets: [24, 48] },
    ids: { dtype: 'I64', shape: [1], data_offsets: [48, 56] },
  },
  concat(u16(F16_WORDS), u16(BF16_WORDS), clean, f64, i64),
);

const EXPECTED: NonFiniteTensor[] = [
  { name: 'half.w', count: 3, first: 1, value: Number.POSITIVE_INFINITY },
  { name: 'bf.w', count: 2, first: 1, value: Number.NaN },
  { name: 'wide.w', count: 1, first: 1, value: Number.NEGATIVE_INFINITY },
];

describe('findNonFinite', () => {
  it('lists F16 Inf/NaN, BF16 NaN/Inf and F64 overflow of a parsed file, skipping clean and integer tensors', () => {
    const list = findNonFinite(parseSafetensors(mixed));
    expect(list).toEqual(EXPECTED);
  });

  it('reports an F16 tensor whose first bad value is -Infinity, and a BF16 one that is all NaN', () => {
    const st = parseSafetensors(
      file(
        {
          a: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
        },
        u16([0x0000, 0xfc00, 0x3c00, 0x7fc0, 0xffff]),
      ),
    );
    expect(findNonFinite(st)).toEqual([
      { name: 'a', count: 1, first: 1, value: Number.NEGATIVE_INFINITY },
      { name: 'b', count: 2, first: 0, value: Number.NaN },
    ]);
  });

  it('returns [] for a clean file (the largest finite F16 included)', () => {
    const st = parseSafetensors(
      file({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }, u16([0x7bff, 0xfbff, 0x0001])),
    );
    expect(findNonFinite(st)).toEqual([]);
  });

  it('scans records and maps of host tensors, skipping int32 ones, in their order', () => {
    const w: TensorData = {
      dtype: 'float32',
      shape: [2, 2],
      data: new Float32Array([1, Number.NaN, 3, Number.NEGATIVE_INFINITY]),
    };
    const ids: TensorData = { dtype: 'int32', shape: [1], data: new Int32Array([7]) };
    const b: TensorData = {
      dtype: 'float32',
      shape: [1],
      data: new Float32Array([Number.POSITIVE_INFINITY]),
    };
    const want = [
      { name: 'w', count: 2, first: 1, value: Number.NaN },
      { name: 'b', count: 1, first: 0, value: Number.POSITIVE_INFINITY },
    ];
    expect(findNonFinite({ w, ids, b })).toEqual(want);
    expect(
      findNonFinite(
        new Map([
          ['w', w],
          ['ids', ids],
          ['b', b],
        ]),
      ),
    ).toEqual(want);
    expect(findNonFinite({})).toEqual([]);
    // A record whose tensors are named like ParsedSafetensors members is still a record.
    expect(findNonFinite({ tensor: b, names: w, entries: ids })).toEqual([
      { name: 'tensor', count: 1, first: 0, value: Number.POSITIVE_INFINITY },
      { name: 'names', count: 2, first: 1, value: Number.NaN },
    ]);
  });

  it('agrees with the file written back by serializeSafetensors', () => {
    const rec = {
      w: { dtype: 'float32', shape: [3], data: new Float32Array([0, Number.NaN, Number.NaN]) },
    } as const;
    const bytes = serializeSafetensors(rec);
    expect(findNonFinite(parseSafetensors(bytes))).toEqual(findNonFinite(rec));
  });
});

describe('describeNonFinite', () => {
  it('formats counts and first values on one line', () => {
    expect(describeNonFinite(EXPECTED)).toBe(
      '"half.w" (3 values, first Infinity at index 1), "bf.w" (2 values, first NaN at index 1), ' +
        '"wide.w" (1 value, first -Infinity at index 1)',
    );
    expect(describeNonFinite([])).toBe('');
  });

  it('lists at most 8 tensors, then "and N more"; hostile names stay short and on one line', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({
      name: `t${i}`,
      count: 1,
      first: 0,
      value: Number.NaN,
    }));
    const text = describeNonFinite(many);
    expect(text).toContain('"t7"');
    expect(text).not.toContain('"t8"');
    expect(text.endsWith(' and 3 more')).toBe(true);
    const odd = describeNonFinite([
      { name: `a\nb\u2028c\u0085${'x'.repeat(500)}`, count: 2, first: 5, value: Number.NaN },
    ]);
    expect(odd).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(odd.length).toBeLessThan(120);
    expect(odd).toMatch(/^"a\\nb\\u2028c\\u0085x+\.\.\." \(2 values, first NaN at index 5\)$/);
  });
});

describe("ReadOptions.nonFinite: 'error'", () => {
  it("parses by default ('allow') and names the offending tensors when 'error'", () => {
    expect(parseSafetensors(mixed).names()).toHaveLength(5);
    expect(parseSafetensors(mixed, { nonFinite: 'allow' }).names()).toHaveLength(5);
    const msg = errorOf(() => parseSafetensors(mixed, { nonFinite: 'error' })).message;
    expect(msg).toBe(
      "safetensors: 3 tensors hold NaN/Inf values (nonFinite: 'error'): " +
        '"half.w" (3 values, first Infinity at index 1), "bf.w" (2 values, first NaN at index 1), ' +
        '"wide.w" (1 value, first -Infinity at index 1)',
    );
  });

  it('accepts a clean file, and rejects a single F16 Inf or BF16 NaN', () => {
    const ok = file({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, clean);
    expect(parseSafetensors(ok, { nonFinite: 'error' }).names()).toEqual(['w']);
    const inf = file({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, u16([0x3c00, 0x7c00]));
    expect(errorOf(() => parseSafetensors(inf, { nonFinite: 'error' })).message).toBe(
      'safetensors: 1 tensor holds NaN/Inf values (nonFinite: \'error\'): "w" (1 value, first Infinity at index 1)',
    );
    const nan = file({ b: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, u16([0xffc0]));
    expect(errorOf(() => parseSafetensors(nan, { nonFinite: 'error' })).message).toMatch(
      /1 tensor holds NaN\/Inf values .*"b" \(1 value, first NaN at index 0\)$/,
    );
  });

  it('names at most 8 tensors, then "and N more"', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++)
      header[`blocks.${i}.w`] = { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] };
    const data = new Float32Array(12).fill(Number.NaN);
    const msg = errorOf(() =>
      parseSafetensors(file(header, new Uint8Array(data.buffer)), { nonFinite: 'error' }),
    ).message;
    expect(msg).toMatch(/^safetensors: 12 tensors hold NaN\/Inf values/);
    expect(msg).toContain('"blocks.7.w"');
    expect(msg).not.toContain('"blocks.8.w"');
    expect(msg.endsWith(' and 4 more')).toBe(true);
    expect(msg).not.toMatch(/\n/);
  });

  it('rejects an unknown nonFinite value', () => {
    expect(
      errorOf(() => parseSafetensors(mixed, { nonFinite: 'warn' as unknown as 'error' })).message,
    ).toMatch(/nonFinite must be 'allow' or 'error', got "warn"/);
  });

  it('readSafetensorsFile passes the option and names the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wf-nonfinite-'));
    try {
      const path = join(dir, 'nan.safetensors');
      await writeFile(path, mixed);
      expect((await readSafetensorsFile(path)).names()).toHaveLength(5);
      const err = await readSafetensorsFile(path, { nonFinite: 'error' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toContain(JSON.stringify(path));
      expect((err as Error).message).toMatch(
        /is not a valid safetensors file: 3 tensors hold NaN\/Inf values/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
