// Safetensors reading and writing for @wf/core: parses and validates the header (hostile input fails with a
// SafetensorsError, never hangs and never allocates more than the file), decodes tensors to the IR's host
// tensors (float32 / int32), and serializes host tensors back to the format. Browser-safe: the file helpers
// load `node:fs/promises` lazily.
//
// Format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON header
// `{ "__metadata__"?: { [k: string]: string }, [name]: { dtype, shape, data_offsets: [begin, end] } }`,
// then the data buffer; offsets are relative to the start of the data buffer. Data is little-endian.

import { SafetensorsError } from '../errors.js';
import type { TensorData } from '../ir/types.js';
import { describeNonFinite, type NonFiniteTensor, scanNonFiniteBytes } from './non-finite.js';

/** Element types of the safetensors format that this reader understands. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor described by a safetensors header. */
export interface SafetensorsEntry {
  /** The tensor's name (its key in the header). */
  name: string;
  /** Element type as stored in the file. */
  dtype: SafetensorsDType;
  /** Shape, outermost axis first; `[]` for a scalar. */
  shape: number[];
  /**
   * Offset of the tensor's first byte from the start of the file (header included), i.e.
   * `8 + headerLength + data_offsets[0]`.
   */
  byteOffset: number;
  /** Number of bytes the tensor takes in the file (`data_offsets[1] - data_offsets[0]`). */
  byteLength: number;
}

/** A parsed and validated safetensors file. */
export interface ParsedSafetensors {
  /** The header's `__metadata__` map (an empty object when absent). */
  metadata: Record<string, string>;
  /** The tensors, in header order. */
  entries: SafetensorsEntry[];
  /**
   * Decoded tensor: F32 as-is (copy-free when aligned, else copied), F16/BF16/F64 -> float32,
   * I64/I32/I16/I8/U8/BOOL -> int32 (I64 values outside int32 range throw).
   *
   * A copy-free result is a view on the bytes given to the parser: writing to one writes to the other.
   * @throws {SafetensorsError} when there is no tensor of that name, or an I64 value does not fit int32.
   */
  tensor(name: string): TensorData;
  /** True when the file holds a tensor of that name. */
  has(name: string): boolean;
  /** Names of the tensors, in header order. */
  names(): string[];
}

/** Options of the safetensors readers. */
export interface ReadOptions {
  /** Largest header (in bytes) accepted before failing; default 100 MiB. */
  maxHeaderBytes?: number;
  /**
   * What to do with float tensors holding NaN or +-Infinity: `'allow'` (default) reads them as they are
   * (list them with {@link findNonFinite}); `'error'` makes the parse scan every float tensor's raw bits
   * (no decoding) and throw a SafetensorsError naming the offending tensors (at most 8, then "and N more").
   */
  nonFinite?: 'allow' | 'error';
}

/** Default limit on the header's size: 100 MiB, like the reference implementation. */
const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Bytes per element of each safetensors dtype. */
const DTYPE_SIZES: Readonly<Record<SafetensorsDType, number>> = {
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

/** Whether the host stores multi-byte numbers little-endian (so typed-array views read the file directly). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Most tensor names listed in a "no tensor named" message. */
const NAMES_IN_MESSAGE = 8;

/**
 * Escapes the characters that would break a message's line: control characters (C0, DEL, C1) and U+2028 /
 * U+2029. Found by fuzzing: a tensor name holding U+2028 broke the line (`JSON.stringify` leaves U+2028,
 * U+2029, DEL and C1 controls such as NEL unescaped), and so did V8's `JSON.parse` messages, which quote the
 * header text around the error raw (U+2028, newlines and all).
 */
function escapeLineBreaks(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Throws a SafetensorsError whose message starts with `safetensors: ` and is one line. */
function fail(message: string): never {
  throw new SafetensorsError(`safetensors: ${escapeLineBreaks(message)}`);
}

/**
 * Formats a JSON value briefly for an error message: bounded depth and width, so hostile values stay cheap,
 * and at most 80 chars once line breaks are escaped (escaping after the cut could make it 6 times longer).
 */
function brief(value: unknown, depth = 0): string {
  let s: string;
  if (Array.isArray(value)) {
    if (depth >= 2) return '[...]';
    const items = value.slice(0, 8).map((v: unknown) => brief(v, depth + 1));
    s = `[${items.join(',')}${value.length > 8 ? ',...' : ''}]`;
  } else if (typeof value === 'object' && value !== null) {
    if (depth >= 2) return '{...}';
    const keys = Object.keys(value);
    const items = keys
      .slice(0, 4)
      .map((k) => `${JSON.stringify(k)}:${brief((value as Record<string, unknown>)[k], depth + 1)}`);
    s = `{${items.join(',')}${keys.length > 4 ? ',...' : ''}}`;
  } else if (typeof value === 'string') {
    s = JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  } else {
    s = String(value);
  }
  s = escapeLineBreaks(s);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Quotes a tensor or metadata name for an error message, cut when long (see {@link brief}). Names come from
 * the file and may be any length: found by fuzzing, quoting them whole (and listing a shape's dims whole)
 * let a long name or a 1,000-dim shape make a message of any length.
 */
function quoteName(name: string): string {
  return brief(name);
}

/** Sets `obj[key] = value` as an own property, even for a key such as `__proto__`. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** True for a plain JSON object (not null, not an array). */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `value` is one of the supported dtype names. */
function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZES, value);
}

/**
 * Returns the top-level keys of a JSON object text already accepted by `JSON.parse`, in text order and with
 * repeats (which `JSON.parse` silently drops, keeping the last value). One linear scan over the text.
 *
 * The reader takes tensor order from here rather than from `Object.keys`: found by fuzzing, `Object.keys`
 * lists integer-like keys (`"0"`, `"42"`) first in numeric order, so `names()` and `entries` were not in
 * header order for such names.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (depth === 1 && expectKey) {
        keys.push(escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i));
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/** Deepest nesting of objects and arrays accepted in a header (a valid one needs 3). */
const MAX_HEADER_DEPTH = 64;

/**
 * True when the JSON text nests objects/arrays deeper than `limit` (strings are skipped). A linear pre-scan
 * that keeps hostile headers such as `[[[[...` from reaching `JSON.parse`, which is slow on them.
 */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** A plain JSON integer: digits only, no sign, fraction or exponent, no leading zero. */
const PLAIN_INTEGER = /^(?:0|[1-9][0-9]*)$/;

/**
 * Spellings of the numbers that are not plain digits (see {@link PLAIN_INTEGER}) in the `shape` and
 * `data_offsets` arrays of each tensor, by tensor name, field and array index (only tensors with such a
 * number are listed). The duplicate-key rule is `JSON.parse`'s: the last occurrence of a field counts.
 */
type OddSpellings = Map<string, Map<string, Map<number, string>>>;

/**
 * Finds the shape and offset numbers of a header text (already accepted by `JSON.parse`) that are written
 * with a sign, a fraction or an exponent. One linear scan.
 *
 * Found by fuzzing at a new seed: `JSON.parse` folds `-0`, `1.0` and `1e2` into numbers that pass every
 * value check (`-0` is a non-negative safe integer), so `"shape":[-0]` gave a shape holding `-0` and a
 * `byteLength` of `-0`. The reference implementation (serde_json into `usize`) rejects every such spelling,
 * so the reader decides from the text.
 */
function oddNumberSpellings(text: string): OddSpellings {
  const out: OddSpellings = new Map();
  const n = text.length;
  let i = 0;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  /** Skips the string at `i`; returns whether it holds an escape. */
  const skipString = (): boolean => {
    let escaped = false;
    for (i++; i < n; i++) {
      const d = text.charCodeAt(i);
      if (d === 0x5c /* \ */) {
        escaped = true;
        i++;
      } else if (d === 0x22 /* " */) break;
    }
    i++;
    return escaped;
  };
  const readString = (): string => {
    const start = i;
    const escaped = skipString();
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
  };
  /** Reads a number or literal token (everything up to a delimiter or whitespace). */
  const readToken = (): string => {
    const start = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
        break;
      i++;
    }
    return text.slice(start, i);
  };
  const skipValue = () => {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      skipString();
      return;
    }
    if (c !== 0x7b /* { */ && c !== 0x5b /* [ */) {
      readToken();
      return;
    }
    let depth = 0;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x22) {
        skipString();
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) depth--;
      i++;
      if (depth === 0) return;
    }
  };
  /** Skips whitespace and one comma after a member or element. */
  const next = () => {
    ws();
    if (text.charCodeAt(i) === 0x2c) i++;
    ws();
  };

  ws();
  if (text.charCodeAt(i) !== 0x7b) return out;
  i++;
  ws();
  while (i < n && text.charCodeAt(i) !== 0x7d) {
    const name = readString();
    ws();
    i++; // ':'
    ws();
    if (text.charCodeAt(i) === 0x7b) {
      const fields = new Map<string, Map<number, string>>();
      i++;
      ws();
      while (i < n && text.charCodeAt(i) !== 0x7d) {
        const field = readString();
        ws();
        i++; // ':'
        ws();
        const watched = field === 'shape' || field === 'data_offsets';
        if (watched) fields.delete(field);
        if (watched && text.charCodeAt(i) === 0x5b) {
          const odd = new Map<number, string>();
          i++;
          ws();
          for (let k = 0; i < n && text.charCodeAt(i) !== 0x5d; k++) {
            const c = text.charCodeAt(i);
            if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
              const token = readToken();
              if (!PLAIN_INTEGER.test(token)) odd.set(k, token);
            } else skipValue();
            next();
          }
          i++; // ']'
          if (odd.size > 0) fields.set(field, odd);
        } else skipValue();
        next();
      }
      i++; // '}'
      if (fields.size > 0) out.set(name, fields);
      else out.delete(name);
    } else {
      out.delete(name);
      skipValue();
    }
    next();
  }
  return out;
}

/** A number's spelling for an error message, cut when long. */
function spelling(token: string): string {
  return token.length > 24 ? `${token.slice(0, 21)}...` : token;
}

/** Converts the bits of an IEEE half-precision number to the bits of the equal float32. */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf / NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // +-0
  // Subnormal: value = mant * 2^-24; normalize so the leading 1 lands on bit 10.
  let e = 1;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | ((e + 112) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Validated header of one tensor, with absolute file offsets. */
interface ValidEntry extends SafetensorsEntry {
  /** Number of elements. */
  count: number;
}

/**
 * Checks one header entry and returns it with absolute offsets; `dataLength` is the data buffer's size and
 * `odd` the entry's shape and offset numbers not written as plain digits (see {@link oddNumberSpellings}).
 */
function validateEntry(
  name: string,
  raw: unknown,
  dataStart: number,
  dataLength: number,
  odd: Map<string, Map<number, string>> | undefined,
): ValidEntry {
  const what = `tensor ${quoteName(name)}`;
  if (!isJsonObject(raw))
    fail(`${what} must be an object with dtype, shape and data_offsets, got ${brief(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDType(dtype)) {
    fail(`${what} has unknown dtype ${brief(dtype)} (supported: ${Object.keys(DTYPE_SIZES).join(', ')})`);
  }
  if (!Array.isArray(shape)) fail(`${what} has shape ${brief(shape)}, which is not an array`);
  for (const [i, d] of (shape as unknown[]).entries()) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      // The value only when short: name, shape and value at 80 chars each made a message over 300 (fuzzing).
      const v = brief(d);
      fail(
        `${what} has shape ${brief(shape)}: dimension ${i}${v.length <= 24 ? ` (${v})` : ''} ` +
          'is not a non-negative safe integer',
      );
    }
    const written = odd?.get('shape')?.get(i);
    if (written !== undefined) {
      fail(
        `${what} has shape ${brief(shape)}: dimension ${i} is written ${spelling(written)}; ` +
          'write it as plain digits (no sign, fraction or exponent)',
      );
    }
  }
  const dims = shape as number[];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o: unknown) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`${what} has data_offsets ${brief(offsets)}, expected two non-negative safe integers [begin, end]`);
  }
  for (const [k, written] of odd?.get('data_offsets') ?? []) {
    fail(
      `${what} has data_offsets ${brief(offsets)}: ${k === 0 ? 'begin' : 'end'} is written ` +
        `${spelling(written)}; write it as plain digits (no sign, fraction or exponent)`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${what} has data_offsets [${begin},${end}] with begin > end`);
  if (end > dataLength) {
    fail(`${what} has data_offsets [${begin},${end}] past the end of the data buffer (${dataLength} bytes)`);
  }
  // Element count, stopping once it cannot match (keeps hostile shapes cheap and exact).
  let count = 1;
  let overflow = false;
  if (!dims.includes(0)) {
    for (const d of dims) {
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER) {
        overflow = true;
        break;
      }
    }
  } else {
    count = 0;
  }
  const elemBytes = DTYPE_SIZES[dtype];
  const needed = count * elemBytes;
  if (overflow || needed !== end - begin) {
    const needs =
      overflow || !Number.isSafeInteger(needed) ? `more than ${Number.MAX_SAFE_INTEGER}` : `${needed}`;
    fail(
      `${what} has data_offsets [${begin},${end}] but shape ${brief(dims)} x ${dtype} needs ${needs} bytes`,
    );
  }
  return { name, dtype, shape: [...dims], byteOffset: dataStart + begin, byteLength: end - begin, count };
}

/** Rejects two tensors whose (non-empty) byte ranges overlap. */
function checkOverlaps(entries: readonly ValidEntry[], dataStart: number): void {
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
      const range = (e: ValidEntry) =>
        `[${e.byteOffset - dataStart},${e.byteOffset - dataStart + e.byteLength}]`;
      fail(
        `tensors ${quoteName(prev.name)} ${range(prev)} and ${quoteName(cur.name)} ${range(cur)} ` +
          'have overlapping data_offsets',
      );
    }
  }
}

/** Copies `len` bytes at `offset` of `bytes` into a fresh (hence aligned) ArrayBuffer. */
function copyBytes(bytes: Uint8Array, offset: number, len: number): ArrayBuffer {
  const out = new Uint8Array(len);
  out.set(bytes.subarray(offset, offset + len));
  return out.buffer;
}

/** Decodes one validated tensor of `bytes` (the whole file) to host tensor data. */
function decode(bytes: Uint8Array, view: DataView, e: ValidEntry): TensorData {
  const { count, byteOffset: off, byteLength: len } = e;
  const shape = [...e.shape];
  const aligned = (bytes.byteOffset + off) % 4 === 0;
  switch (e.dtype) {
    case 'F32': {
      if (HOST_LITTLE_ENDIAN) {
        const data = aligned
          ? new Float32Array(bytes.buffer, bytes.byteOffset + off, count)
          : new Float32Array(copyBytes(bytes, off, len));
        return { dtype: 'float32', shape, data };
      }
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(off + 4 * i, true);
      return { dtype: 'float32', shape, data };
    }
    case 'I32': {
      if (HOST_LITTLE_ENDIAN) {
        const data = aligned
          ? new Int32Array(bytes.buffer, bytes.byteOffset + off, count)
          : new Int32Array(copyBytes(bytes, off, len));
        return { dtype: 'int32', shape, data };
      }
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(off + 4 * i, true);
      return { dtype: 'int32', shape, data };
    }
    case 'F64': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(off + 8 * i, true);
      return { dtype: 'float32', shape, data };
    }
    case 'F16': {
      const data = new Float32Array(count);
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) bits[i] = f16BitsToF32Bits(view.getUint16(off + 2 * i, true));
      return { dtype: 'float32', shape, data };
    }
    case 'BF16': {
      const data = new Float32Array(count);
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(off + 2 * i, true) << 16;
      return { dtype: 'float32', shape, data };
    }
    case 'I64': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = view.getInt32(off + 8 * i, true);
        const hi = view.getInt32(off + 8 * i + 4, true);
        if (hi !== lo >> 31) {
          const v = view.getBigInt64(off + 8 * i, true);
          fail(`tensor ${quoteName(e.name)} (I64) element ${i} = ${v} is outside the int32 range`);
        }
        data[i] = lo;
      }
      return { dtype: 'int32', shape, data };
    }
    case 'I16': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(off + 2 * i, true);
      return { dtype: 'int32', shape, data };
    }
    case 'I8': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt8(off + i);
      return { dtype: 'int32', shape, data };
    }
    case 'U8': {
      const data = new Int32Array(count);
      data.set(bytes.subarray(off, off + count));
      return { dtype: 'int32', shape, data };
    }
    case 'BOOL': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = bytes[off + i] !== 0 ? 1 : 0;
      return { dtype: 'int32', shape, data };
    }
  }
}

/** Views the input as bytes, accepting typed arrays and buffers from other realms too. */
function toBytes(bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = Object.prototype.toString.call(bytes);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(bytes as ArrayBufferLike);
  }
  fail(`expected a Uint8Array or ArrayBuffer, got ${tag}`);
}

/**
 * Parses and validates a safetensors file held in memory. The header is checked in full (sizes, dtypes,
 * shapes, offsets, overlaps); tensors are decoded lazily by {@link ParsedSafetensors.tensor}.
 *
 * @param bytes The whole file. Aligned F32/I32 tensors are returned as views on it, so keep it unmodified.
 * @param options Limits; see {@link ReadOptions}.
 * @throws {SafetensorsError} when the file is truncated, malformed or inconsistent.
 */
export function parseSafetensors(
  bytes: Uint8Array | ArrayBuffer,
  options: ReadOptions = {},
): ParsedSafetensors {
  const u8 = toBytes(bytes);
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (typeof maxHeaderBytes !== 'number' || !(maxHeaderBytes > 0)) {
    fail(`maxHeaderBytes must be a positive number, got ${brief(maxHeaderBytes)}`);
  }
  const nonFinite = options.nonFinite ?? 'allow';
  if (nonFinite !== 'allow' && nonFinite !== 'error') {
    fail(`nonFinite must be 'allow' or 'error', got ${brief(nonFinite)}`);
  }
  const size = u8.byteLength;
  if (size < 8) fail(`file is ${size} bytes, shorter than the 8-byte header length`);
  const view = new DataView(u8.buffer, u8.byteOffset, size);
  const headerLength64 = view.getBigUint64(0, true);
  if (headerLength64 === 0n) fail('header length is 0');
  if (headerLength64 > BigInt(size - 8)) {
    fail(`header length ${headerLength64} past end of file (${size} bytes)`);
  }
  const headerLength = Number(headerLength64);
  if (headerLength > maxHeaderBytes) {
    fail(`header length ${headerLength} exceeds maxHeaderBytes (${maxHeaderBytes})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = size - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, dataStart));
  } catch {
    fail(`header (${headerLength} bytes) is not valid UTF-8`);
  }
  if (nestsDeeperThan(text, MAX_HEADER_DEPTH)) fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isJsonObject(header)) fail(`header must be a JSON object, got ${brief(header)}`);

  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) fail(`header has duplicate key ${quoteName(key)}`);
    seen.add(key);
  }

  const metadata: Record<string, string> = {};
  const rawMeta = header.__metadata__;
  if (Object.hasOwn(header, '__metadata__')) {
    if (!isJsonObject(rawMeta)) fail(`__metadata__ must be an object of strings, got ${brief(rawMeta)}`);
    for (const [k, v] of Object.entries(rawMeta)) {
      if (typeof v !== 'string') {
        fail(`__metadata__ must be an object of strings, but key ${quoteName(k)} is ${brief(v)}`);
      }
      setOwn(metadata, k, v);
    }
  }

  const odd = oddNumberSpellings(text);
  const entries: ValidEntry[] = [];
  const byName = new Map<string, ValidEntry>();
  for (const name of keys) {
    if (name === '__metadata__') continue;
    const entry = validateEntry(name, header[name], dataStart, dataLength, odd.get(name));
    entries.push(entry);
    byName.set(name, entry);
  }
  checkOverlaps(entries, dataStart);
  if (nonFinite === 'error') {
    const bad: NonFiniteTensor[] = [];
    for (const e of entries) {
      const found = scanNonFiniteBytes(view, e.dtype, e.byteOffset, e.count);
      if (found !== undefined) bad.push({ name: e.name, ...found });
    }
    if (bad.length > 0) {
      const tensors = bad.length === 1 ? '1 tensor holds' : `${bad.length} tensors hold`;
      fail(`${tensors} NaN/Inf values (nonFinite: 'error'): ${describeNonFinite(bad)}`);
    }
  }

  const publicEntries: SafetensorsEntry[] = entries.map(({ name, dtype, shape, byteOffset, byteLength }) => ({
    name,
    dtype,
    shape: [...shape],
    byteOffset,
    byteLength,
  }));

  return {
    metadata,
    entries: publicEntries,
    tensor(name: string): TensorData {
      const entry = byName.get(name);
      if (entry === undefined) {
        const all = [...byName.keys()];
        const listed = all.slice(0, NAMES_IN_MESSAGE).map(quoteName);
        if (all.length > NAMES_IN_MESSAGE) listed.push('...');
        fail(
          `no tensor named ${quoteName(name)} (the file has ${all.length} tensors` +
            `${all.length > 0 ? `: ${listed.join(', ')}` : ''})`,
        );
      }
      return decode(u8, view, entry);
    },
    has(name: string): boolean {
      return byName.has(name);
    },
    names(): string[] {
      return entries.map((e) => e.name);
    },
  };
}

/** Describes an I/O failure: the Node error code (ENOENT, EISDIR, ...) and its message. */
function ioReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Reads and parses a safetensors file (Node only; `node:fs/promises` is loaded on demand).
 *
 * @param path File path.
 * @param options Limits; see {@link ReadOptions}.
 * @throws {SafetensorsError} naming the path and the reason (ENOENT, ...) when the file cannot be read,
 *   or when it is malformed.
 */
export async function readSafetensorsFile(path: string, options?: ReadOptions): Promise<ParsedSafetensors> {
  let bytes: Uint8Array;
  try {
    const fs = await import('node:fs/promises');
    bytes = await fs.readFile(path);
  } catch (err) {
    fail(`cannot read file ${JSON.stringify(path)}: ${ioReason(err)}`);
  }
  try {
    return parseSafetensors(bytes, options);
  } catch (err) {
    if (!(err instanceof SafetensorsError)) throw err;
    fail(
      `${JSON.stringify(path)} is not a valid safetensors file: ${err.message.replace(/^safetensors: /, '')}`,
    );
  }
}

/**
 * Parses a safetensors file given as bytes, or reads it first when given a path (Node only).
 *
 * @param source A file path, or the file's bytes (a Node `Buffer` is a `Uint8Array`).
 * @param options Limits; see {@link ReadOptions}.
 * @throws {SafetensorsError} when the file cannot be read or is malformed.
 */
export async function loadSafetensors(
  source: string | Uint8Array | ArrayBuffer,
  options?: ReadOptions,
): Promise<ParsedSafetensors> {
  if (typeof source === 'string') return readSafetensorsFile(source, options);
  return parseSafetensors(source, options);
}

/**
 * Serializes host tensors to a safetensors file: float32 as F32, int32 as I32, in the record's key order,
 * the header padded with spaces to a multiple of 8 bytes so that every tensor is 4-byte aligned.
 *
 * @param tensors Tensors by name (`__metadata__` is reserved).
 * @param metadata Optional string-to-string metadata, stored as `__metadata__`.
 * @returns The file's bytes.
 * @throws {SafetensorsError} when a tensor's data does not match its shape or dtype, or metadata is not strings.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorData>,
  metadata?: Record<string, string>,
): Uint8Array {
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        fail(`metadata value for ${JSON.stringify(k)} must be a string, got ${brief(v)}`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const items: { t: TensorData; begin: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const what = `cannot serialize tensor ${JSON.stringify(name)}`;
    if (name === '__metadata__') fail(`${what}: the name is reserved for metadata`);
    const shape = [...t.shape];
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${what}: shape ${brief(shape)} is not a list of non-negative integers`);
    }
    const st = t.dtype === 'float32' ? 'F32' : t.dtype === 'int32' ? 'I32' : undefined;
    if (st === undefined) fail(`${what}: unsupported dtype ${brief(t.dtype)}`);
    const expected = st === 'F32' ? 'Float32Array' : 'Int32Array';
    if (Object.prototype.toString.call(t.data) !== `[object ${expected}]`) {
      fail(`${what}: dtype ${t.dtype} needs a ${expected}, got ${Object.prototype.toString.call(t.data)}`);
    }
    const count = shape.reduce((a, d) => a * d, 1);
    if (t.data.length !== count) {
      fail(`${what}: shape [${shape.join(',')}] needs ${count} elements, data has ${t.data.length}`);
    }
    const begin = offset;
    offset += t.data.byteLength;
    items.push({ t, begin });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${st}","shape":${JSON.stringify(shape)},"data_offsets":[${begin},${offset}]}`,
    );
  }
  const headerBytes = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(headerBytes.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.length, 8 + headerLength);
  const dataStart = 8 + headerLength;
  for (const { t, begin } of items) {
    const at = dataStart + begin;
    if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else if (t.dtype === 'float32') {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setInt32(at + 4 * i, t.data[i], true);
    }
  }
  return out;
}

/**
 * Serializes host tensors (see {@link serializeSafetensors}) and writes them to a file (Node only).
 *
 * @param path File path; an existing file is replaced.
 * @param tensors Tensors by name.
 * @param metadata Optional string-to-string metadata.
 * @throws {SafetensorsError} when the tensors are invalid or the file cannot be written (naming the path).
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, TensorData>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  try {
    const fs = await import('node:fs/promises');
    await fs.writeFile(path, bytes);
  } catch (err) {
    fail(`cannot write file ${JSON.stringify(path)}: ${ioReason(err)}`);
  }
}

/**
 * Decodes every tensor of a parsed file into a record keyed by name, in header order (except that, as in
 * any JavaScript object, integer-like names such as `"0"` come first; `parsed.names()` keeps header order).
 *
 * @throws {SafetensorsError} when a tensor cannot be decoded (an I64 value outside int32).
 */
export function tensorsToRecord(parsed: ParsedSafetensors): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const name of parsed.names()) setOwn(out, name, parsed.tensor(name));
  return out;
}
