// WebP, GIF and BMP decoding for Node through well-kept libraries: @jsquash/webp (libwebp compiled to
// WebAssembly, the Squoosh codec; an optional peer dependency, loaded on the first WebP), omggif (first frame of a GIF) and bmp-ts. As for PNG and JPEG, the size
// is read from the header and checked against the pixel limit before anything is decoded, and a damaged
// file fails with a one-line WfError.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WfError } from '@wf/core';
import { decode as decodeBmpLib } from 'bmp-ts';
import { GifReader } from 'omggif';
import type { RgbaImage } from './preprocess.js';

/** The formats of this file. */
export type ExtraFormat = 'webp' | 'gif' | 'bmp';

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

/** The format of `b` when it is WebP, GIF or BMP (by magic bytes). */
export function detectExtraFormat(b: Uint8Array): ExtraFormat | undefined {
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && /^GIF8[79]a$/.test(ascii(b, 0, 6))) return 'gif';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}

function corrupt(format: string, reason: string, cause?: unknown): WfError {
  return new WfError(
    'E_IMAGE',
    `corrupt or truncated ${format}: ${reason.replace(/[^ -~]/g, '?').slice(0, 180)}; check that the file is complete, or re-export it`,
    cause === undefined ? undefined : { cause },
  );
}

const u16 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8);
const u24 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
const i32 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);

/** The size from a WebP header (VP8X canvas, VP8 key frame or VP8L), before any decoding. */
function webpSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 30) throw corrupt('WebP', `the file ends inside the header (${b.length} bytes)`);
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X') return { width: u24(b, 24) + 1, height: u24(b, 27) + 1 };
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw corrupt('WebP', 'bad VP8 start code');
    return { width: u16(b, 26) & 0x3fff, height: u16(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw corrupt('WebP', 'bad VP8L signature');
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw corrupt('WebP', `unknown first chunk "${chunk}"`);
}

/** The size from a GIF's logical screen descriptor. */
function gifSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 10) throw corrupt('GIF', `the file ends inside the header (${b.length} bytes)`);
  return { width: u16(b, 6), height: u16(b, 8) };
}

/** The size from a BMP's info header (the height is negative for top-down rows). */
function bmpSize(b: Uint8Array): { width: number; height: number } {
  if (b.length < 26) throw corrupt('BMP', `the file ends inside the header (${b.length} bytes)`);
  const headerSize = i32(b, 14);
  if (headerSize === 12) return { width: u16(b, 18), height: u16(b, 20) };
  return { width: Math.abs(i32(b, 18)), height: Math.abs(i32(b, 22)) };
}

/** Width and height of a WebP, GIF or BMP from its header. */
export function extraHeader(format: ExtraFormat, b: Uint8Array): { width: number; height: number } {
  const size = format === 'webp' ? webpSize(b) : format === 'gif' ? gifSize(b) : bmpSize(b);
  if (size.width === 0 || size.height === 0) {
    throw corrupt(format.toUpperCase(), `the header declares an invalid size ${size.width}x${size.height}`);
  }
  return size;
}

function checked(format: string, img: RgbaImage, width: number, height: number): RgbaImage {
  if (img.width !== width || img.height !== height || img.data.length !== width * height * 4) {
    throw corrupt(
      format,
      `the decoder returned ${img.data.length} bytes for ${img.width}x${img.height} pixels`,
    );
  }
  return img;
}

/**
 * Walks the LZW code stream of a GIF frame (at `p`: the minimum code size, then sub-blocks) the way omggif
 * reads it and throws a corrupt-GIF error at the first code that names no table entry yet (a code above the
 * next free one, or the next free one with no previous code) or where the stream runs past the file.
 * omggif does not check either: a damaged stream can make its table refer to itself, and its decoder then
 * loops forever. With every code valid, each table entry refers only to earlier ones, so it terminates.
 */
export function checkGifLzw(b: Uint8Array, p: number): void {
  const bad = (why: string) => corrupt('GIF', `invalid LZW image data (${why})`);
  if (p >= b.length) throw bad('no code stream');
  const minCodeSize = b[p++];
  if (minCodeSize < 1 || minCodeSize > 11) throw bad(`minimum code size ${minCodeSize}`);
  const clearCode = 1 << minCodeSize;
  const eoiCode = clearCode + 1;
  let nextCode = eoiCode + 1;
  let codeSize = minCodeSize + 1;
  let codeMask = (1 << codeSize) - 1;
  let cur = 0;
  let curShift = 0;
  let subblock = b[p++] ?? 0;
  let prev = -1;
  for (;;) {
    while (curShift < 16 && subblock !== 0) {
      if (p >= b.length) throw bad('the stream runs past the end of the file');
      cur |= b[p++] << curShift;
      curShift += 8;
      if (subblock === 1) subblock = b[p++] ?? 0;
      else subblock--;
    }
    if (curShift < codeSize) return;
    const code = cur & codeMask;
    cur >>= codeSize;
    curShift -= codeSize;
    if (code === clearCode) {
      nextCode = eoiCode + 1;
      codeSize = minCodeSize + 1;
      codeMask = (1 << codeSize) - 1;
      prev = -1;
      continue;
    }
    if (code === eoiCode) return;
    if (code > nextCode || (code === nextCode && prev < 0))
      throw bad(`code ${code} before entry ${nextCode}`);
    if (prev >= 0 && nextCode < 4096) {
      nextCode++;
      if (nextCode >= codeMask + 1 && codeSize < 12) {
        codeSize++;
        codeMask = (codeMask << 1) | 1;
      }
    }
    prev = code;
  }
}

/** Decodes the first frame of a GIF (the logical screen, transparent where the frame does not cover it). */
export function decodeGif(b: Uint8Array, width: number, height: number): RgbaImage {
  let reader: GifReader;
  const data = new Uint8Array(width * height * 4);
  // omggif reports a short or long LZW stream with console.log and goes on; keep stdout clean (the
  // decode is synchronous, so nothing else logs meanwhile).
  const log = console.log;
  console.log = () => {};
  try {
    reader = new GifReader(b);
    if (reader.numFrames() < 1) throw new Error('the file holds no frame');
    const f = reader.frameInfo(0);
    // omggif walks every pixel of the frame (a damaged descriptor can claim 41607x35135 on a 7x5 image: ten
    // seconds) and writes only those inside the image
    if (f.x + f.width > reader.width || f.y + f.height > reader.height)
      throw new Error(
        `the first frame (${f.width}x${f.height} at ${f.x},${f.y}) runs past the ${reader.width}x${reader.height} image`,
      );
    checkGifLzw(b, f.data_offset);
    reader.decodeAndBlitFrameRGBA(0, data);
  } catch (e) {
    if (e instanceof WfError) throw e;
    throw corrupt('GIF', e instanceof Error ? e.message : String(e), e);
  } finally {
    console.log = log;
  }
  return checked('GIF', { width: reader.width, height: reader.height, data }, width, height);
}

/** Decodes a BMP (1, 4, 8, 16, 24 or 32 bits per pixel; opaque unless it has an alpha mask). */
export function decodeBmp(b: Uint8Array, width: number, height: number): RgbaImage {
  let out: { width: number; height: number; data: Uint8Array; bitPP: number };
  try {
    const d = decodeBmpLib(Buffer.from(b.buffer, b.byteOffset, b.byteLength), { toRGBA: true });
    out = { width: d.width, height: Math.abs(d.height), data: d.data, bitPP: d.bitPP };
  } catch (e) {
    throw corrupt('BMP', e instanceof Error ? e.message : String(e), e);
  }
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength).slice();
  // Only 32-bit BMPs carry alpha; the library leaves the alpha byte of the others at 0.
  if (out.bitPP !== 32) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return checked('BMP', { width: out.width, height: out.height, data }, width, height);
}

let webpDecoder:
  | Promise<(buffer: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>>
  | undefined;

/** The WebP decoder, its WebAssembly compiled from the package's file on first use. */
function loadWebpDecoder() {
  webpDecoder ??= (async () => {
    let mod: typeof import('@jsquash/webp/decode.js');
    let wasmPath: string;
    try {
      mod = await import('@jsquash/webp/decode.js');
      wasmPath = createRequire(import.meta.url).resolve('@jsquash/webp/codec/dec/webp_dec.wasm');
    } catch (e) {
      webpDecoder = undefined;
      throw new WfError(
        'E_IMAGE',
        'decoding WebP in Node needs the package @jsquash/webp (an optional peer dependency of @wf/models): npm install @jsquash/webp',
        { cause: e },
      );
    }
    await mod.init(await WebAssembly.compile(readFileSync(wasmPath)));
    return mod.default;
  })();
  return webpDecoder;
}

/** Decodes a WebP (lossy, lossless, with alpha; the first frame of an animation). */
export async function decodeWebp(b: Uint8Array, width: number, height: number): Promise<RgbaImage> {
  const decode = await loadWebpDecoder();
  let img: { width: number; height: number; data: Uint8ClampedArray };
  try {
    img = await decode(b.slice().buffer);
  } catch (e) {
    throw corrupt('WebP', e instanceof Error ? e.message : String(e), e);
  }
  const data = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return checked('WebP', { width: img.width, height: img.height, data }, width, height);
}
