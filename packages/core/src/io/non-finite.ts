// NaN/Inf detection in weights: which float tensors of a parsed safetensors file (or of a record or map of
// host tensors) hold NaN or +-Infinity, how many, and where the first one is. The safetensors reader uses
// the raw-bytes scanner here for `ReadOptions.nonFinite: 'error'`; `@wf/models` reports the list on the
// model (or rejects the checkpoint) at load time.

import type { TensorData } from '../ir/types.js';
import type { ParsedSafetensors, SafetensorsDType } from './safetensors.js';

/** One tensor that holds NaN or +-Infinity values, as listed by {@link findNonFinite}. */
export interface NonFiniteTensor {
  /** The tensor's name. */
  name: string;
  /** How many of its elements are NaN, Infinity or -Infinity. */
  count: number;
  /** Flat (row-major) index of the first such element. */
  first: number;
  /** The value of that first element (as decoded to float32): NaN, Infinity or -Infinity. */
  value: number;
}

/** Where a tensor's NaN/Inf values are: the fields of {@link NonFiniteTensor} other than the name. */
export type NonFiniteCount = Omit<NonFiniteTensor, 'name'>;

/** Most tensor names that {@link describeNonFinite} lists before "and N more". */
const MAX_LISTED = 8;

/** Longest tensor name (in UTF-16 units) quoted in full in a message; longer ones are cut with `...`. */
const MAX_NAME_CHARS = 60;

/** Counts the non-finite elements of decoded float32 data; `undefined` when there are none. */
function scanFloat32(data: Float32Array): NonFiniteCount | undefined {
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    // x - x is 0 for every finite x and NaN for NaN and +-Infinity.
    if (x - x !== 0) {
      if (count++ === 0) first = i;
    }
  }
  return count === 0 ? undefined : { count, first, value: data[first] };
}

/**
 * Counts the NaN/Inf elements of one float tensor stored in a safetensors data buffer, reading the raw bits
 * (no decoding, no allocation). F64 values outside the float32 range count as +-Infinity, since that is what
 * the reader decodes them to. Returns `undefined` for integer dtypes and for tensors with only finite values.
 *
 * @param view A view whose byte 0 is the file's byte 0.
 * @param dtype The tensor's element type.
 * @param byteOffset Offset of the tensor's first byte in `view`.
 * @param count Number of elements (already validated to lie inside `view`).
 */
export function scanNonFiniteBytes(
  view: DataView,
  dtype: SafetensorsDType,
  byteOffset: number,
  count: number,
): NonFiniteCount | undefined {
  let n = 0;
  let first = -1;
  let value = 0;
  const hit = (i: number, v: number) => {
    if (n++ === 0) {
      first = i;
      value = v;
    }
  };
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) {
        const bits = view.getUint32(byteOffset + 4 * i, true);
        if ((bits & 0x7f800000) === 0x7f800000) hit(i, view.getFloat32(byteOffset + 4 * i, true));
      }
      break;
    case 'F64':
      for (let i = 0; i < count; i++) {
        const v = Math.fround(view.getFloat64(byteOffset + 8 * i, true));
        if (v - v !== 0) hit(i, v);
      }
      break;
    case 'F16':
    case 'BF16': {
      // Exponent all ones: Inf when the mantissa is 0, NaN otherwise.
      const [expMask, mantMask] = dtype === 'F16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
      for (let i = 0; i < count; i++) {
        const bits = view.getUint16(byteOffset + 2 * i, true);
        if ((bits & expMask) === expMask) {
          hit(i, (bits & mantMask) !== 0 ? Number.NaN : bits & 0x8000 ? -Infinity : Infinity);
        }
      }
      break;
    }
    default:
      return undefined;
  }
  return n === 0 ? undefined : { count: n, first, value };
}

/** True for a parsed safetensors file (as opposed to a record of host tensors). */
function isParsed(source: unknown): source is ParsedSafetensors {
  const s = source as Partial<ParsedSafetensors>;
  return typeof s.tensor === 'function' && typeof s.names === 'function' && Array.isArray(s.entries);
}

/**
 * Lists the float tensors that hold NaN or +-Infinity: for each, the number of such elements and the index
 * and value of the first. Integer tensors are skipped (and, for a parsed file, not decoded). Tensors come in
 * the source's order; the list is empty when every value is finite.
 *
 * @param source A parsed safetensors file (float tensors are decoded one at a time, as
 *   {@link ParsedSafetensors.tensor} does: F16/BF16/F64 to float32), or host tensors by name.
 * @returns The offending tensors; `[]` when there are none.
 */
export function findNonFinite(
  source: ParsedSafetensors | Readonly<Record<string, TensorData>> | ReadonlyMap<string, TensorData>,
): NonFiniteTensor[] {
  const out: NonFiniteTensor[] = [];
  const add = (name: string, t: TensorData) => {
    if (t.dtype !== 'float32') return;
    const found = scanFloat32(t.data as Float32Array);
    if (found !== undefined) out.push({ name, ...found });
  };
  if (isParsed(source)) {
    for (const e of source.entries) {
      if (e.dtype === 'F32' || e.dtype === 'F64' || e.dtype === 'F16' || e.dtype === 'BF16') {
        add(e.name, source.tensor(e.name));
      }
    }
  } else if (source instanceof Map) {
    for (const [name, t] of source) add(name, t);
  } else {
    const record = source as Readonly<Record<string, TensorData>>;
    for (const name of Object.keys(record)) add(name, record[name]);
  }
  return out;
}

/**
 * Quotes a tensor name for a one-line message: JSON-escaped, with the control characters and line separators
 * that `JSON.stringify` leaves alone (DEL, C1, U+2028/U+2029) escaped too, and cut to at most 64 chars.
 */
function quoteName(name: string): string {
  const cut = name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS - 3)}...` : name;
  const q = JSON.stringify(cut).replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return q.length > MAX_NAME_CHARS + 4 ? `${q.slice(0, MAX_NAME_CHARS)}..."` : q;
}

/**
 * Formats a list from {@link findNonFinite} for a one-line message: at most 8 tensors, each with its count
 * and first bad value, then `and N more`. Example: `"blocks.0.w" (3 values, first NaN at index 17),
 * "head.b" (1 value, first -Infinity at index 0)`.
 *
 * @param list The offending tensors (empty gives `''`).
 */
export function describeNonFinite(list: readonly NonFiniteTensor[]): string {
  const shown = list.slice(0, MAX_LISTED).map((t) => {
    const values = t.count === 1 ? '1 value' : `${t.count} values`;
    return `${quoteName(t.name)} (${values}, first ${t.value} at index ${t.first})`;
  });
  const more = list.length > MAX_LISTED ? ` and ${list.length - MAX_LISTED} more` : '';
  return `${shown.join(', ')}${more}`;
}
