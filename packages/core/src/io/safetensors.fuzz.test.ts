// Property-based fuzzing of the safetensors reader with fast-check. Valid files are built from random
// tensors of every dtype (zero-size dims, scalars, gaps, any placement order, metadata, odd names), then
// mutated: truncation, the u64 header-length field, byte flips/inserts/deletes, structural header edits
// (offsets, shapes, dtypes, duplicate keys, `__proto__`, non-string metadata) and plain garbage. Every case
// must either parse into a self-consistent result whose decoded values (and NaN/Inf report) match an
// independent decoder here, or fail with a one-line `safetensors: ` SafetensorsError; each case is
// time-bounded and the parse allocates no ArrayBuffer memory beyond the file. The default run counts keep
// `vitest run` to a few seconds; `pnpm fuzz` raises them. The seed is fixed locally and fresh in every CI
// run (see fuzzParams in @wf/test-fixtures); a failure's message ends with its replay command,
// `WF_FUZZ_SEED=<seed> WF_FUZZ_RUNS=<runs> pnpm fuzz`. Shape entries and offsets written `-0`, `1.0`, `1e2`
// (equal to valid values once JSON.parse has folded them) must be rejected: the oracle reads their
// spelling from the header text, and one property respells valid files that way.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzParams, withFuzzReplay } from '@wf/test-fixtures';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError } from '../errors.js';
import { yieldToEventLoop } from '../graph/yield.js';
import { seededRandom } from '../ir/random.js';
import type { TensorData } from '../ir/types.js';
import { findNonFinite, type NonFiniteTensor } from './non-finite.js';
import {
  type ParsedSafetensors,
  parseSafetensors,
  readSafetensorsFile,
  type SafetensorsDType,
  serializeSafetensors,
  tensorsToRecord,
} from './safetensors.js';

// ---------------------------------------------------------------------------------------------------------
// Limits asserted by every property.

/** Most milliseconds the reader may spend on one case (parse, every decode, the NaN/Inf scans). */
const CASE_MS = 200;
/**
 * Most milliseconds `readSafetensorsFile` may take on one case. It waits for file I/O (libuv's thread
 * pool), which a loaded machine delays far more than computing: at seed 20261127 three reads in a row of
 * one small file each took 300 ms or more while a compiler ran on both cores. This bound catches a read
 * that hangs; the parse's own time is bounded by {@link CASE_MS} in every other property.
 */
const FILE_CASE_MS = 2000;
/** Longest accepted error message (the `nonFinite: 'error'` list of up to 8 names has its own bound). */
const MAX_MESSAGE = 300;
/** Bound of the `nonFinite: 'error'` message: 8 quoted names (each at most 64 chars) and their counts. */
const MAX_NON_FINITE_MESSAGE = 1024;
/** ArrayBuffer memory the parse may allocate beyond the file's size. */
const MEMORY_SLACK = 1 << 20;

/** Test timeout for a property of `runs` cases (generous: `pnpm fuzz` runs 20,000 of each). */
function timeoutFor(runs: number): number {
  return 20_000 + 10 * runs;
}

const DTYPES: readonly SafetensorsDType[] = [
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'BOOL',
];
const SIZE: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const isFloat = (d: SafetensorsDType) => d === 'F64' || d === 'F32' || d === 'F16' || d === 'BF16';

/** What the properties saw, printed at the end (how many cases parsed, were rejected, decoded). */
const stats = new Map<string, { cases: number; parsed: number; rejected: number; decoded: number }>();
function stat(property: string) {
  let s = stats.get(property);
  if (s === undefined) {
    s = { cases: 0, parsed: 0, rejected: 0, decoded: 0 };
    stats.set(property, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// The oracle: a SafetensorsError of the promised form, or a self-consistent parse with correct values.

/** Fails unless `err` is a one-line SafetensorsError starting with `safetensors: ` and shorter than `max`. */
function expectReaderError(err: unknown, max = MAX_MESSAGE): void {
  if (!(err instanceof SafetensorsError)) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`expected a SafetensorsError, got ${what}`);
  }
  const m = err.message;
  if (!m.startsWith('safetensors: ')) throw new Error(`message does not start with "safetensors: ": ${m}`);
  // One line: no control character (newline, carriage return, NEL, ...) and no Unicode line separator.
  if (/[\p{Cc}\u2028\u2029]/u.test(m)) throw new Error(`message is not one line: ${JSON.stringify(m)}`);
  if (m.length >= max) throw new Error(`message is ${m.length} chars (limit ${max}): ${m.slice(0, 400)}`);
  if (err.code !== 'E_SAFETENSORS') throw new Error(`code is ${err.code}`);
}

/**
 * Fails when reading `input` again takes `ms` or more, every time of {@link RETIMES}: called when one case
 * took too long. A slow case on a loaded machine (another process on the core, a GC pause) is timed again;
 * a case that is slow by nature (super-linear work) stays slow. Found at seed 778: a valid 54-byte file
 * "took" 334 ms while other processes shared the two cores.
 */
function expectFastOnRetime(what: string, ms: number, input: Uint8Array | ArrayBuffer): void {
  const times: number[] = [ms];
  for (let i = 0; i < RETIMES; i++) {
    const t0 = performance.now();
    readEverything(input);
    times.push(performance.now() - t0);
    if (times[times.length - 1] < CASE_MS) {
      stat('retimed').cases++;
      return;
    }
  }
  throw new Error(`${what} took ${times.map((t) => t.toFixed(1)).join(', ')} ms (limit ${CASE_MS} ms)`);
}

/** Times a case is read again after it took too long (see {@link expectFastOnRetime}). */
const RETIMES = 2;

/** What one case makes the reader do: parse, decode each tensor and the record, both NaN/Inf scans. */
function readEverything(input: Uint8Array | ArrayBuffer): void {
  let parsed: ParsedSafetensors;
  try {
    parsed = parseSafetensors(input);
  } catch {
    return;
  }
  for (const name of parsed.names()) {
    try {
      parsed.tensor(name);
    } catch {}
  }
  try {
    tensorsToRecord(parsed);
  } catch {}
  findNonFinite(parsed);
  try {
    parseSafetensors(input, { nonFinite: 'error' });
  } catch {}
}

/** Runs `fn`, adding its duration to `clock.ms`. */
function timed<T>(clock: { ms: number }, fn: () => T): T {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    clock.ms += performance.now() - t0;
  }
}

/** Value of an IEEE half-precision number, computed independently of the reader. */
function refF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Value of a bfloat16 number: its bits are the top half of a float32 (big-endian scratch, host-neutral). */
const bf16Scratch = new DataView(new ArrayBuffer(4));
function refBF16(h: number): number {
  bf16Scratch.setUint32(0, h * 0x10000);
  return bf16Scratch.getFloat32(0);
}

/** Independent decoding of one tensor from the file's bytes: the values, or `'range'` for an I64 not in int32. */
function refDecode(
  file: Uint8Array,
  dtype: SafetensorsDType,
  off: number,
  count: number,
): number[] | 'range' {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64':
        out[i] = Math.fround(v.getFloat64(off + 8 * i, true));
        break;
      case 'F32':
        out[i] = v.getFloat32(off + 4 * i, true);
        break;
      case 'F16':
        out[i] = refF16(v.getUint16(off + 2 * i, true));
        break;
      case 'BF16':
        out[i] = refBF16(v.getUint16(off + 2 * i, true));
        break;
      case 'I64': {
        const x = v.getBigInt64(off + 8 * i, true);
        if (x < -(2n ** 31n) || x >= 2n ** 31n) return 'range';
        out[i] = Number(x);
        break;
      }
      case 'I32':
        out[i] = v.getInt32(off + 4 * i, true);
        break;
      case 'I16':
        out[i] = v.getInt16(off + 2 * i, true);
        break;
      case 'I8':
        out[i] = v.getInt8(off + i);
        break;
      case 'U8':
        out[i] = v.getUint8(off + i);
        break;
      case 'BOOL':
        out[i] = v.getUint8(off + i) !== 0 ? 1 : 0;
        break;
    }
  }
  return out;
}

/** The NaN/Inf report expected for decoded float values, or undefined when they are all finite. */
function refNonFinite(name: string, values: readonly number[]): NonFiniteTensor | undefined {
  let count = 0;
  let first = -1;
  values.forEach((x, i) => {
    if (!Number.isFinite(x) && count++ === 0) first = i;
  });
  return count === 0 ? undefined : { name, count, first, value: values[first] };
}

/** Compares decoded data with reference values element by element (NaN equals NaN, -0 is not 0). */
function expectSameValues(what: string, got: ArrayLike<number>, want: readonly number[]): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} elements, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

/** A JSON string or number token (the header is valid JSON here, so this regex tokenizes it). */
const JSON_STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
/** Prefix of the strings that stand for number tokens in {@link expectPlainSpellings}. */
const NUMBER_MARK = '#number:';

/**
 * Fails unless every shape entry and data offset of an accepted file is written as plain digits in the
 * header text (`JSON.parse` folds `-0`, `1.0` and `1e2` into values that look valid). Independent of the
 * reader's scan: every number token is turned into a marked string, and `JSON.parse` (last duplicate wins,
 * as for the reader) then gives each value's spelling.
 */
function expectPlainSpellings(file: Uint8Array, dataStart: number): void {
  const text = new TextDecoder().decode(file.subarray(8, dataStart));
  const marked = text.replace(JSON_STRING_OR_NUMBER, (tok) =>
    tok.startsWith('"') ? tok : JSON.stringify(NUMBER_MARK + tok),
  );
  const header = JSON.parse(marked) as Record<string, unknown>;
  for (const name of Object.keys(header)) {
    if (name === '__metadata__') continue;
    const entry = Object.getOwnPropertyDescriptor(header, name)?.value as Record<string, unknown>;
    for (const field of ['shape', 'data_offsets']) {
      const values = (Object.getOwnPropertyDescriptor(entry, field)?.value ?? []) as string[];
      for (const v of values) {
        const written = v.slice(NUMBER_MARK.length);
        if (!/^(?:0|[1-9]\d*)$/.test(written)) {
          throw new Error(`accepted tensor ${JSON.stringify(name)} whose ${field} has ${written}`);
        }
      }
    }
  }
}

/** What a property may additionally know about a file: the exact result of a valid one. */
interface Expected {
  names: string[];
  entries: { dtype: SafetensorsDType; shape: number[]; begin: number }[];
  metadata: [string, string][];
  dataStart: number;
}

/**
 * The oracle of every property. Parses `input` (the file is `file`, maybe given as an ArrayBuffer or a
 * view at an offset); on success checks the result's self-consistency, decodes every tensor with
 * `tensor()` and `tensorsToRecord()` against {@link refDecode}, and checks {@link findNonFinite} and
 * `nonFinite: 'error'` against the reference. On failure checks the error. Returns whether it parsed.
 */
function checkFile(
  property: string,
  file: Uint8Array,
  expected?: Expected,
  input: Uint8Array | ArrayBuffer = file,
): boolean {
  const s = stat(property);
  s.cases++;
  const clock = { ms: 0 };
  let parsed: ParsedSafetensors;
  // The parse may not allocate ArrayBuffer memory beyond the file's size, whatever the header claims.
  const before = process.memoryUsage().arrayBuffers;
  const memoryCheck = () => {
    const grew = process.memoryUsage().arrayBuffers - before;
    if (grew >= file.byteLength + MEMORY_SLACK) throw new Error(`parse allocated ${grew} bytes`);
  };
  try {
    parsed = timed(clock, () => parseSafetensors(input));
    memoryCheck();
  } catch (err) {
    memoryCheck();
    expectReaderError(err);
    if (clock.ms >= CASE_MS) expectFastOnRetime('rejecting', clock.ms, input);
    if (expected !== undefined) throw err;
    s.rejected++;
    return false;
  }
  s.parsed++;

  // Self-consistency of the header.
  const size = file.byteLength;
  const headerLength = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  const names = parsed.names();
  expect(names).toEqual(parsed.entries.map((e) => e.name));
  expect(new Set(names).size).toBe(names.length);
  for (const e of parsed.entries) {
    expect(DTYPES).toContain(e.dtype);
    let count = 1;
    for (const d of e.shape) {
      expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
      count *= d;
    }
    expect(e.byteLength).toBe(count * SIZE[e.dtype]);
    expect(e.byteOffset).toBeGreaterThanOrEqual(dataStart);
    expect(e.byteOffset + e.byteLength).toBeLessThanOrEqual(size);
    expect(parsed.has(e.name)).toBe(true);
  }
  const ranges = parsed.entries.filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < ranges.length; i++) {
    expect(ranges[i].byteOffset).toBeGreaterThanOrEqual(ranges[i - 1].byteOffset + ranges[i - 1].byteLength);
  }
  expectPlainSpellings(file, dataStart);
  expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype);
  for (const k of Object.keys(parsed.metadata)) {
    expect(typeof Object.getOwnPropertyDescriptor(parsed.metadata, k)?.value).toBe('string');
  }

  if (expected !== undefined) {
    expect(names).toEqual(expected.names);
    expect(dataStart).toBe(expected.dataStart);
    parsed.entries.forEach((e, i) => {
      expect(e.dtype).toBe(expected.entries[i].dtype);
      expect(e.shape).toEqual(expected.entries[i].shape);
      expect(e.byteOffset).toBe(dataStart + expected.entries[i].begin);
    });
    expect(Object.keys(parsed.metadata).sort()).toEqual(expected.metadata.map(([k]) => k).sort());
    for (const [k, v] of expected.metadata) {
      expect(Object.getOwnPropertyDescriptor(parsed.metadata, k)?.value).toBe(v);
    }
  }

  // Decoding: each tensor against the reference, or a SafetensorsError exactly when an I64 is out of range.
  const refs = new Map<string, number[] | 'range'>();
  const refList: NonFiniteTensor[] = [];
  let anyRange = false;
  for (const e of parsed.entries) {
    const ref = refDecode(file, e.dtype, e.byteOffset, e.byteLength / SIZE[e.dtype]);
    refs.set(e.name, ref);
    let t: TensorData;
    try {
      t = timed(clock, () => parsed.tensor(e.name));
    } catch (err) {
      expectReaderError(err);
      if (ref !== 'range') throw err;
      anyRange = true;
      continue;
    }
    if (ref === 'range') throw new Error(`tensor ${JSON.stringify(e.name)}: an out-of-range I64 decoded`);
    s.decoded++;
    expect(t.shape).toEqual(e.shape);
    expect(t.dtype).toBe(isFloat(e.dtype) ? 'float32' : 'int32');
    expect(t.data).toBeInstanceOf(isFloat(e.dtype) ? Float32Array : Int32Array);
    expectSameValues(`tensor ${JSON.stringify(e.name)} (${e.dtype})`, t.data, ref);
    if (isFloat(e.dtype)) {
      const bad = refNonFinite(e.name, ref);
      if (bad !== undefined) refList.push(bad);
    }
  }
  let record: Record<string, TensorData> | undefined;
  try {
    record = timed(clock, () => tensorsToRecord(parsed));
  } catch (err) {
    expectReaderError(err);
    if (!anyRange) throw err;
  }
  if (record !== undefined) {
    if (anyRange) throw new Error('tensorsToRecord decoded an out-of-range I64');
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.keys(record).sort()).toEqual([...names].sort());
    for (const name of names) {
      const t = Object.getOwnPropertyDescriptor(record, name)?.value as TensorData;
      expectSameValues(`record ${JSON.stringify(name)}`, t.data, refs.get(name) as number[]);
    }
  }

  // NaN/Inf: the report from decoded values, the raw-bits scan of `nonFinite: 'error'`, and the record scan.
  const list = timed(clock, () => findNonFinite(parsed));
  expect(list.length).toBe(refList.length);
  list.forEach((got, i) => {
    const want = refList[i];
    expect([got.name, got.count, got.first]).toEqual([want.name, want.count, want.first]);
    expect(Object.is(got.value, want.value)).toBe(true);
  });
  if (record !== undefined) expect(findNonFinite(record).length).toBe(list.length);
  let strictOk = true;
  try {
    timed(clock, () => parseSafetensors(input, { nonFinite: 'error' }));
  } catch (err) {
    expectReaderError(err, MAX_NON_FINITE_MESSAGE);
    strictOk = false;
  }
  expect(strictOk).toBe(list.length === 0);

  if (clock.ms >= CASE_MS) expectFastOnRetime('reading one case', clock.ms, input);
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Valid files: random tensors of every dtype, laid out with gaps in any order, with metadata.

/** A deterministic PRNG (mulberry32) for tensor bytes: a case is its seed, so counterexamples stay small. */
const prng = seededRandom;

/** How tensor bytes are drawn: raw random bits, floats kept finite, or NaN/Inf sprinkled in. */
type ValueMode = 'raw' | 'finite' | 'special';

/** NaN/Inf bit patterns (little-endian bytes written by `setSpecial`) of each float dtype. */
function setSpecial(v: DataView, at: number, dtype: SafetensorsDType, which: number): void {
  const k = which % 4;
  if (dtype === 'F16') v.setUint16(at, [0x7c00, 0xfc00, 0x7e00, 0x7c01][k], true);
  else if (dtype === 'BF16') v.setUint16(at, [0x7f80, 0xff80, 0x7fc0, 0x7f81][k], true);
  else if (dtype === 'F32') v.setUint32(at, [0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001][k], true);
  // F64: 1e300 is finite in the file but overflows to Infinity as float32, which is what the reader yields.
  else if (dtype === 'F64') v.setFloat64(at, [Infinity, -Infinity, Number.NaN, -1e300][k], true);
}

/** The bytes of one tensor of `count` elements. */
function tensorBytes(dtype: SafetensorsDType, count: number, seed: number, mode: ValueMode): Uint8Array {
  const size = SIZE[dtype];
  const out = new Uint8Array(count * size);
  const v = new DataView(out.buffer);
  const rnd = prng(seed);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    for (let b = 0; b < size; b++) out[at + b] = Math.floor(rnd() * 256);
    // Mostly int32-range I64 values (sign-extended), so that most I64 tensors decode.
    if (dtype === 'I64' && (mode !== 'raw' || rnd() < 0.9))
      v.setInt32(at + 4, v.getInt32(at, true) >> 31, true);
    if (isFloat(dtype)) {
      // The most significant byte holds the sign and the top exponent bits: clearing the top exponent bit
      // keeps every float format finite.
      if (mode === 'finite') out[at + size - 1] &= 0xbf;
      else if (mode === 'special' && rnd() < 0.25) setSpecial(v, at, dtype, Math.floor(rnd() * 4));
    }
  }
  return out;
}

/** Tensor names: short strings, any code points (lone surrogates too), names that are special in JS. */
const nameArb = fc
  .oneof(
    { weight: 5, arbitrary: fc.string({ maxLength: 10 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'prototype',
        '0',
        '1',
        '42',
        '4294967295',
        '-1',
        '',
        'blocks.0.attn.qkv.weight',
        'a"b\\c',
        '\u2028',
        '\ud800',
        'line\nbreak',
      ),
    },
    { weight: 2, arbitrary: fc.nat(100).map(String) },
    { weight: 1, arbitrary: fc.string({ minLength: 100, maxLength: 300 }) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom('\n', '\r', '\u0000', '"', '\\', '\u2028', '\u2029', '\u0085', 'x'),
        maxLength: 120,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom('\u0085', '\u2028', '\u007f', '\u009f'),
        minLength: 40,
        maxLength: 80,
      }),
    },
  )
  .filter((n) => n !== '__metadata__');

interface TensorSpec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  seed: number;
  mode: ValueMode;
  /** Placement key: tensors are laid out in the data buffer sorted by it (then by header position). */
  place: number;
  /** Unused bytes before the tensor. */
  gap: number;
}

const tensorSpecArb: fc.Arbitrary<TensorSpec> = fc.record({
  name: nameArb,
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.nat(4), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant<number[]>([]) },
    { weight: 1, arbitrary: fc.nat(300).map((n) => [n]) },
  ),
  seed: fc.integer(),
  mode: fc.constantFrom<ValueMode>('raw', 'finite', 'special'),
  place: fc.nat(8),
  gap: fc.oneof(fc.constant(0), fc.nat(9)),
});

interface FileSpec {
  tensors: TensorSpec[];
  /** Metadata pairs (`__proto__` included), or undefined for no `__metadata__`. */
  metadata: [string, string][] | undefined;
  /** Position of `__metadata__` among the header's keys. */
  metaAt: number;
  /** Whitespace before the header's `{`, and the number of spaces after its `}`. */
  lead: string;
  pad: number;
  /** Unused bytes after the last tensor. */
  tail: number;
}

const metaKeyArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', '0', 'format'),
);
const fileSpecArb: fc.Arbitrary<FileSpec> = fc.record({
  tensors: fc.uniqueArray(tensorSpecArb, { selector: (t) => t.name, maxLength: 6 }),
  metadata: fc.option(
    fc.uniqueArray(fc.tuple(metaKeyArb, fc.string({ maxLength: 12 })), {
      selector: (p) => p[0],
      maxLength: 4,
    }),
    { nil: undefined },
  ),
  metaAt: fc.nat(6),
  lead: fc.constantFrom('', ' ', '\n', '\t\r\n '),
  pad: fc.nat(9),
  tail: fc.oneof(fc.constant(0), fc.nat(16)),
});

/** A JSON text written verbatim into a header (numbers such as `1e400`, `-0`, `8.0`, escaped keys). */
class Raw {
  constructor(readonly text: string) {}
}
/** A JSON object kept as a list of pairs, so that order, duplicates and `__proto__` keys survive. */
class Obj {
  constructor(public pairs: [string | Raw, unknown][]) {}
  get(key: string): unknown {
    return this.pairs.find(([k]) => k === key)?.[1];
  }
  set(key: string, value: unknown): void {
    const p = this.pairs.find(([k]) => k === key);
    if (p) p[1] = value;
    else this.pairs.push([key, value]);
  }
}

/** Serializes a header value: Obj in pair order, Raw verbatim, anything else as JSON. */
function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.pairs.map(([k, x]) => `${toJson(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

/** A valid file of `spec`: its header (as pairs, for mutation), data buffer and expected parse. */
interface Built {
  header: Obj;
  data: Uint8Array;
  spec: FileSpec;
  begins: number[];
}

function build(spec: FileSpec): Built {
  const counts = spec.tensors.map((t) => t.shape.reduce((a, d) => a * d, 1));
  const order = spec.tensors
    .map((_, i) => i)
    .sort((a, b) => spec.tensors[a].place - spec.tensors[b].place || a - b);
  const begins: number[] = new Array(spec.tensors.length);
  let cursor = 0;
  for (const i of order) {
    begins[i] = cursor + spec.tensors[i].gap;
    cursor = begins[i] + counts[i] * SIZE[spec.tensors[i].dtype];
  }
  const data = new Uint8Array(cursor + spec.tail);
  spec.tensors.forEach((t, i) => {
    data.set(tensorBytes(t.dtype, counts[i], t.seed, t.mode), begins[i]);
  });
  const pairs: [string | Raw, unknown][] = spec.tensors.map((t, i) => [
    t.name,
    new Obj([
      ['dtype', t.dtype],
      ['shape', [...t.shape]],
      ['data_offsets', [begins[i], begins[i] + counts[i] * SIZE[t.dtype]]],
    ]),
  ]);
  if (spec.metadata !== undefined) {
    pairs.splice(Math.min(spec.metaAt, pairs.length), 0, [
      '__metadata__',
      new Obj(spec.metadata.map((p) => [...p])),
    ]);
  }
  return { header: new Obj(pairs), data, spec, begins };
}

/** The file's bytes: u64 length, `lead` + header JSON + `pad` spaces, data. */
function assemble(headerText: string, data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** The bytes of a built (maybe mutated) file. */
function fileOf(b: Built): Uint8Array {
  return assemble(`${b.spec.lead}${toJson(b.header)}${' '.repeat(b.spec.pad)}`, b.data);
}

/** What parsing the unmutated file `file` of `b` must give. */
function expectedOf(b: Built, file: Uint8Array): Expected {
  const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return {
    names: b.spec.tensors.map((t) => t.name),
    entries: b.spec.tensors.map((t, i) => ({ dtype: t.dtype, shape: t.shape, begin: b.begins[i] })),
    metadata: b.spec.metadata ?? [],
    dataStart: 8 + headerLength,
  };
}

/** Valid files. */
const builtArb = fileSpecArb.map(build);

// ---------------------------------------------------------------------------------------------------------
// Mutations.

/** Hostile JSON numbers and values for offsets and dims, written verbatim. */
const hostileNumberArb = fc.oneof(
  fc.constantFrom(
    new Raw('-1'),
    new Raw('-0'),
    new Raw('1.5'),
    new Raw('8.0'),
    new Raw('0.0'),
    new Raw('-0.0'),
    new Raw('-0e0'),
    new Raw('0e0'),
    new Raw('4e0'),
    new Raw('1E1'),
    new Raw('1e+1'),
    new Raw('40e-1'),
    new Raw('0.4e1'),
    new Raw('4.00'),
    new Raw('1e1'),
    new Raw('1e400'),
    new Raw('-1e400'),
    new Raw('9007199254740991'),
    new Raw('9007199254740992'),
    new Raw('9007199254740993'),
    new Raw('18446744073709551615'),
    new Raw('18446744073709551616'),
    new Raw('4294967296'),
    new Raw('1e308'),
    new Raw('5e-324'),
    new Raw('"8"'),
    new Raw('null'),
    new Raw('true'),
    new Raw('[]'),
    new Raw('{}'),
  ),
  fc.integer({ min: -20, max: 10_000 }),
  fc.double(),
);
const hostileJsonArb = fc.oneof(fc.jsonValue({ maxDepth: 2 }), hostileNumberArb, fc.string({ maxLength: 8 }));

type Mutation =
  | {
      kind: 'offsets';
      t: number;
      op: 'reverse' | 'copy' | 'overlap' | 'pastEnd' | 'shift' | 'value';
      k: number;
      v: unknown;
    }
  | {
      kind: 'shape';
      t: number;
      op: 'push' | 'pop' | 'dim' | 'many' | 'huge' | 'value';
      k: number;
      v: unknown;
    }
  | { kind: 'dtype'; t: number; v: unknown }
  | { kind: 'entry'; t: number; v: unknown }
  | { kind: 'field'; t: number; op: 'delete' | 'extra' | 'proto'; k: number; v: unknown }
  | { kind: 'dup'; t: number; at: number; escaped: boolean }
  | { kind: 'rename'; t: number; name: string }
  | { kind: 'meta'; op: 'value' | 'nonString' | 'proto' | 'dup'; v: unknown }
  | { kind: 'proto'; at: number; valid: boolean; v: unknown };

/** Which tensor a mutation targets (modulo the tensor count). */
const tensorIndexArb = fc.nat(7);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('offsets' as const),
    t: tensorIndexArb,
    op: fc.constantFrom('reverse', 'copy', 'overlap', 'pastEnd', 'shift', 'value' as const),
    k: fc.integer({ min: -16, max: 16 }),
    v: fc.oneof(
      fc.tuple(hostileNumberArb, hostileNumberArb),
      hostileJsonArb,
      fc.array(fc.nat(64), { maxLength: 3 }),
    ),
  }),
  fc.record({
    kind: fc.constant('shape' as const),
    t: tensorIndexArb,
    op: fc.constantFrom('push', 'pop', 'dim', 'many', 'huge', 'value' as const),
    k: fc.nat(2000),
    v: fc.oneof(hostileNumberArb, hostileJsonArb),
  }),
  fc.record({
    kind: fc.constant('dtype' as const),
    t: tensorIndexArb,
    v: fc.oneof(
      fc.constantFrom<unknown>(...DTYPES),
      fc.constantFrom<unknown>(
        'F8_E4M3',
        'f32',
        'U16',
        'U32',
        'U64',
        'I4',
        '',
        '__proto__',
        'constructor',
        'toString',
        'valueOf',
      ),
      hostileJsonArb,
    ),
  }),
  fc.record({ kind: fc.constant('entry' as const), t: tensorIndexArb, v: hostileJsonArb }),
  fc.record({
    kind: fc.constant('field' as const),
    t: tensorIndexArb,
    op: fc.constantFrom('delete', 'extra', 'proto' as const),
    k: fc.nat(2),
    v: hostileJsonArb,
  }),
  fc.record({ kind: fc.constant('dup' as const), t: tensorIndexArb, at: fc.nat(8), escaped: fc.boolean() }),
  fc.record({ kind: fc.constant('rename' as const), t: tensorIndexArb, name: nameArb }),
  fc.record({
    kind: fc.constant('meta' as const),
    op: fc.constantFrom('value', 'nonString', 'proto', 'dup' as const),
    v: hostileJsonArb,
  }),
  fc.record({ kind: fc.constant('proto' as const), at: fc.nat(8), valid: fc.boolean(), v: hostileJsonArb }),
);

/** A key written with its first character as a `\u` escape: equal to `key` once parsed. */
function escapedKey(key: string): Raw {
  if (key.length === 0) return new Raw('""');
  const esc = `\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return new Raw(`"${esc}${JSON.stringify(key.slice(1)).slice(1, -1)}"`);
}

/** Applies one mutation to a built file's header (in place). */
function mutate(b: Built, m: Mutation): void {
  const pairs = b.header.pairs;
  const tensorPairs = pairs.filter(([k]) => k !== '__metadata__');
  const pick = (t: number) => tensorPairs[t % Math.max(1, tensorPairs.length)];
  const entryOf = (t: number): Obj | undefined => {
    const v = pick(t)?.[1];
    return v instanceof Obj ? v : undefined;
  };
  const offsetsOf = (o: Obj): [number, number] | undefined => {
    const v = o.get('data_offsets');
    return Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number'
      ? [v[0], v[1]]
      : undefined;
  };
  switch (m.kind) {
    case 'offsets': {
      const e = entryOf(m.t);
      if (!e) return;
      const cur = offsetsOf(e) ?? [0, 0];
      const other = entryOf(m.t + 1);
      const otherOff = other ? (offsetsOf(other) ?? [0, 0]) : [0, 0];
      const len = cur[1] - cur[0];
      // Starts inside the other tensor's range (or at its start when that one is empty).
      const overlapAt = otherOff[0] + (Math.abs(m.k) % Math.max(1, otherOff[1] - otherOff[0]));
      const next: Record<typeof m.op, unknown> = {
        reverse: [cur[1], cur[0]],
        copy: [...otherOff],
        overlap: [overlapAt, overlapAt + len],
        pastEnd: [b.data.length - len + Math.abs(m.k) + 1, b.data.length + Math.abs(m.k) + 1],
        shift: [cur[0] + m.k, cur[1] + m.k],
        value: m.v,
      };
      e.set('data_offsets', next[m.op]);
      return;
    }
    case 'shape': {
      const e = entryOf(m.t);
      if (!e) return;
      const shape = e.get('shape');
      const dims = Array.isArray(shape) ? [...shape] : [];
      if (m.op === 'push') dims.push(m.k % 5);
      else if (m.op === 'pop') dims.pop();
      else if (m.op === 'dim') dims[m.k % Math.max(1, dims.length)] = m.v;
      else if (m.op === 'many') dims.push(...new Array<number>(m.k).fill(1), m.k % 3);
      else if (m.op === 'huge') dims.push(2 ** 40, 2 ** 40, 3);
      e.set('shape', m.op === 'value' ? m.v : dims);
      return;
    }
    case 'dtype':
      entryOf(m.t)?.set('dtype', m.v);
      return;
    case 'entry': {
      const p = pick(m.t);
      if (p) p[1] = m.v;
      return;
    }
    case 'field': {
      const e = entryOf(m.t);
      if (!e) return;
      const field = ['dtype', 'shape', 'data_offsets'][m.k];
      if (m.op === 'delete') e.pairs = e.pairs.filter(([k]) => k !== field);
      else if (m.op === 'extra') e.pairs.push([`x${m.k}`, m.v]);
      else e.pairs.push(['__proto__', m.v instanceof Obj ? m.v : new Obj([[field, m.v]])]);
      return;
    }
    case 'dup': {
      const p = pick(m.t);
      if (!p) return;
      const key = typeof p[0] === 'string' && m.escaped ? escapedKey(p[0]) : p[0];
      pairs.splice(m.at % (pairs.length + 1), 0, [key, p[1]]);
      return;
    }
    case 'rename': {
      const p = pick(m.t);
      if (p) p[0] = m.name;
      return;
    }
    case 'meta': {
      const meta = b.header.get('__metadata__');
      if (m.op === 'value') b.header.set('__metadata__', m.v);
      else if (m.op === 'nonString') {
        const o = meta instanceof Obj ? meta : new Obj([]);
        o.pairs.push([`k${o.pairs.length}`, m.v]);
        b.header.set('__metadata__', o);
      } else if (m.op === 'proto') {
        const o = meta instanceof Obj ? meta : new Obj([]);
        o.pairs.push(['__proto__', typeof m.v === 'string' ? m.v : new Obj([['polluted', 'yes']])]);
        b.header.set('__metadata__', o);
      } else pairs.push(['__metadata__', meta ?? new Obj([])]);
      return;
    }
    case 'proto': {
      const value = m.valid
        ? new Obj([
            ['dtype', 'U8'],
            ['shape', [0]],
            ['data_offsets', [0, 0]],
          ])
        : m.v;
      pairs.splice(m.at % (pairs.length + 1), 0, ['__proto__', value]);
      return;
    }
  }
}

/** A valid file with 1 to 3 structural header mutations applied. */
const mutatedArb = fc
  .tuple(fileSpecArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
  .map(([spec, ms]) => {
    // Built afresh here: fast-check maps a value again while shrinking, and `mutate` edits in place.
    const b = build(spec);
    for (const m of ms) mutate(b, m);
    return fileOf(b);
  });

/** How a respelled shape entry or data offset is written: each equals the plain value once parsed. */
type Spelling = 'fraction' | 'exponent' | 'scaled' | 'leading' | 'minusZero' | 'spaced';
const SPELLINGS: readonly Spelling[] = ['fraction', 'exponent', 'scaled', 'leading', 'minusZero', 'spaced'];

/** `v` (a non-negative integer) written in `style`; `n` varies the digits. Only `spaced` is plain. */
function spell(v: number, style: Spelling, n: number): string {
  const digits = String(v);
  switch (style) {
    case 'fraction':
      return `${digits}.${'0'.repeat(1 + (n % 3))}`;
    case 'exponent':
      return `${digits}${['e0', 'E0', 'e+0', 'E-0', 'e00'][n % 5]}`;
    case 'scaled':
      return v === 0 ? `0e${n % 400}` : `${digits}${'0'.repeat(1 + (n % 3))}e-${1 + (n % 3)}`;
    case 'leading':
      return v === 0 ? '0.0e1' : `0.${digits}e${digits.length}`;
    case 'minusZero':
      return v === 0 ? ['-0', '-0.0', '-0e0', '-0E+5'][n % 4] : `${digits}.0`;
    case 'spaced':
      return `${[' ', '\n', '\t', '\r\n  '][n % 4]}${digits} `;
  }
}

/** One respelling: a shape entry (or, for a scalar, a data offset) of one tensor. */
interface Respell {
  t: number;
  field: 'shape' | 'data_offsets';
  k: number;
  style: Spelling;
  n: number;
}
const respellArb: fc.Arbitrary<Respell> = fc.record({
  t: tensorIndexArb,
  field: fc.constantFrom('shape' as const, 'data_offsets' as const),
  k: fc.nat(3),
  style: fc.constantFrom(...SPELLINGS),
  n: fc.nat(1000),
});

/**
 * A valid file (with at least one tensor) whose shape entries or offsets are respelled; whether any
 * respelling is not plain (then the file must be rejected), and the result expected otherwise.
 */
const respelledArb = fc
  .tuple(
    fileSpecArb.filter((spec) => spec.tensors.length > 0),
    fc.array(respellArb, { minLength: 1, maxLength: 3 }),
  )
  .map(([spec, edits]) => {
    // Built afresh inside the map: fast-check maps a value again while shrinking, so edits must not
    // land on a header object shared with an earlier mapping.
    const b = build(spec);
    let odd = false;
    const tensorPairs = b.header.pairs.filter(([k]) => k !== '__metadata__');
    for (const e of edits) {
      const entry = tensorPairs[e.t % tensorPairs.length][1] as Obj;
      let field: string = e.field;
      let list = entry.get(field) as unknown[];
      if (list.length === 0) {
        field = 'data_offsets';
        list = entry.get(field) as unknown[];
      }
      const at = e.k % list.length;
      const cur = list[at];
      // A value respelled twice keeps its first (odd) spelling.
      if (cur instanceof Raw) continue;
      list[at] = new Raw(spell(cur as number, e.style, e.n));
      if (e.style !== 'spaced') odd = true;
    }
    const file = fileOf(b);
    return { file, odd, expected: expectedOf(b, file) };
  });

/** Byte-level damage of a whole file. */
type ByteEdit =
  | { kind: 'flip'; pos: number; byte: number; inHeader: boolean }
  | { kind: 'insert'; pos: number; bytes: Uint8Array; fixLength: boolean }
  | { kind: 'delete'; pos: number; n: number; fixLength: boolean };

const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), byte: fc.nat(255), inHeader: fc.boolean() }),
  fc.record({
    kind: fc.constant('insert' as const),
    pos: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.constantFrom(...'{}[]",:\\0-.e'.split('').map((c) => new TextEncoder().encode(c))),
    ),
    fixLength: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    pos: fc.nat(),
    n: fc.integer({ min: 1, max: 8 }),
    fixLength: fc.boolean(),
  }),
);

/** Applies byte edits inside the header (or anywhere, for flips), optionally fixing the length field. */
function editBytes(file: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let out = file;
  for (const e of edits) {
    const n = out.length >= 8 ? Number(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true)) : 0;
    const headerEnd = Math.min(out.length, 8 + n);
    if (e.kind === 'flip') {
      out = out.slice();
      const span = e.inHeader ? Math.max(1, headerEnd - 8) : out.length;
      const at = (e.inHeader ? 8 : 0) + (e.pos % span);
      if (at < out.length) out[at] = e.byte;
      continue;
    }
    const at = 8 + (e.pos % Math.max(1, headerEnd - 8 + 1));
    if (at > out.length) continue;
    const delta = e.kind === 'insert' ? e.bytes.length : -Math.min(e.n, out.length - at);
    const next = new Uint8Array(out.length + delta);
    next.set(out.subarray(0, at));
    if (e.kind === 'insert') {
      next.set(e.bytes, at);
      next.set(out.subarray(at), at + e.bytes.length);
    } else next.set(out.subarray(at - delta), at);
    if (e.fixLength && next.length >= 8)
      new DataView(next.buffer).setBigUint64(0, BigInt(Math.max(0, n + delta)), true);
    out = next;
  }
  return out;
}

/** New values of the u64 header-length field: special, random up to 2^64-1, or near the true one. */
type LengthClaim = { abs: bigint } | { rel: number } | { beyond: number };
const lengthClaimArb: fc.Arbitrary<LengthClaim> = fc.oneof(
  fc.record({
    abs: fc.constantFrom(
      0n,
      1n,
      2n,
      7n,
      8n,
      2n ** 31n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n + 1n,
      2n ** 63n,
      2n ** 64n - 1n,
    ),
  }),
  fc.record({ abs: fc.bigInt(0n, 2n ** 64n - 1n) }),
  fc.record({ rel: fc.integer({ min: -24, max: 24 }) }),
  fc.record({ beyond: fc.nat(1 << 20) }),
);

function withLength(file: Uint8Array, claim: LengthClaim): Uint8Array {
  const out = file.slice();
  const v = new DataView(out.buffer);
  const n = v.getBigUint64(0, true);
  let value: bigint;
  if ('abs' in claim) value = claim.abs;
  else if ('rel' in claim) value = n + BigInt(claim.rel);
  else value = BigInt(out.length - 8 + 1 + claim.beyond);
  if (value < 0n) value = 0n;
  v.setBigUint64(0, value, true);
  return out;
}

/** Header texts made of JSON-ish tokens (often invalid JSON), with a correct length prefix. */
const jsonishArb = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        '{',
        '}',
        '[',
        ']',
        '"',
        ':',
        ',',
        '"a"',
        '"dtype"',
        '"F32"',
        '"shape"',
        '"data_offsets"',
        '"__metadata__"',
        '"__proto__"',
        '0',
        '8',
        '-1',
        '1e9',
        'true',
        'null',
        '\\',
        '\\u00',
        ' ',
        '\n',
        '\u2028',
        '\u00e9',
        '\ud83d',
      ),
      { maxLength: 40 },
    ),
    fc.uint8Array({ maxLength: 64 }),
  )
  .map(([tokens, data]) => assemble(tokens.join(''), data));

/** Random JSON object headers, with random entries that are sometimes valid, and random data. */
const randomHeaderArb = fc
  .tuple(
    fc.uniqueArray(
      fc.tuple(
        nameArb,
        fc.oneof(
          // Consistent with its dtype and shape, at a random offset: overlaps and overruns come by chance.
          {
            weight: 4,
            arbitrary: fc
              .tuple(fc.constantFrom(...DTYPES), fc.array(fc.nat(3), { maxLength: 2 }), fc.nat(40))
              .map(([dtype, shape, begin]) => {
                const end = begin + shape.reduce((a, d) => a * d, SIZE[dtype]);
                return new Obj([
                  ['dtype', dtype],
                  ['shape', shape],
                  ['data_offsets', [begin, end]],
                ]);
              }),
          },
          fc.record({
            dtype: fc.oneof(fc.constantFrom<unknown>(...DTYPES), hostileJsonArb),
            shape: fc.oneof(
              fc.array(fc.oneof(fc.nat(4), hostileNumberArb), { maxLength: 3 }),
              hostileJsonArb,
            ),
            data_offsets: fc.oneof(fc.tuple(fc.nat(64), fc.nat(64)), hostileJsonArb),
          }),
          hostileJsonArb,
        ),
      ),
      { selector: (p) => p[0], maxLength: 3 },
    ),
    fc.uint8Array({ maxLength: 128 }),
  )
  .map(([pairs, data]) => assemble(toJson(new Obj(pairs.map(([k, v]) => [k, v]))), data));

// ---------------------------------------------------------------------------------------------------------
// The properties.

/**
 * Runs a property with the suite's fuzz parameters, letting the event loop run every 100 cases: a long
 * synchronous run (`pnpm fuzz`) would otherwise starve vitest's worker RPC, which gives up after a minute.
 */
async function check<T>(arb: fc.Arbitrary<T>, runs: number, predicate: (v: T) => void): Promise<void> {
  let cases = 0;
  await withFuzzReplay(fuzzParams(runs), (params) =>
    fc.assert(
      fc.asyncProperty(arb, async (v) => {
        predicate(v);
        if (++cases % 100 === 0) await yieldToEventLoop();
      }),
      { ...params },
    ),
  );
}

/** Default number of cases of each property in `vitest run` (the whole file stays within a few seconds). */
const RUNS = {
  valid: 250,
  truncated: 250,
  headerLength: 250,
  byteEdits: 300,
  structural: 500,
  garbage: 300,
  memory: 100,
  files: 40,
  respelled: 200,
};

const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();

afterAll(() => {
  // No case may have polluted Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeysBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const rows = [...stats].map(
    ([p, s]) =>
      `${p}: ${s.cases} files, ${s.parsed} parsed, ${s.rejected} rejected, ${s.decoded} tensors decoded`,
  );
  console.log(`safetensors fuzz (seed ${fuzzParams(1).seed}):\n  ${rows.join('\n  ')}`);
});

describe('safetensors reader under fuzzing', () => {
  it(
    'parses every valid file exactly: names in header order, offsets, metadata, decoded values',
    async () => {
      await check(fc.tuple(builtArb, fc.nat(7), fc.boolean()), RUNS.valid, ([b, shift, asArrayBuffer]) => {
        const file = fileOf(b);
        const expected = expectedOf(b, file);
        // Also read through an ArrayBuffer, and at an unaligned offset inside a larger buffer.
        let input: Uint8Array | ArrayBuffer = file;
        if (asArrayBuffer && shift === 0) input = file.slice().buffer;
        else if (shift > 0) {
          const host = new Uint8Array(file.length + shift + 3);
          host.set(file, shift);
          input = host.subarray(shift, shift + file.length);
        }
        checkFile('valid', file, expected, input);
      });
      // The writer's files parse too.
      await check(builtArb, Math.ceil(RUNS.valid / 5), (b) => {
        const file = fileOf(b);
        const parsed = parseSafetensors(file);
        const rec: Record<string, TensorData> = {};
        for (const e of parsed.entries) {
          if (e.dtype !== 'F32' && e.dtype !== 'I32') continue;
          Object.defineProperty(rec, e.name, { value: parsed.tensor(e.name), enumerable: true });
        }
        expect(checkFile('valid (serializeSafetensors)', serializeSafetensors(rec))).toBe(true);
      });
    },
    timeoutFor(fuzzParams(RUNS.valid).numRuns * 2),
  );

  it(
    'rejects (or, past the last tensor, accepts) a valid file truncated at any byte',
    async () => {
      await check(fc.tuple(builtArb, fc.nat()), RUNS.truncated, ([b, cut]) => {
        const file = fileOf(b);
        checkFile('truncated', file.slice(0, cut % file.length));
      });
    },
    timeoutFor(fuzzParams(RUNS.truncated).numRuns),
  );

  it(
    'survives any u64 header-length field: 0, past the end, up to 2^64-1, near the true length',
    async () => {
      await check(fc.tuple(builtArb, lengthClaimArb), RUNS.headerLength, ([b, claim]) => {
        checkFile('header length', withLength(fileOf(b), claim));
      });
    },
    timeoutFor(fuzzParams(RUNS.headerLength).numRuns),
  );

  it(
    'survives byte flips, inserts and deletes in the header (invalid UTF-8 and JSON included)',
    async () => {
      await check(
        fc.tuple(builtArb, fc.array(byteEditArb, { minLength: 1, maxLength: 4 })),
        RUNS.byteEdits,
        ([b, edits]) => {
          checkFile('byte edits', editBytes(fileOf(b), edits));
        },
      );
    },
    timeoutFor(fuzzParams(RUNS.byteEdits).numRuns),
  );

  it(
    'survives structural header edits: offsets, shapes, dtypes, duplicates, __proto__, metadata',
    async () => {
      await check(mutatedArb, RUNS.structural, (file) => {
        checkFile('structural', file);
      });
      const s = stat('structural');
      if (s.cases >= 100) {
        expect(s.parsed).toBeGreaterThan(0);
        expect(s.rejected).toBeGreaterThan(0);
      }
    },
    timeoutFor(fuzzParams(RUNS.structural).numRuns),
  );

  it(
    'rejects shape entries and data_offsets written -0, 1.0, 1e2 and the like (plain digits with spaces parse)',
    async () => {
      await check(respelledArb, RUNS.respelled, ({ file, odd, expected }) => {
        if (!odd) {
          checkFile('respelled', file, expected);
          return;
        }
        let err: unknown;
        try {
          parseSafetensors(file);
        } catch (e) {
          err = e;
        }
        expectReaderError(err);
        expect((err as Error).message).toMatch(/ is written .*; write it as plain digits/);
        const st = stat('respelled');
        st.cases++;
        st.rejected++;
      });
    },
    timeoutFor(fuzzParams(RUNS.respelled).numRuns),
  );

  it(
    'survives garbage: random bytes, JSON-ish token soup, random JSON headers',
    async () => {
      const garbage = fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.tuple(fc.bigInt(0n, 600n), fc.uint8Array({ minLength: 8, maxLength: 512 })).map(([n, bytes]) => {
          new DataView(bytes.buffer).setBigUint64(0, n, true);
          return bytes;
        }),
        jsonishArb,
        randomHeaderArb,
      );
      await check(garbage, RUNS.garbage, (file) => {
        checkFile('garbage', file);
      });
    },
    timeoutFor(fuzzParams(RUNS.garbage).numRuns),
  );

  it(
    'allocates no ArrayBuffer memory beyond the file for headers claiming huge tensors',
    async () => {
      const hugeArb = fc.tuple(
        fc.constantFrom(...DTYPES),
        fc.array(
          fc.oneof(fc.integer({ min: 1, max: 2 ** 26 }), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1)),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.oneof(fc.constant<'claim' | 'small'>('claim'), fc.constant<'claim' | 'small'>('small')),
        fc.uint8Array({ maxLength: 256 }),
        lengthClaimArb,
        fc.boolean(),
      );
      await check(hugeArb, RUNS.memory, ([dtype, shape, offsets, data, claim, badLength]) => {
        const bytes = shape.reduce((a, d) => a * d, SIZE[dtype]);
        const end = offsets === 'claim' ? (Number.isSafeInteger(bytes) ? bytes : 2 ** 53 - 1) : data.length;
        let file = assemble(
          toJson(
            new Obj([
              [
                'big',
                new Obj([
                  ['dtype', dtype],
                  ['shape', shape],
                  ['data_offsets', [0, end]],
                ]),
              ],
            ]),
          ),
          data,
        );
        if (badLength) file = withLength(file, claim);
        const before = process.memoryUsage().arrayBuffers;
        checkFile('memory', file);
        const grew = process.memoryUsage().arrayBuffers - before;
        if (grew >= file.length + MEMORY_SLACK)
          throw new Error(`parse allocated ${grew} bytes for a ${file.length}-byte file`);
      });
    },
    timeoutFor(fuzzParams(RUNS.memory).numRuns),
  );

  it('parses copy-free: a 32 MiB F32 file costs no ArrayBuffer memory, its tensor is a view', () => {
    const n = 8 << 20;
    const file = serializeSafetensors({
      w: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(0.5) },
    });
    const before = process.memoryUsage().arrayBuffers;
    const parsed = parseSafetensors(file);
    const w = parsed.tensor('w');
    parseSafetensors(file, { nonFinite: 'error' }); // the raw-bits scan allocates nothing either
    const grew = process.memoryUsage().arrayBuffers - before;
    expect(grew).toBeLessThan(MEMORY_SLACK);
    expect(w.data.buffer).toBe(file.buffer);
    expect(w.data.length).toBe(n);
  });

  describe('readSafetensorsFile on mutated files', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'wf-st-fuzz-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it(
      'gives the parse result for the bytes, or a one-line SafetensorsError naming the path',
      async () => {
        const fileArb = fc.oneof(
          mutatedArb,
          fc.tuple(builtArb, fc.nat()).map(([b, cut]) => {
            const f = fileOf(b);
            return f.slice(0, cut % (f.length + 1));
          }),
          builtArb.map(fileOf),
        );
        await withFuzzReplay(fuzzParams(RUNS.files), (params) =>
          fc.assert(
            fc.asyncProperty(fileArb, async (bytes) => {
              const s = stat('readSafetensorsFile');
              s.cases++;
              const path = join(dir, 'case.safetensors');
              await writeFile(path, bytes);
              let want: ParsedSafetensors | SafetensorsError;
              try {
                want = parseSafetensors(bytes);
              } catch (err) {
                expectReaderError(err);
                want = err as SafetensorsError;
              }
              const t0 = performance.now();
              const got = await readSafetensorsFile(path).catch((err: unknown) => err);
              // Timed again when slow, as in expectFastOnRetime, against the I/O bound FILE_CASE_MS.
              let took = performance.now() - t0;
              for (let i = 0; i < RETIMES && took >= FILE_CASE_MS; i++) {
                const t1 = performance.now();
                await readSafetensorsFile(path).catch(() => undefined);
                took = performance.now() - t1;
              }
              if (took >= FILE_CASE_MS) throw new Error(`readSafetensorsFile took ${took.toFixed(1)} ms`);
              if (want instanceof SafetensorsError) {
                s.rejected++;
                expectReaderError(got, MAX_MESSAGE + path.length + 40);
                const m = (got as SafetensorsError).message;
                expect(m).toBe(
                  `safetensors: ${JSON.stringify(path)} is not a valid safetensors file: ${want.message.slice(13)}`,
                );
              } else {
                s.parsed++;
                expect(got).not.toBeInstanceOf(Error);
                const parsed = got as ParsedSafetensors;
                expect(parsed.entries).toEqual(want.entries);
                expect(parsed.metadata).toEqual(want.metadata);
              }
            }),
            { ...params },
          ),
        );
      },
      timeoutFor(fuzzParams(RUNS.files).numRuns * 5),
    );
  });
});
