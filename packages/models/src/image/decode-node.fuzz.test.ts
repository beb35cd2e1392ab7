// Fuzz tests of PNG / JPEG decoding (fast-check). Valid images are made with pngjs's and jpeg-js's
// encoders and with a small hand-written PNG encoder (palette, 1/2/4-bit samples, tRNS, Adam7 interlacing,
// all five row filters, split IDAT chunks), then decoded and compared pixel for pixel with the encoder's
// input; then they are damaged (truncated, bytes flipped, overwritten, inserted and deleted, chunk lengths and
// CRCs corrupted, header sizes rewritten) and the decoder must either return a consistent RGBA image that the
// preprocessing accepts or throw a WfError with a one-line message, within a bounded time. Headers past the
// pixel limit must fail from the header alone, at once and without allocating.
//
// `vitest run` uses the small default run counts below (the file takes a few seconds); `pnpm fuzz` sets
// WF_FUZZ_RUNS. The seed is fixed locally and fresh in every CI run (fuzzParams in @wf/test-fixtures); a
// failure's message ends with its replay command, `WF_FUZZ_SEED=<seed> WF_FUZZ_RUNS=<runs> pnpm fuzz`.

import { crc32, deflateSync } from 'node:zlib';
import { WfError } from '@wf/core';
import { fuzzParams, pngChunk, withFuzzReplay } from '@wf/test-fixtures';
import fc from 'fast-check';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, decodeImage, readImageHeader } from './decode-node.js';
import { imageToTensor, preprocessImageNet, preprocessMnistImage, type RgbaImage } from './preprocess.js';

/** Longest a single decode may take (generous: the suite may share a loaded machine). */
const CASE_MS = 3000;
/** Longest a decode that the header alone must reject (over the pixel limit) may take. */
const HEADER_MS = 250;

/** Test timeout for `runs` cases of at most a few milliseconds each, and never under a minute. */
function timeoutFor(runs: number): number {
  return Math.max(60_000, runs * 25);
}

// ---------------------------------------------------------------------------------------------------------
// Checks

/** Fails unless `e` is a WfError with a code and a short one-line message. */
function expectTypedError(e: unknown): asserts e is WfError {
  if (!(e instanceof WfError)) {
    throw new Error(`untyped error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  expect(e.code).toMatch(/^E_[A-Z_]+$/);
  expect(e.message.length).toBeGreaterThan(0);
  expect(e.message.length).toBeLessThan(300);
  expect(e.message).not.toMatch(/[\r\n]/);
}

/** Fails unless `img` is a well-formed RGBA image within the pixel limit that the preprocessing accepts. */
function expectUsableImage(img: RgbaImage, maxPixels: number): void {
  expect(Number.isInteger(img.width) && img.width >= 1).toBe(true);
  expect(Number.isInteger(img.height) && img.height >= 1).toBe(true);
  expect(img.width * img.height).toBeLessThanOrEqual(maxPixels);
  expect(img.data).toBeInstanceOf(Uint8Array);
  expect(img.data.length).toBe(img.width * img.height * 4);
  for (const t of [
    preprocessImageNet(img, 8),
    imageToTensor(img, { size: [3, 5], channels: 1 }),
    preprocessMnistImage(img),
  ]) {
    expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    for (const v of t.data) if (!Number.isFinite(v)) throw new Error(`non-finite tensor value ${v}`);
  }
}

/**
 * Lets the event loop run once every 100 cases. A property runs synchronously from start to end otherwise,
 * and with the long runs of `pnpm fuzz` that starves vitest's worker RPC, which gives up after a minute.
 */
let casesSinceYield = 0;
async function breathe(): Promise<void> {
  if (++casesSinceYield % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Decodes `bytes`: returns the image when decoding succeeds (after checking it), undefined when it throws
 * (after checking the error); either way within {@link CASE_MS}.
 */
function decodeChecked(bytes: Uint8Array, maxPixels: number): RgbaImage | undefined {
  const t0 = performance.now();
  let img: RgbaImage | undefined;
  try {
    img = decodeImage(bytes, { maxPixels });
  } catch (e) {
    expectTypedError(e);
  }
  expectFast(performance.now() - t0, CASE_MS, () => {
    try {
      decodeImage(bytes, { maxPixels });
    } catch {}
  });
  if (img) expectUsableImage(img, maxPixels);
  return img;
}

/** Times a slow case is run again before its time bound fails it (see {@link expectFast}). */
const RETIMES = 2;

/**
 * Fails unless a case that took `ms` runs under `limit` ms, now or when `again` is timed up to
 * {@link RETIMES} more times: a busy machine (another process on the core, a GC pause) is given another
 * try, an input that is slow by nature stays slow.
 */
function expectFast(ms: number, limit: number, again: () => void): void {
  const times = [ms];
  while (times[times.length - 1] >= limit && times.length <= RETIMES) {
    const t0 = performance.now();
    again();
    times.push(performance.now() - t0);
  }
  if (times[times.length - 1] >= limit) {
    throw new Error(`took ${times.map((t) => t.toFixed(1)).join(', ')} ms (limit ${limit} ms)`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// PNG encoding

const chunk = pngChunk;

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const IEND = chunk('IEND', new Uint8Array(0));

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const dv = new DataView(d.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

/** PNG color types and the bit depths each allows. */
const DEPTHS: Record<PngColorType, readonly PngDepth[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const CHANNELS: Record<PngColorType, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
type PngColorType = 0 | 2 | 3 | 4 | 6;
type PngDepth = 1 | 2 | 4 | 8 | 16;

/** A PNG to encode: samples (palette indices for color type 3) plus the optional chunks. */
interface PngSpec {
  width: number;
  height: number;
  colorType: PngColorType;
  depth: PngDepth;
  /** `width * height * channels` samples, each below `2 ** depth` (below the palette size for type 3). */
  samples: number[];
  /** Palette (type 3): RGB triples. */
  palette: [number, number, number][];
  /** tRNS: type 0 the gray key, type 2 the RGB key, type 3 alpha per palette entry (maybe fewer). */
  trns?: number[];
  interlace: boolean;
  /** Row filter types (0..4), used in turn row after row. */
  filters: number[];
  /** How many IDAT chunks the compressed data is split into (at least 1). */
  idatParts: number;
  /** A tEXt chunk before the image data. */
  text: boolean;
}

/** The RGBA pixels a decoder must return for `spec` (Pillow's `convert('RGBA')`: tRNS only zeroes alpha). */
function expectedRgba(spec: PngSpec): Uint8Array {
  const { width, height, colorType, depth, samples, palette, trns } = spec;
  const max = 2 ** depth - 1;
  const scale = (v: number): number => Math.floor((v * 255) / max + 0.5);
  const nch = CHANNELS[colorType];
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = samples.slice(i * nch, i * nch + nch);
    let px: number[];
    if (colorType === 3) px = [...palette[s[0]], trns?.[s[0]] ?? 255];
    else if (colorType === 0) px = [scale(s[0]), scale(s[0]), scale(s[0]), trns?.[0] === s[0] ? 0 : 255];
    else if (colorType === 4) px = [scale(s[0]), scale(s[0]), scale(s[0]), scale(s[1])];
    else if (colorType === 2) {
      const keyed = trns?.every((t, c) => t === s[c]) ?? false;
      px = [scale(s[0]), scale(s[1]), scale(s[2]), keyed ? 0 : 255];
    } else px = s.map(scale);
    out.set(px, i * 4);
  }
  return out;
}

/** Packs one row of samples into bytes: MSB first below 8 bits, big-endian at 16. */
function packRow(samples: number[], depth: PngDepth): Uint8Array {
  if (depth === 16) {
    const out = new Uint8Array(samples.length * 2);
    for (const [i, v] of samples.entries()) out.set([v >> 8, v & 0xff], 2 * i);
    return out;
  }
  if (depth === 8) return Uint8Array.from(samples);
  const out = new Uint8Array(Math.ceil((samples.length * depth) / 8));
  for (const [i, v] of samples.entries()) {
    const bit = i * depth;
    out[bit >> 3] |= v << (8 - depth - (bit & 7));
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters a row with filter type `f` (PNG spec section 9); `prev` is the previous raw row (zeros first). */
function filterRow(f: number, row: Uint8Array, prev: Uint8Array, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = f;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
    out[i + 1] = (row[i] - pred) & 0xff;
  }
  return out;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/**
 * Encodes `spec` by hand: every color type and bit depth, tRNS, interlacing, all filters, split IDAT.
 * `editRaw` may change the filtered scanlines before compression (to make the image data short or long).
 */
function encodePngByHand(spec: PngSpec, editRaw?: (raw: Uint8Array) => Uint8Array): Uint8Array {
  const { width, height, colorType, depth, samples, interlace, filters } = spec;
  const nch = CHANNELS[colorType];
  const bpp = Math.max(1, (nch * depth) >> 3);
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1]];
  const raw: Uint8Array[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const xs: number[] = [];
    for (let x = x0; x < width; x += dx) xs.push(x);
    if (xs.length === 0) continue;
    let prev: Uint8Array | undefined;
    for (let y = y0; y < height; y += dy) {
      const row = packRow(
        xs.flatMap((x) => samples.slice((y * width + x) * nch, (y * width + x + 1) * nch)),
        depth,
      );
      prev ??= new Uint8Array(row.length);
      raw.push(filterRow(filters[rowIndex++ % filters.length], row, prev, bpp));
      prev = row;
    }
  }
  const all = Uint8Array.from(Buffer.concat(raw));
  const z = deflateSync(editRaw ? editRaw(all) : all);
  const parts: Uint8Array[] = [];
  const step = Math.ceil(z.length / spec.idatParts);
  for (let i = 0; i < z.length; i += step) parts.push(chunk('IDAT', z.subarray(i, i + step)));
  const extra: Uint8Array[] = [];
  if (spec.text) extra.push(chunk('tEXt', new TextEncoder().encode('Comment\0made by the fuzz test')));
  if (colorType === 3) extra.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.trns) {
    const t = spec.trns;
    extra.push(chunk('tRNS', colorType === 3 ? Uint8Array.from(t) : packRow(t, 16)));
  }
  return concat(
    SIGNATURE,
    ihdr(width, height, depth, colorType, interlace ? 1 : 0),
    ...extra,
    ...parts,
    IEND,
  );
}

/** Encodes `spec` (color types 0, 2, 4, 6 at 8 or 16 bits, no tRNS) with pngjs's encoder. */
function encodePngjs(spec: PngSpec): Uint8Array {
  const { colorType, depth } = spec;
  if (colorType === 3 || (depth !== 8 && depth !== 16)) {
    throw new Error(`pngjs cannot encode color type ${colorType} at ${depth} bits`);
  }
  const png = new PNG({ width: spec.width, height: spec.height });
  // pngjs takes 16-bit input as native-endian uint16.
  png.data =
    spec.depth === 16
      ? Buffer.from(Uint16Array.from(spec.samples).buffer)
      : Buffer.from(Uint8Array.from(spec.samples));
  return Uint8Array.from(PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth: depth }));
}

/** A valid PNG description: any color type and bit depth, 1..20 x 1..20 pixels. */
function pngSpecArb(opts: { byHand: boolean }): fc.Arbitrary<PngSpec> {
  const formats: [PngColorType, PngDepth][] = [];
  for (const ct of [0, 2, 3, 4, 6] as const) {
    for (const d of DEPTHS[ct]) if (opts.byHand || (ct !== 3 && d >= 8)) formats.push([ct, d]);
  }
  return fc
    .record({
      width: fc.integer({ min: 1, max: 20 }),
      height: fc.integer({ min: 1, max: 20 }),
      format: fc.constantFrom(...formats),
      paletteSize: fc.integer({ min: 1, max: 256 }),
      withTrns: opts.byHand ? fc.boolean() : fc.constant(false),
    })
    .chain(({ width, height, format: [colorType, depth], paletteSize, withTrns }) => {
      const n = width * height * CHANNELS[colorType];
      const top = colorType === 3 ? Math.min(paletteSize, 2 ** depth) - 1 : 2 ** depth - 1;
      const sample = fc.integer({ min: 0, max: top });
      const byte = fc.integer({ min: 0, max: 255 });
      const trnsArb: fc.Arbitrary<number[] | undefined> = !withTrns
        ? fc.constant(undefined)
        : colorType === 3
          ? fc.array(byte, { minLength: 1, maxLength: paletteSize })
          : colorType === 0 || colorType === 2
            ? fc.array(sample, { minLength: CHANNELS[colorType], maxLength: CHANNELS[colorType] })
            : fc.constant(undefined);
      return fc.record({
        width: fc.constant(width),
        height: fc.constant(height),
        colorType: fc.constant(colorType),
        depth: fc.constant(depth),
        // Sometimes all one value, so that a tRNS key matches many pixels.
        samples: fc.oneof(
          fc.array(sample, { minLength: n, maxLength: n }),
          sample.map((v) => new Array<number>(n).fill(v)),
        ),
        palette: fc.array(fc.tuple(byte, byte, byte), { minLength: paletteSize, maxLength: paletteSize }),
        trns: trnsArb,
        interlace: opts.byHand ? fc.boolean() : fc.constant(false),
        filters: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
        idatParts: fc.integer({ min: 1, max: 3 }),
        text: fc.boolean(),
      });
    });
}

// ---------------------------------------------------------------------------------------------------------
// JPEG encoding

interface JpegSpec {
  width: number;
  height: number;
  quality: number;
  /** Base color and per-pixel gradients of a smooth image (JPEG keeps those close). */
  base: [number, number, number];
  gx: number;
  gy: number;
}

function jpegPixels(s: JpegSpec): Uint8Array {
  const data = new Uint8Array(s.width * s.height * 4);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const i = (y * s.width + x) * 4;
      for (let c = 0; c < 3; c++) {
        data[i + c] = Math.min(255, Math.max(0, s.base[c] + (c === 1 ? -1 : 1) * s.gx * x + s.gy * y));
      }
      data[i + 3] = 255;
    }
  }
  return data;
}

function encodeJpegSpec(s: JpegSpec): Uint8Array {
  return Uint8Array.from(
    encodeJpeg({ width: s.width, height: s.height, data: jpegPixels(s) }, s.quality).data,
  );
}

/**
 * The JPEGs the properties start from. jpeg-js builds its encoder tables on every call (a few hundred
 * milliseconds), so rather than one encoding per case there is a fixed pool, encoded once: 1x1, single rows
 * and columns, odd sizes that do not fill the 8x8 blocks, and the whole quality range.
 */
const JPEG_POOL_SPECS: JpegSpec[] = [
  [1, 1, 75],
  [1, 9, 100],
  [9, 1, 1],
  [3, 5, 50],
  [8, 8, 10],
  [13, 17, 90],
  [16, 16, 30],
  [17, 9, 60],
  [33, 40, 85],
].map(([width, height, quality], i) => ({
  width,
  height,
  quality,
  base: [(i * 97) % 256, (i * 41 + 60) % 256, 255 - ((i * 23) % 256)],
  gx: (i % 5) - 2,
  gy: 2 - (i % 3),
}));

let jpegPool: { spec: JpegSpec; bytes: Uint8Array }[] = [];

beforeAll(() => {
  jpegPool = JPEG_POOL_SPECS.map((spec) => ({ spec, bytes: encodeJpegSpec(spec) }));
}, 120_000);

// ---------------------------------------------------------------------------------------------------------
// Mutations

/** Interesting values for a 32-bit size or length field. */
const u32Arb = fc.oneof(
  fc.constantFrom(0, 1, 2, 13, 255, 256, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff),
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const pos = fc.nat();
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 16 });

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'append'; bytes: Uint8Array }
  /** PNG: the length field of the `index`-th chunk. */
  | { kind: 'chunkLength'; index: number; value: number }
  /** PNG: a byte inside the `index`-th chunk, then its CRC recomputed (so the damage gets past the CRC). */
  | { kind: 'chunkByte'; index: number; at: number; value: number }
  /** PNG: IHDR width or height, CRC recomputed. */
  | { kind: 'ihdrSize'; field: 0 | 1; value: number }
  /** PNG: IHDR bit depth, color type or a method byte, CRC recomputed. */
  | { kind: 'ihdrByte'; offset: number; value: number }
  /** PNG: every chunk's CRC recomputed (after byte-level damage). */
  | { kind: 'fixCrcs' }
  /** JPEG: the length field of the `index`-th marker segment. */
  | { kind: 'segmentLength'; index: number; value: number }
  /** JPEG: the frame header's width or height. */
  | { kind: 'sofSize'; field: 0 | 1; value: number }
  /** JPEG: a marker (0xFF, code) inserted. */
  | { kind: 'marker'; at: number; code: number };

const byteMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: pos }),
  fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: pos,
    remove: fc.integer({ min: 0, max: 24 }),
    insert: fc.uint8Array({ maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('append' as const), bytes: smallBytes }),
);

const pngMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  byteMutationArb,
  fc.record({ kind: fc.constant('chunkLength' as const), index: fc.nat({ max: 8 }), value: u32Arb }),
  fc.record({
    kind: fc.constant('chunkByte' as const),
    index: fc.nat({ max: 8 }),
    at: pos,
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('ihdrSize' as const),
    field: fc.constantFrom(0 as const, 1 as const),
    value: u32Arb,
  }),
  fc.record({
    kind: fc.constant('ihdrByte' as const),
    offset: fc.integer({ min: 8, max: 12 }),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 6, 8, 16), fc.integer({ min: 0, max: 255 })),
  }),
  fc.constant({ kind: 'fixCrcs' as const }),
);

const jpegMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  byteMutationArb,
  fc.record({ kind: fc.constant('segmentLength' as const), index: fc.nat({ max: 10 }), value: u32Arb }),
  fc.record({
    kind: fc.constant('sofSize' as const),
    field: fc.constantFrom(0 as const, 1 as const),
    value: u32Arb,
  }),
  fc.record({ kind: fc.constant('marker' as const), at: pos, code: fc.integer({ min: 0, max: 255 }) }),
);

/** The chunks of a (maybe damaged) PNG as far as they can be walked: start offset and data length. */
function pngChunkList(b: Uint8Array): { start: number; len: number }[] {
  const out: { start: number; len: number }[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 8; p + 12 <= b.length; ) {
    const len = dv.getUint32(p);
    if (p + 12 + len > b.length) break;
    out.push({ start: p, len });
    p += 12 + len;
  }
  return out;
}

function fixCrc(b: Uint8Array, c: { start: number; len: number }): void {
  new DataView(b.buffer, b.byteOffset).setUint32(
    c.start + 8 + c.len,
    crc32(b.subarray(c.start + 4, c.start + 8 + c.len)),
  );
}

/** The marker segments of a (maybe damaged) JPEG up to the scan: offset of the marker code and length. */
function jpegSegments(b: Uint8Array): { at: number; code: number; len: number }[] {
  const out: { at: number; code: number; len: number }[] = [];
  for (let p = 2; p + 3 < b.length; ) {
    if (b[p] !== 0xff) break;
    const code = b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    out.push({ at: p + 1, code, len });
    if (code === 0xda || len < 2) break;
    p += 2 + len;
  }
  return out;
}

/** Applies one mutation; returns a new array. */
function mutate(src: Uint8Array, m: Mutation): Uint8Array {
  const b = Uint8Array.from(src);
  const n = b.length;
  const dv = new DataView(b.buffer);
  switch (m.kind) {
    case 'truncate':
      return b.slice(0, m.at % (n + 1));
    case 'flip':
      if (n) b[m.at % n] ^= 1 << m.bit;
      return b;
    case 'set':
      if (n) b[m.at % n] = m.value;
      return b;
    case 'splice': {
      const at = m.at % (n + 1);
      return concat(b.subarray(0, at), m.insert, b.subarray(Math.min(n, at + m.remove)));
    }
    case 'append':
      return concat(b, m.bytes);
    case 'chunkLength': {
      const list = pngChunkList(b);
      if (list.length) dv.setUint32(list[m.index % list.length].start, m.value);
      return b;
    }
    case 'chunkByte': {
      const list = pngChunkList(b);
      const c = list[m.index % Math.max(1, list.length)];
      if (c && c.len > 0) {
        b[c.start + 8 + (m.at % c.len)] = m.value;
        fixCrc(b, c);
      }
      return b;
    }
    case 'ihdrSize':
    case 'ihdrByte': {
      const c = pngChunkList(b)[0];
      if (c && c.len === 13) {
        if (m.kind === 'ihdrSize') dv.setUint32(c.start + 8 + 4 * m.field, m.value);
        else b[c.start + 8 + m.offset] = m.value;
        fixCrc(b, c);
      }
      return b;
    }
    case 'fixCrcs':
      for (const c of pngChunkList(b)) fixCrc(b, c);
      return b;
    case 'segmentLength': {
      const segs = jpegSegments(b);
      const s = segs[m.index % Math.max(1, segs.length)];
      if (s && s.at + 3 <= n) dv.setUint16(s.at + 1, m.value & 0xffff);
      return b;
    }
    case 'sofSize': {
      const sof = jpegSegments(b).find((s) => s.code >= 0xc0 && s.code <= 0xc3);
      if (sof && sof.at + 8 <= n) dv.setUint16(sof.at + 4 + 2 * (1 - m.field), m.value & 0xffff);
      return b;
    }
    case 'marker': {
      const at = m.at % (n + 1);
      return concat(b.subarray(0, at), Uint8Array.of(0xff, m.code), b.subarray(at));
    }
  }
}

function applyAll(src: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  return ms.reduce(mutate, src);
}

/** Pixel limits the damaged files are decoded under (small ones, so a rewritten size stays cheap). */
const damagedLimitArb = fc.constantFrom(1 << 12, 1 << 16, 1 << 18);

// ---------------------------------------------------------------------------------------------------------
// Properties

describe('decodeImage fuzz: valid images decode exactly', () => {
  const pngRuns = fuzzParams(150);
  it(
    'PNGs from the hand-written encoder (all color types and depths, tRNS, interlace, filters)',
    async () => {
      await withFuzzReplay(pngRuns, (params) =>
        fc.assert(
          fc.asyncProperty(pngSpecArb({ byHand: true }), async (spec) => {
            await breathe();
            const bytes = encodePngByHand(spec);
            const img = decodeChecked(bytes, DEFAULT_MAX_PIXELS);
            expect(img).toBeDefined();
            expect([img?.width, img?.height]).toEqual([spec.width, spec.height]);
            expect(Buffer.from(img?.data ?? []).equals(Buffer.from(expectedRgba(spec)))).toBe(true);
            expect(readImageHeader(bytes)).toEqual({ format: 'png', width: spec.width, height: spec.height });
            // Bytes after IEND change nothing.
            const tail = Uint8Array.of(0, spec.width, 0x89, 0x50, 0x0a);
            expect(
              Buffer.from(decodeImage(concat(bytes, tail)).data).equals(Buffer.from(img?.data ?? [])),
            ).toBe(true);
          }),
          params,
        ),
      );
    },
    timeoutFor(pngRuns.numRuns),
  );

  const pngjsRuns = fuzzParams(100);
  it(
    'PNGs from pngjs (gray, gray + alpha, RGB, RGBA at 8 and 16 bits)',
    async () => {
      await withFuzzReplay(pngjsRuns, (params) =>
        fc.assert(
          fc.asyncProperty(pngSpecArb({ byHand: false }), async (spec) => {
            await breathe();
            const bytes = encodePngjs(spec);
            expect([bytes[24], bytes[25]]).toEqual([spec.depth, spec.colorType]);
            const img = decodeChecked(bytes, DEFAULT_MAX_PIXELS);
            expect([img?.width, img?.height]).toEqual([spec.width, spec.height]);
            expect(Buffer.from(img?.data ?? []).equals(Buffer.from(expectedRgba(spec)))).toBe(true);
          }),
          params,
        ),
      );
    },
    timeoutFor(pngjsRuns.numRuns),
  );

  const sizeRuns = fuzzParams(150);
  it(
    'PNGs whose image data inflates short fail; up to 1 KiB extra is ignored, more fails',
    async () => {
      await withFuzzReplay(sizeRuns, (params) =>
        fc.assert(
          fc.asyncProperty(
            pngSpecArb({ byHand: true }),
            fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
            fc.oneof(fc.integer({ min: 1, max: 1024 }), fc.integer({ min: 1025, max: 5000 })),
            fc.boolean(),
            async (spec, keep, extra, short) => {
              await breathe();
              let needed = 0;
              const bytes = encodePngByHand(spec, (raw) => {
                needed = raw.length;
                return short
                  ? raw.subarray(0, Math.floor(keep * raw.length))
                  : concat(raw, new Uint8Array(extra).fill(spec.width));
              });
              const got = (() => {
                try {
                  return decodeImage(bytes);
                } catch (e) {
                  expectTypedError(e);
                  return e;
                }
              })();
              if (short) {
                expect(got).toBeInstanceOf(WfError);
                expect((got as WfError).message).toMatch(/the image data inflates to \d+ bytes, but a/);
              } else if (extra <= 1024) {
                expect(got).not.toBeInstanceOf(WfError);
                expect(Buffer.from((got as RgbaImage).data).equals(Buffer.from(expectedRgba(spec)))).toBe(
                  true,
                );
              } else {
                expect((got as WfError).message).toMatch(
                  new RegExp(`the image data inflates to more than the ${needed} bytes a`),
                );
              }
            },
          ),
          params,
        ),
      );
    },
    timeoutFor(sizeRuns.numRuns),
  );

  it('JPEGs from jpeg-js (1x1, single rows and columns, odd sizes, quality 1 to 100)', () => {
    for (const { spec, bytes } of jpegPool) {
      const img = decodeChecked(bytes, DEFAULT_MAX_PIXELS);
      expect([img?.width, img?.height]).toEqual([spec.width, spec.height]);
      expect(readImageHeader(bytes)).toEqual({ format: 'jpeg', width: spec.width, height: spec.height });
      const want = jpegPixels(spec);
      let err = 0;
      for (let i = 0; i < want.length; i += 4) {
        expect(img?.data[i + 3]).toBe(255);
        for (let c = 0; c < 3; c++) err += Math.abs((img?.data[i + c] ?? 0) - want[i + c]);
      }
      // Lossy: at a reasonable quality, a smooth image comes back close on average.
      if (spec.quality >= 50) expect(err / (spec.width * spec.height * 3)).toBeLessThan(6);
    }
  });
});

describe('decodeImage fuzz: damaged, hostile and garbage input', () => {
  const pngRuns = fuzzParams(400);
  it(
    'damaged PNGs decode to a usable image or fail with a one-line WfError',
    async () => {
      await withFuzzReplay(pngRuns, (params) =>
        fc.assert(
          fc.asyncProperty(
            pngSpecArb({ byHand: true }),
            fc.array(pngMutationArb, { minLength: 1, maxLength: 4 }),
            fc.oneof(damagedLimitArb, fc.constant(DEFAULT_MAX_PIXELS)),
            async (spec, ms, maxPixels) => {
              await breathe();
              decodeChecked(applyAll(encodePngByHand(spec), ms), maxPixels);
            },
          ),
          params,
        ),
      );
    },
    timeoutFor(pngRuns.numRuns),
  );

  const jpegRuns = fuzzParams(300);
  it(
    'damaged JPEGs decode to a usable image or fail with a one-line WfError',
    async () => {
      await withFuzzReplay(jpegRuns, (params) =>
        fc.assert(
          fc.asyncProperty(
            fc.nat({ max: JPEG_POOL_SPECS.length - 1 }),
            fc.array(jpegMutationArb, { minLength: 1, maxLength: 4 }),
            damagedLimitArb,
            async (index, ms, maxPixels) => {
              await breathe();
              decodeChecked(applyAll(jpegPool[index].bytes, ms), maxPixels);
            },
          ),
          params,
        ),
      );
    },
    timeoutFor(jpegRuns.numRuns),
  );

  const garbageRuns = fuzzParams(300);
  it(
    'garbage, alone or behind a PNG, JPEG, GIF or BMP signature (and the empty file), fails with a WfError',
    async () => {
      const prefixes = [
        new Uint8Array(0),
        SIGNATURE,
        concat(SIGNATURE, ihdr(3, 2, 8, 6)),
        Uint8Array.of(0xff, 0xd8),
        Uint8Array.of(0xff, 0xd8, 0xff, 0xc0),
        Uint8Array.from(Buffer.from('GIF89a', 'latin1')),
        Uint8Array.of(0x42, 0x4d),
      ];
      await withFuzzReplay(garbageRuns, (params) =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...prefixes),
            fc.uint8Array({ maxLength: 200 }),
            damagedLimitArb,
            async (prefix, garbage, maxPixels) => {
              await breathe();
              decodeChecked(concat(prefix, garbage), maxPixels);
            },
          ),
          params,
        ),
      );
      for (const maxPixels of [1, DEFAULT_MAX_PIXELS]) {
        expect(() => decodeImage(new Uint8Array(0), { maxPixels })).toThrow(/^image data is empty/);
      }
    },
    timeoutFor(garbageRuns.numRuns),
  );

  const hugeRuns = fuzzParams(200);
  it(
    'a header past maxPixels fails from the header alone, at once, without allocating',
    async () => {
      const dims = fc.integer({ min: 1, max: 0x7fffffff });
      await withFuzzReplay(hugeRuns, (params) =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(
              // PNG: any size and format, followed by a little (irrelevant) image data.
              fc.record({
                png: fc.constant(true),
                width: dims,
                height: dims,
                format: fc.constantFrom([0, 8], [2, 16], [3, 1], [4, 8], [6, 16]),
                interlace: fc.integer({ min: 0, max: 1 }),
              }),
              // JPEG: 16-bit sizes, after an APP0 segment or not.
              fc.record({
                png: fc.constant(false),
                width: fc.integer({ min: 1, max: 0xffff }),
                height: fc.integer({ min: 1, max: 0xffff }),
                format: fc.constant([0, 0]),
                interlace: fc.integer({ min: 0, max: 1 }),
              }),
            ),
            fc.integer({ min: 1, max: 2 ** 27 }),
            async ({ png, width, height, format, interlace }, limit) => {
              await breathe();
              fc.pre(width * height > limit);
              const bytes = png
                ? concat(
                    SIGNATURE,
                    ihdr(width, height, format[1], format[0], interlace),
                    chunk('IDAT', deflateSync(new Uint8Array(64))),
                    IEND,
                  )
                : concat(
                    Uint8Array.of(0xff, 0xd8),
                    interlace ? Uint8Array.of(0xff, 0xe0, 0, 4, 0, 0) : new Uint8Array(0),
                    Uint8Array.of(
                      0xff,
                      0xc0,
                      0,
                      17,
                      8,
                      height >> 8,
                      height & 255,
                      width >> 8,
                      width & 255,
                      3,
                    ),
                    new Uint8Array(64),
                  );
              const before = process.memoryUsage().arrayBuffers;
              const t0 = performance.now();
              let err: unknown;
              try {
                decodeImage(bytes, { maxPixels: limit });
              } catch (e) {
                err = e;
              }
              expectFast(performance.now() - t0, HEADER_MS, () => {
                try {
                  decodeImage(bytes, { maxPixels: limit });
                } catch {}
              });
              expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
              expectTypedError(err);
              expect(err.code).toBe('E_IMAGE');
              expect(err.message).toMatch(
                new RegExp(
                  `^image is ${width}x${height} = [\\d.e+]+ MP, over the [\\d.e+-]+ MP limit; pass maxPixels`,
                ),
              );
            },
          ),
          params,
        ),
      );
    },
    timeoutFor(hugeRuns.numRuns),
  );
});

// ---------------------------------------------------------------------------------------------------------
// Fixed cases: every format exactly, zero sizes, the limit, and the bugs the fuzzing found

describe('decodeImage: fixed cases', () => {
  /** A deterministic spec: samples cycle through the whole range of the depth. */
  function spec(colorType: PngColorType, depth: PngDepth, interlace: boolean, trns?: number[]): PngSpec {
    const width = 11;
    const height = 6;
    const n = width * height * CHANNELS[colorType];
    const top = colorType === 3 ? Math.min(2 ** depth, 7) : 2 ** depth;
    const samples = Array.from({ length: n }, (_, i) => (i * 7919 + (i >> 2)) % top);
    const palette = Array.from({ length: 7 }, (_, i): [number, number, number] => [
      i * 36,
      255 - i * 20,
      i * i,
    ]);
    return {
      width,
      height,
      colorType,
      depth,
      samples,
      palette,
      trns,
      interlace,
      filters: [0, 1, 2, 3, 4],
      idatParts: 2,
      text: true,
    };
  }

  const combos: [PngColorType, PngDepth][] = [];
  for (const ct of [0, 2, 3, 4, 6] as const) for (const d of DEPTHS[ct]) combos.push([ct, d]);

  it.each(combos)('color type %i at %i bits decodes exactly (plain and interlaced)', (ct, d) => {
    for (const interlace of [false, true]) {
      const s = spec(ct, d, interlace);
      const img = decodeImage(encodePngByHand(s));
      expect([img.width, img.height]).toEqual([11, 6]);
      expect(Array.from(img.data)).toEqual(Array.from(expectedRgba(s)));
      if (ct !== 3 && d >= 8) {
        // pngjs's encoder makes the same file content; the decoder must agree.
        expect(Array.from(decodeImage(encodePngjs(s)).data)).toEqual(Array.from(expectedRgba(s)));
      }
    }
  });

  it('16-bit samples round to the nearest 8-bit value; gray + alpha keeps its alpha', () => {
    const s: PngSpec = {
      ...spec(4, 16, false),
      width: 4,
      height: 1,
      samples: [0, 65535, 257, 128, 32896, 32767, 65535, 0],
    };
    const img = decodeImage(encodePngjs(s));
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 1, 1, 1, 0, 128, 128, 128, 127, 255, 255, 255, 0]);
  });

  it('zero-size images are rejected with a WfError naming the size', () => {
    const cases: [Uint8Array, RegExp][] = [
      [concat(SIGNATURE, ihdr(0, 5, 8, 6), IEND), /invalid size 0x5/],
      [concat(SIGNATURE, ihdr(7, 0, 8, 0), IEND), /invalid size 7x0/],
      [concat(SIGNATURE, ihdr(0, 0, 16, 2), IEND), /invalid size 0x0/],
      [Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0, 9, 0, 0, 3), /declares 0x9 pixels/],
      [Uint8Array.of(0xff, 0xd8, 0xff, 0xc2, 0, 17, 8, 0, 0, 0, 4, 3), /declares 4x0 pixels/],
    ];
    for (const [bytes, pattern] of cases) {
      for (const f of [() => decodeImage(bytes), () => readImageHeader(bytes)]) {
        let err: unknown;
        try {
          f();
        } catch (e) {
          err = e;
        }
        expectTypedError(err);
        expect(err.code).toBe('E_IMAGE');
        expect(err.message).toMatch(pattern);
      }
    }
  });

  it('the pixel limit is configurable, inclusive, and its error says how to raise it', () => {
    const s = spec(6, 8, false); // 11x6 = 66 pixels
    const png = encodePngByHand(s);
    const jpg = encodeJpegSpec({ width: 11, height: 6, quality: 90, base: [10, 20, 30], gx: 1, gy: 1 });
    for (const bytes of [png, jpg]) {
      expect(decodeImage(bytes, { maxPixels: 66 }).width).toBe(11);
      expect(() => decodeImage(bytes, { maxPixels: 65 })).toThrow(
        'image is 11x6 = 0.000066 MP, over the 0.000065 MP limit; pass maxPixels to raise it',
      );
      expect(decodeImage(bytes, { maxPixels: Number.POSITIVE_INFINITY }).height).toBe(6);
      for (const bad of [0, -1, Number.NaN, '100' as unknown as number]) {
        let err: unknown;
        try {
          decodeImage(bytes, { maxPixels: bad });
        } catch (e) {
          err = e;
        }
        expectTypedError(err);
        expect(err.code).toBe('E_ARGUMENT');
        expect(err.message).toMatch(/^maxPixels must be a positive number, got /);
      }
    }
  });

  it('a PNG whose image data inflates short fails instead of returning uninitialized memory', () => {
    // Found by the fuzzing: a complete zlib stream of 3 bytes for a 4x4 RGBA image (68 bytes needed) used to
    // decode to 4x4 pixels, most of them whatever pngjs's unfilled output buffer held.
    for (const interlace of [0, 1]) {
      const bytes = concat(
        SIGNATURE,
        ihdr(4, 4, 8, 6, interlace),
        chunk('IDAT', deflateSync(Uint8Array.of(0, 2, 3))),
        IEND,
      );
      expect(() => decodeImage(bytes)).toThrow(
        /^corrupt or truncated PNG: the image data inflates to 3 bytes, but a 4x4 image needs (68|\d+);/,
      );
    }
    // One row short: the same.
    const s = spec(2, 8, false);
    const raw = Buffer.concat(
      Array.from({ length: s.height - 1 }, (_, y) =>
        Buffer.from([0, ...s.samples.slice(y * 33, y * 33 + 33)]),
      ),
    );
    const short = concat(SIGNATURE, ihdr(11, 6, 8, 2), chunk('IDAT', deflateSync(raw)), IEND);
    expect(() => decodeImage(short)).toThrow(/inflates to 170 bytes, but a 11x6 image needs 204/);
  });

  it('image data up to 1 KiB longer than the image needs is ignored, plain and interlaced', () => {
    // Found by the fuzzing: such files decoded or failed depending on where zlib stopped inside pngjs, and
    // always failed when interlaced.
    for (const interlace of [false, true]) {
      const s = spec(6, 16, interlace);
      for (const extra of [1, 7, 1024]) {
        const bytes = encodePngByHand(s, (raw) => concat(raw, new Uint8Array(extra).fill(9)));
        expect(Array.from(decodeImage(bytes).data)).toEqual(Array.from(expectedRgba(s)));
      }
      const over = encodePngByHand(s, (raw) => concat(raw, new Uint8Array(1025)));
      expect(() => decodeImage(over)).toThrow(
        /the image data inflates to more than the \d+ bytes a 11x6 image needs/,
      );
    }
  });

  it('tRNS in gray and RGB PNGs only makes the keyed pixels transparent: their color stays', () => {
    // Found by the fuzzing: pngjs returned the keyed pixels as 0, 0, 0, 0, so the preprocessing (which reads
    // R, G, B) saw black where Pillow's convert('RGB') sees the key color.
    const gray = spec(0, 4, false);
    gray.trns = [gray.samples[1]]; // 15 of 15: white
    const rgb16 = spec(2, 16, true);
    rgb16.samples = rgb16.samples.map((v, i) => (i % 3 === 0 ? v % 3 : 4242)); // many pixels share a color
    rgb16.trns = [1, 4242, 4242];
    for (const s of [gray, rgb16]) {
      const img = decodeImage(encodePngByHand(s));
      expect(Array.from(img.data)).toEqual(Array.from(expectedRgba(s)));
      let keyed = 0;
      for (let p = 0; p < img.data.length; p += 4) {
        if (img.data[p + 3] !== 0) continue;
        keyed++;
        expect(Array.from(img.data.subarray(p, p + 3))).not.toEqual([0, 0, 0]);
      }
      expect(keyed).toBeGreaterThan(2);
    }
  });

  it('a short baseline JPEG whose header claims many pixels (within the limit) fails at once', () => {
    // Found while sizing the limits: 617 bytes claiming 10000x10000 took jpeg-js 17 s and about 3 GB.
    const bytes = Uint8Array.from(jpegPool[6].bytes); // 16x16, baseline
    let p = 2;
    while (!(bytes[p] === 0xff && bytes[p + 1] === 0xc0)) p++;
    const dv = new DataView(bytes.buffer);
    dv.setUint16(p + 5, 10000);
    dv.setUint16(p + 7, 10000);
    const t0 = performance.now();
    expect(() => decodeImage(bytes)).toThrow(
      new RegExp(
        `^corrupt or truncated JPEG: the file has ${bytes.length} bytes, fewer than the 390625 that the image data of a 10000x10000 baseline JPEG takes at the least`,
      ),
    );
    expect(performance.now() - t0).toBeLessThan(HEADER_MS);
    // Within the bound, nothing changes: the pool decodes (above), and a 40x40 claim gets to the decoder.
    dv.setUint16(p + 5, 40);
    dv.setUint16(p + 7, 40);
    expect(() => decodeImage(bytes)).toThrow(/^corrupt or truncated JPEG: (?!the file has)/);
  });

  it('messages quote damaged bytes printably, on one line', () => {
    // Found by the fuzzing: a chunk type read from the file went into the message as it was, so a newline in
    // it split the message (and an ESC in it would reach the terminal that prints it).
    const bad = concat(SIGNATURE, ihdr(3, 2, 8, 6), Uint8Array.of(0, 0, 0, 0, 0x1b, 0x5b, 0x32, 0x0a));
    expect(() => decodeImage(bad)).toThrow(
      'corrupt or truncated PNG: the file ends inside the \\x1b[2\\x0a chunk at byte 33 (41 bytes); ' +
        'check that the file is complete, or re-export it',
    );
  });

  it('bytes after IEND are ignored, as libpng and Pillow ignore them', () => {
    const s = spec(2, 8, false);
    const png = encodePngByHand(s);
    for (const tail of [Uint8Array.of(0), new TextEncoder().encode('trailing text\n'), png]) {
      expect(Array.from(decodeImage(concat(png, tail)).data)).toEqual(Array.from(expectedRgba(s)));
    }
  });
});
