// Image decoding for Node: PNG (pngjs), JPEG (jpeg-js), and WebP, GIF (first frame), BMP (see
// decode-extra-node.ts) bytes or files -> RgbaImage. The format is told by
// its magic bytes, the size is read from the header and checked against a pixel limit before anything is
// decoded, and corrupt, truncated or unsupported files fail with a WfError that says what is wrong.
//
// Like Pillow's `Image.open(...).convert('RGB')` as the reference uses it, nothing is color-managed and
// EXIF orientation is not applied. 16-bit PNG samples are scaled to 8 bits by rounding (`v * 255 / 65535`).

import { constants as bufferConstants } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import { WfError } from '@wf/core';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { type FetchOptions, fetchBytes } from '../fetch.js';
import {
  decodeBmp,
  decodeGif,
  decodeWebp,
  detectExtraFormat,
  type ExtraFormat,
  extraHeader,
} from './decode-extra-node.js';
import type { RgbaImage } from './preprocess.js';

/** Default of {@link DecodeImageOptions.maxPixels}: 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100e6;

/** Options of {@link decodeImage} and {@link loadImageFile}. */
export interface DecodeImageOptions {
  /**
   * Largest image accepted, in pixels (width * height), checked from the header before decoding, so that a
   * small hostile file cannot make the decoder allocate gigabytes. Default {@link DEFAULT_MAX_PIXELS}.
   */
  maxPixels?: number;
}

/** What an image file's header says. */
export interface ImageHeader {
  /** The container format. */
  format: 'png' | 'jpeg' | ExtraFormat;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

/**
 * `s` made safe to print on one line: anything outside printable ASCII as `\xNN` / `\uNNNN`, and at most
 * `max` characters. BUG FIX: reasons quote bytes of the file (a chunk type) and messages of pngjs / jpeg-js
 * (which quote bytes too); a damaged PNG whose chunk type held a newline gave a two-line message, and one
 * holding ESC could send escape sequences to the terminal that prints the error.
 */
function printable(s: string, max = 180): string {
  const t = s.replace(/[^ -~]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

function corrupt(format: 'PNG' | 'JPEG', reason: string, cause?: unknown): WfError {
  return new WfError(
    'E_IMAGE',
    `corrupt or truncated ${format}: ${printable(reason)}; check that the file is complete, or re-export it`,
    cause === undefined ? undefined : { cause },
  );
}

/** True when `b` starts with `sig`, or is shorter than `sig` and is a prefix of it (a truncated file). */
function startsWith(b: Uint8Array, sig: readonly number[], need: number): boolean {
  const n = Math.min(b.length, need);
  for (let i = 0; i < n; i++) if (b[i] !== sig[i]) return false;
  return true;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function chunkType(b: Uint8Array, p: number): string {
  return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
}

function hex(v: number): string {
  return `0x${v.toString(16).toUpperCase().padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------------------
// PNG

interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Reads the IHDR chunk (which the PNG format requires to come first). */
function pngHeader(b: Uint8Array): PngInfo {
  if (b.length < 8) throw corrupt('PNG', `the file ends inside the 8-byte signature (${b.length} bytes)`);
  if (!startsWith(b, PNG_SIGNATURE, 8)) {
    throw corrupt('PNG', 'bad signature (was the file transferred in text mode?)');
  }
  if (b.length >= 16 && (chunkType(b, 12) !== 'IHDR' || u32(b, 8) !== 13)) {
    throw corrupt(
      'PNG',
      `the first chunk is "${chunkType(b, 12)}" of ${u32(b, 8)} bytes, expected IHDR of 13`,
    );
  }
  if (b.length < 8 + 8 + 13) throw corrupt('PNG', `the file ends inside the IHDR header (${b.length} bytes)`);
  const width = u32(b, 16);
  const height = u32(b, 20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw corrupt('PNG', `the header declares an invalid size ${width}x${height}`);
  }
  const bitDepth = b[24];
  const colorType = b[25];
  if (!VALID_DEPTHS[colorType]?.includes(bitDepth)) {
    throw corrupt(
      'PNG',
      `the header declares bit depth ${bitDepth} with color type ${colorType}, which PNG does not allow`,
    );
  }
  if (b[26] !== 0 || b[27] !== 0 || b[28] > 1) {
    throw corrupt(
      'PNG',
      `the header declares unknown compression / filter / interlace methods ${b[26]}/${b[27]}/${b[28]}`,
    );
  }
  return { width, height, bitDepth, colorType, interlaced: b[28] === 1 };
}

/** Bit depths that each PNG color type allows. */
const VALID_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

let crcTable: Uint32Array | undefined;

/** CRC-32 of `b[from, to)` as PNG chunks use it. */
function crc32(b: Uint8Array, from: number, to: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** What {@link pngChunks} found: the image data, the tRNS chunk, where the first IDAT chunk starts and IEND ends. */
interface PngChunks {
  idat: Uint8Array[];
  trns: Uint8Array | undefined;
  firstIdat: number;
  end: number;
}

/**
 * Walks the chunks and checks their CRCs; returns the IDAT chunks' data, the tRNS chunk's data and the end of
 * IEND. (pngjs's synchronous reader reports most structural errors only as "unrecognised content at end of
 * stream", so they are caught here first.)
 */
function pngChunks(b: Uint8Array): PngChunks {
  const idat: Uint8Array[] = [];
  let trns: Uint8Array | undefined;
  let firstIdat = 0;
  let p = 8;
  for (;;) {
    if (p + 8 > b.length) {
      throw corrupt('PNG', `the file ends after ${b.length} bytes without an IEND chunk`);
    }
    const len = u32(b, p);
    const type = chunkType(b, p + 4);
    if (p + 12 + len > b.length) {
      throw corrupt('PNG', `the file ends inside the ${type} chunk at byte ${p} (${b.length} bytes)`);
    }
    if (p === 8 && type !== 'IHDR') throw corrupt('PNG', `the first chunk is "${type}", expected IHDR`);
    if (crc32(b, p + 4, p + 8 + len) !== u32(b, p + 8 + len)) {
      throw corrupt('PNG', `the ${type} chunk at byte ${p} fails its CRC check (the file is damaged)`);
    }
    if (type === 'IDAT' && idat.push(b.subarray(p + 8, p + 8 + len)) === 1) firstIdat = p;
    if (type === 'tRNS') trns = b.subarray(p + 8, p + 8 + len);
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (idat.length === 0) throw corrupt('PNG', 'there is no IDAT (image data) chunk');
  return { idat, trns, firstIdat, end: p };
}

const CHANNELS_OF_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Bytes of filtered scanlines (a filter byte per row) that a PNG of this header inflates to. */
function inflatedSize(info: PngInfo): number {
  const bitsPerPixel = CHANNELS_OF_COLOR_TYPE[info.colorType] * info.bitDepth;
  const rows = (w: number, h: number): number => h * (1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!info.interlaced) return rows(info.width, info.height);
  let expected = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const pw = Math.ceil((info.width - x0) / dx);
    const ph = Math.ceil((info.height - y0) / dy);
    if (pw > 0 && ph > 0) expected += rows(pw, ph);
  }
  return expected;
}

/**
 * Inflates the image data with Node's zlib, limited to the size the header implies (plus 1 KiB of slack),
 * and checks that it is not shorter, before pngjs sees it. pngjs's synchronous inflater cannot be trusted
 * with either: it inflates interlaced images without an output limit, so a tiny file could expand to
 * gigabytes; and for non-interlaced images, on current Node, it reads zlib's write state `[availOut, availIn]`
 * in the opposite order, so it returns a buffer of the full expected size even when the data inflates to
 * less (the rest being uninitialized memory), and cuts the data short when zlib stops with input left over.
 * BUG FIX: the first consequence made a PNG whose zlib stream is complete but short (e.g. 3 bytes for a 4x4
 * image) decode "successfully" to pixels taken from whatever was in freed memory; before this check only
 * interlaced images were inflated here, and only for the upper limit.
 *
 * @returns The inflated data, and how much of it the image needs.
 */
function inflateImageData(info: PngInfo, idat: Uint8Array[]): { inflated: Buffer; expected: number } {
  const expected = inflatedSize(info);
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), {
      // Node refuses a limit over its largest Buffer; an image that big cannot be decoded anyway.
      maxOutputLength: Math.min(expected + 1024, bufferConstants.MAX_LENGTH),
    });
  } catch (e) {
    const reason =
      e instanceof RangeError
        ? `the image data inflates to more than the ${expected} bytes a ${info.width}x${info.height} image needs`
        : `the image data does not inflate (${e instanceof Error ? e.message : String(e)})`;
    throw corrupt('PNG', reason, e);
  }
  if (inflated.length < expected) {
    throw corrupt(
      'PNG',
      `the image data inflates to ${inflated.length} bytes, but a ${info.width}x${info.height} image needs ${expected}`,
    );
  }
  return { inflated, expected };
}

/** A PNG chunk: length, type, data, CRC. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * pngjs blanks the color of the pixels that a grayscale or RGB image's tRNS chunk makes transparent (they
 * come back 0, 0, 0, 0). BUG FIX: Pillow keeps their color (`convert('RGB')`, which the reference uses,
 * ignores tRNS; `convert('RGBA')` only zeroes alpha), and the preprocessing reads only R, G, B, so those
 * pixels turned black. This puts the key color back: in these color types only tRNS makes alpha 0, and every
 * such pixel had exactly the key's value.
 */
function restoreTransparentColor(info: PngInfo, trns: Uint8Array | undefined, data: Uint8Array): void {
  const keyLength = info.colorType === 0 ? 2 : info.colorType === 2 ? 6 : 0;
  if (keyLength === 0 || trns === undefined || trns.length < keyLength) return;
  const max = 2 ** info.bitDepth - 1;
  // The same rounding as pngjs's scaling of the other pixels (identity for 8 bits).
  const rgb = [0, 1, 2].map((c) => {
    const v = info.colorType === 0 ? (trns[0] << 8) | trns[1] : (trns[2 * c] << 8) | trns[2 * c + 1];
    return Math.floor((v * 255) / max + 0.5);
  });
  for (let p = 0; p < data.length; p += 4) {
    if (data[p + 3] === 0) {
      data[p] = rgb[0];
      data[p + 1] = rgb[1];
      data[p + 2] = rgb[2];
    }
  }
}

function decodePng(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const info = pngHeader(bytes);
  checkPixels(info.width, info.height, maxPixels);
  const { idat, trns, firstIdat, end } = pngChunks(bytes);
  const { inflated, expected } = inflateImageData(info, idat);
  // BUG FIX: only up to the end of IEND. pngjs refused bytes after it ("unrecognised content at end of
  // stream"), which libpng and Pillow ignore (some tools append data to PNG files).
  let file: Uint8Array = bytes.subarray(0, end);
  if (inflated.length > expected) {
    // BUG FIX: image data longer than the image (within the slack above) failed or decoded depending on
    // where zlib happened to stop (see inflateImageData) and always failed when interlaced. libpng ignores
    // the extra data (with a warning), and so does this now: pngjs gets the chunks before the image data,
    // then only the data the image needs, recompressed, then IEND (rare: only for such malformed files).
    const data = deflateSync(inflated.subarray(0, expected), { level: 1 });
    file = Buffer.concat([
      bytes.subarray(0, firstIdat),
      pngChunk('IDAT', data),
      pngChunk('IEND', new Uint8Array(0)),
    ]);
  }
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(Buffer.from(file.buffer, file.byteOffset, file.byteLength));
  } catch (e) {
    throw corrupt('PNG', e instanceof Error ? e.message : String(e), e);
  }
  const { width, height, data } = png;
  if (width !== info.width || height !== info.height || data.length !== width * height * 4) {
    throw corrupt('PNG', `the decoder returned ${data.length} bytes for ${width}x${height} pixels`);
  }
  const rgba = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  restoreTransparentColor(info, trns, rgba);
  return { width, height, data: rgba };
}

// ---------------------------------------------------------------------------------------------------------
// JPEG

/** Start-of-frame markers (the ones that carry the image size): C0..CF but DHT C4, JPG C8 and DAC CC. */
function isStartOfFrame(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** What {@link jpegHeader} reads from the frame header. */
interface JpegInfo {
  width: number;
  height: number;
  /** The SOF marker (0xC0 baseline, 0xC2 progressive, ...). */
  marker: number;
  /** 8x8 blocks of the largest component, when the component table can be read. */
  blocks?: number;
}

/** Scans the markers up to the frame header (SOF) and reads the size (and the components) from it. */
function jpegHeader(b: Uint8Array): JpegInfo {
  let p = 2;
  for (;;) {
    // Like libjpeg, skip stray bytes before a marker, then any 0xFF fill bytes.
    while (p < b.length && b[p] !== 0xff) p++;
    while (p < b.length && b[p] === 0xff) p++;
    if (p >= b.length) {
      throw corrupt('JPEG', `the file ends before the frame header (SOF marker) (${b.length} bytes)`);
    }
    const m = b[p++];
    if (m === 0x00 || m === 0x01 || m === 0xd8 || (m >= 0xd0 && m <= 0xd7)) continue; // no length field
    if (m === 0xd9 || m === 0xda) {
      throw corrupt(
        'JPEG',
        `no frame header (SOF marker) before the ${m === 0xd9 ? 'end of the image' : 'scan data'}`,
      );
    }
    if (p + 2 > b.length) throw corrupt('JPEG', `the file ends inside marker ${hex(m)} (${b.length} bytes)`);
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2) throw corrupt('JPEG', `marker ${hex(m)} at byte ${p - 2} has an invalid length ${len}`);
    if (isStartOfFrame(m)) {
      if (p + 7 > b.length)
        throw corrupt('JPEG', `the file ends inside the frame header (${b.length} bytes)`);
      const height = (b[p + 3] << 8) | b[p + 4];
      const width = (b[p + 5] << 8) | b[p + 6];
      if (width === 0 || height === 0) {
        throw corrupt(
          'JPEG',
          `the frame header declares ${width}x${height} pixels (a DNL-defined height is unsupported)`,
        );
      }
      return { width, height, marker: m, blocks: largestComponentBlocks(b, p, width, height) };
    }
    p += len;
  }
}

/**
 * 8x8 blocks of the largest component of a frame whose header (its length field) is at `p`, from the
 * sampling factors; undefined when the component table is cut short or invalid (the decoder reports that).
 */
function largestComponentBlocks(b: Uint8Array, p: number, width: number, height: number): number | undefined {
  const n = b[p + 7];
  if (n === undefined || n === 0 || p + 8 + 3 * n > b.length) return undefined;
  const factors: [number, number][] = [];
  for (let i = 0; i < n; i++) factors.push([b[p + 9 + 3 * i] >> 4, b[p + 9 + 3 * i] & 15]);
  const hMax = Math.max(...factors.map(([h]) => h));
  const vMax = Math.max(...factors.map(([, v]) => v));
  if (factors.some(([h, v]) => h === 0 || v === 0)) return undefined;
  return Math.max(
    ...factors.map(
      ([h, v]) =>
        Math.ceil(Math.ceil((width * h) / hMax) / 8) * Math.ceil(Math.ceil((height * v) / vMax) / 8),
    ),
  );
}

/**
 * Rejects a sequential Huffman-coded JPEG (baseline or extended, SOF0 / SOF1) that is too short for the size
 * its header declares: every 8x8 block of every component is coded, with at least 2 bits (a DC difference
 * and an end-of-block code), so the file has at least a quarter byte per block of its largest component.
 * BUG FIX (resource limit): a 617-byte file whose header claims 10000x10000 pixels (within the default
 * limit) made jpeg-js allocate about 3 GB and work for 17 s before it failed. Progressive JPEGs can code
 * whole runs of blocks in a few bits, so they have no such bound; only maxPixels limits them.
 */
function checkJpegLength(bytes: Uint8Array, info: JpegInfo): void {
  if ((info.marker !== 0xc0 && info.marker !== 0xc1) || info.blocks === undefined) return;
  const need = Math.ceil(info.blocks / 4);
  if (bytes.length < need) {
    throw corrupt(
      'JPEG',
      `the file has ${bytes.length} bytes, fewer than the ${need} that the image data of a ${info.width}x${info.height} baseline JPEG takes at the least`,
    );
  }
}

function decodeJpegBytes(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const info = jpegHeader(bytes);
  const { width, height } = info;
  checkPixels(width, height, maxPixels);
  checkJpegLength(bytes, info);
  let out: { width: number; height: number; data: Uint8Array };
  try {
    out = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // One pixel of slack: jpeg-js compares against maxResolutionInMP * 1e6 in floating point.
      maxResolutionInMP: (maxPixels + 1) / 1e6,
      // About 22 bytes per pixel at most (coefficients, component planes, output); the header check above is
      // the real limit, this one only must not be the tighter one.
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 32) / 2 ** 20)),
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/unsupported|only single frame/i.test(msg)) {
      throw new WfError(
        'E_IMAGE',
        `unsupported JPEG: ${printable(msg)}; convert it to a baseline or progressive RGB or grayscale JPEG, or to PNG`,
        { cause: e },
      );
    }
    throw corrupt('JPEG', msg, e);
  }
  if (out.width !== width || out.height !== height || out.data.length !== width * height * 4) {
    throw corrupt(
      'JPEG',
      `the decoder returned ${out.data.length} bytes for ${out.width}x${out.height} pixels`,
    );
  }
  return { width, height, data: out.data };
}

// ---------------------------------------------------------------------------------------------------------
// Public API

function megapixels(n: number): string {
  return String(Number((n / 1e6).toPrecision(4)));
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new WfError(
      'E_IMAGE',
      `image is ${width}x${height} = ${megapixels(width * height)} MP, over the ${megapixels(maxPixels)} MP ` +
        'limit; pass maxPixels to raise it',
    );
  }
}

function maxPixelsOf(opts: DecodeImageOptions): number {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof maxPixels !== 'number' || !(maxPixels > 0)) {
    throw new WfError('E_ARGUMENT', `maxPixels must be a positive number, got ${String(maxPixels)}`);
  }
  return maxPixels;
}

/** What every decoder accepts, for messages. */
const FORMATS = 'PNG, JPEG, WebP, GIF or BMP';

function detectFormat(bytes: Uint8Array): ImageHeader['format'] {
  if (!(bytes instanceof Uint8Array)) {
    throw new WfError('E_IMAGE', `image bytes must be a Uint8Array (or Buffer) holding a ${FORMATS} file`);
  }
  if (bytes.length === 0) {
    throw new WfError('E_IMAGE', `image data is empty (0 bytes); pass the contents of a ${FORMATS} file`);
  }
  if (startsWith(bytes, PNG_SIGNATURE, 4)) return 'png';
  if (startsWith(bytes, JPEG_SIGNATURE, 3)) return 'jpeg';
  const extra = detectExtraFormat(bytes);
  if (extra) return extra;
  throw new WfError('E_IMAGE', `unsupported image format (expected ${FORMATS})`);
}

/**
 * Reads the format and size of a PNG, JPEG, WebP, GIF or BMP from its header, without decoding it.
 *
 * @throws {WfError} `E_IMAGE` for empty input, another format, or a corrupt or truncated header.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = detectFormat(bytes);
  const { width, height } =
    format === 'png' ? pngHeader(bytes) : format === 'jpeg' ? jpegHeader(bytes) : extraHeader(format, bytes);
  return { format, width, height };
}

/**
 * Decodes a PNG, JPEG, GIF or BMP file's bytes to 8-bit RGBA (WebP decodes asynchronously: use
 * {@link decodeImageAsync}). PNG: any bit depth and color type (grayscale, palette, with or without alpha,
 * 16-bit scaled to 8-bit, interlaced); JPEG: baseline and progressive, grayscale or color; GIF: the first
 * frame on the logical screen; BMP: 1 to 32 bits per pixel. Grayscale comes back with R = G = B and opaque
 * images with A = 255; pixels that a PNG's tRNS color key makes transparent keep their color, with A = 0 (as
 * Pillow's `convert('RGBA')`). Bytes after a PNG's IEND chunk, and image data up to 1 KiB longer than the
 * image needs, are ignored (as libpng does); shorter image data is an error.
 *
 * @param bytes - The whole file (a Node `Buffer` is fine).
 * @returns The decoded image; its `data` is a fresh `Uint8Array` (not a `Buffer`).
 * @throws {WfError} `E_IMAGE`: empty input; another format (`unsupported image format (expected PNG, JPEG,
 *   WebP, GIF or BMP)`); more pixels than `maxPixels` (checked from the header, before decoding); corrupt or
 *   truncated file (`corrupt or truncated PNG: <reason>; ...`); unsupported JPEG flavour; a WebP.
 *   `E_ARGUMENT`: bad maxPixels.
 */
export function decodeImage(bytes: Uint8Array, opts: DecodeImageOptions = {}): RgbaImage {
  const maxPixels = maxPixelsOf(opts);
  const format = detectFormat(bytes);
  if (format === 'png') return decodePng(bytes, maxPixels);
  if (format === 'jpeg') return decodeJpegBytes(bytes, maxPixels);
  const { width, height } = extraHeader(format, bytes);
  checkPixels(width, height, maxPixels);
  if (format === 'gif') return decodeGif(bytes, width, height);
  if (format === 'bmp') return decodeBmp(bytes, width, height);
  throw new WfError(
    'E_IMAGE',
    'WebP images decode asynchronously: use decodeImageAsync (or loadImageFile, or the pipeline)',
  );
}

/**
 * Decodes a PNG, JPEG, WebP, GIF or BMP file's bytes to 8-bit RGBA (see {@link decodeImage}; WebP: lossy,
 * lossless, with alpha, the first frame of an animation, through libwebp compiled to WebAssembly).
 *
 * @throws {WfError} as {@link decodeImage}.
 */
export async function decodeImageAsync(bytes: Uint8Array, opts: DecodeImageOptions = {}): Promise<RgbaImage> {
  const maxPixels = maxPixelsOf(opts);
  const format = detectFormat(bytes);
  if (format !== 'webp') return decodeImage(bytes, opts);
  const { width, height } = extraHeader(format, bytes);
  checkPixels(width, height, maxPixels);
  return decodeWebp(bytes, width, height);
}

/** Options of {@link loadImageFile}: the decoder's, and the download's for URLs. */
export interface LoadImageFileOptions
  extends DecodeImageOptions,
    Pick<FetchOptions, 'fetch' | 'signal' | 'timeoutMs'> {}

/**
 * Reads and decodes a PNG, JPEG, WebP, GIF or BMP file (see {@link decodeImageAsync}) from a path, a
 * `file:` URL, or an `http(s):` / `data:` URL (downloaded with the timeout and one-line errors of
 * `fetchBytes`).
 *
 * @throws {WfError} `E_IO` when the file cannot be read (`cannot read image file "<path>": ENOENT ...`) or
 *   downloaded; the errors of {@link decodeImage}, their message prefixed with the path or URL.
 */
export async function loadImageFile(
  pathOrUrl: string | URL,
  opts: LoadImageFileOptions = {},
): Promise<RgbaImage> {
  maxPixelsOf(opts);
  const s = String(pathOrUrl);
  let bytes: Uint8Array;
  if (/^(https?|data):/i.test(s)) {
    bytes = await fetchBytes(s, opts);
    try {
      return await decodeImageAsync(bytes, opts);
    } catch (e) {
      if (e instanceof WfError) throw new WfError(e.code, `${s}: ${e.message}`, { cause: e });
      throw e;
    }
  }
  const path = /^file:/i.test(s) ? fileURLToPath(s) : s;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new WfError(
      'E_IO',
      `cannot read image file "${path}": ${msg}; check the path and its permissions`,
      {
        cause: e,
      },
    );
  }
  try {
    return await decodeImageAsync(bytes, opts);
  } catch (e) {
    if (e instanceof WfError) throw new WfError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}
