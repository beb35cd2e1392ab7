// Tests of PNG / JPEG decoding: round trips through pngjs and jpeg-js encoders, hand-made PNGs (palette,
// interlaced, hostile headers), the pixel limit checked before decoding, and the errors for corrupt,
// truncated, empty and unknown inputs and missing files.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { WfError } from '@wf/core';
import { pngChunk } from '@wf/test-fixtures';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, loadImageFile, readImageHeader } from './decode-node.js';
import { preprocessImageNet } from './preprocess.js';

const chunk = pngChunk;

function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const dv = new DataView(d.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const IEND = chunk('IEND', new Uint8Array(0));

/** A PNG from raw (already filtered) scanline bytes. */
function makePng(header: Uint8Array, raw: Uint8Array, extra: Uint8Array[] = []): Uint8Array {
  return concat(SIGNATURE, header, ...extra, chunk('IDAT', deflateSync(raw)), IEND);
}

function rgbaPixels(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++)
    data.set([(i * 37) % 256, (i * 11 + 3) % 256, 255 - (i % 256), i % 200], i * 4);
  return data;
}

function pngjsEncode(width: number, height: number, data: Buffer, opts: Record<string, unknown>): Uint8Array {
  const png = new PNG({ width, height });
  png.data = data;
  return Uint8Array.from(PNG.sync.write(png, opts));
}

function catchError(fn: () => unknown): WfError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WfError);
    return e as WfError;
  }
  throw new Error('expected a WfError');
}

describe('decodeImage: PNG', () => {
  it('round-trips RGBA', () => {
    const data = rgbaPixels(13, 7);
    const png = pngjsEncode(13, 7, Buffer.from(data), { colorType: 6 });
    const img = decodeImage(png);
    expect(img.width).toBe(13);
    expect(img.height).toBe(7);
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(img.data)).toBe(false);
    expect(Array.from(img.data)).toEqual(Array.from(data));
    expect(readImageHeader(png)).toEqual({ format: 'png', width: 13, height: 7 });
  });

  it('expands grayscale and grayscale + alpha to RGBA', () => {
    const gray = Uint8Array.from({ length: 6 * 5 }, (_, i) => (i * 9) % 256);
    const img = decodeImage(pngjsEncode(6, 5, Buffer.from(gray), { colorType: 0, inputColorType: 0 }));
    expect(img.width).toBe(6);
    for (let i = 0; i < 30; i++)
      expect(Array.from(img.data.subarray(i * 4, i * 4 + 4))).toEqual([gray[i], gray[i], gray[i], 255]);
    const ga = Uint8Array.from({ length: 4 * 3 * 2 }, (_, i) => (i * 23) % 256);
    const img2 = decodeImage(pngjsEncode(4, 3, Buffer.from(ga), { colorType: 4, inputColorType: 4 }));
    for (let i = 0; i < 12; i++) {
      expect(Array.from(img2.data.subarray(i * 4, i * 4 + 4))).toEqual([
        ga[2 * i],
        ga[2 * i],
        ga[2 * i],
        ga[2 * i + 1],
      ]);
    }
  });

  it('scales 16-bit samples to 8 bits', () => {
    const w = 5;
    const h = 4;
    const rgb16 = Uint16Array.from({ length: w * h * 3 }, (_, i) => (i * 2731 + 17) % 65536);
    const png = pngjsEncode(w, h, Buffer.from(rgb16.buffer), {
      colorType: 2,
      inputColorType: 2,
      bitDepth: 16,
    });
    expect(png[24]).toBe(16); // IHDR bit depth
    const img = decodeImage(png);
    for (let i = 0; i < w * h; i++) {
      const want = [0, 1, 2].map((c) => Math.round((rgb16[i * 3 + c] * 255) / 65535));
      expect(Array.from(img.data.subarray(i * 4, i * 4 + 4))).toEqual([...want, 255]);
    }
    const ga16 = Uint16Array.from({ length: w * h * 2 }, (_, i) => (i * 4099) % 65536);
    const img2 = decodeImage(
      pngjsEncode(w, h, Buffer.from(ga16.buffer), { colorType: 4, inputColorType: 4, bitDepth: 16 }),
    );
    const g = Math.round((ga16[2] * 255) / 65535);
    expect(Array.from(img2.data.subarray(4, 8))).toEqual([g, g, g, Math.round((ga16[3] * 255) / 65535)]);
  });

  it('decodes palette images with transparency', () => {
    const plte = chunk('PLTE', Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255));
    const trns = chunk('tRNS', Uint8Array.of(255, 128));
    const raw = Uint8Array.of(0, 0, 1, 2, 0, 2, 1, 0); // two rows, filter 0, indices
    const img = decodeImage(makePng(ihdr(3, 2, 8, 3), raw, [plte, trns]));
    expect(Array.from(img.data)).toEqual([
      255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 0, 0, 255, 255, 0, 255, 0, 128, 255, 0, 0, 255,
    ]);
  });

  it('decodes interlaced images and refuses interlaced decompression bombs', () => {
    const w = 5;
    const h = 4;
    const pix = (x: number, y: number): number => (x * 40 + y * 7) % 256;
    const rows: number[] = [];
    const passes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    for (const [x0, y0, dx, dy] of passes) {
      if (x0 >= w || y0 >= h) continue;
      for (let y = y0; y < h; y += dy) {
        rows.push(0);
        for (let x = x0; x < w; x += dx) rows.push(pix(x, y));
      }
    }
    const img = decodeImage(makePng(ihdr(w, h, 8, 0, 1), Uint8Array.from(rows)));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) expect(img.data[(y * w + x) * 4]).toBe(pix(x, y));
    }
    const bomb = makePng(ihdr(1, 1, 8, 0, 1), new Uint8Array(4 << 20));
    expect(bomb.length).toBeLessThan(10000);
    expect(catchError(() => decodeImage(bomb)).message).toMatch(
      /^corrupt or truncated PNG: the image data inflates to more than the 2 bytes a 1x1 image needs/,
    );
  });
});

describe('decodeImage: JPEG', () => {
  it('decodes a jpeg-js JPEG to the right size and about the right colors', () => {
    const w = 32;
    const h = 24;
    const quadrant = (x: number, y: number): number[] =>
      y < h / 2 ? (x < w / 2 ? [220, 30, 40] : [30, 200, 50]) : x < w / 2 ? [40, 60, 210] : [240, 240, 235];
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data.set([...quadrant(x, y), 255], (y * w + x) * 4);
    const jpg = Uint8Array.from(encodeJpeg({ width: w, height: h, data }, 92).data);
    expect(readImageHeader(jpg)).toEqual({ format: 'jpeg', width: w, height: h });
    const img = decodeImage(jpg);
    expect(img.width).toBe(w);
    expect(img.height).toBe(h);
    expect(img.data.length).toBe(w * h * 4);
    for (const [x, y] of [
      [6, 5],
      [25, 5],
      [6, 18],
      [25, 18],
    ]) {
      const got = Array.from(img.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4));
      for (const [c, v] of quadrant(x, y).entries()) expect(Math.abs(got[c] - v)).toBeLessThanOrEqual(12);
      expect(got[3]).toBe(255);
    }
    // Decoded JPEGs go straight into the ImageNet transform.
    expect(preprocessImageNet(img, 16).shape).toEqual([1, 3, 16, 16]);
  });
});

describe('decodeImage: limits and errors', () => {
  it('enforces maxPixels from the header, before decoding', () => {
    // A 50000x50000 PNG header with no image data: only the header is read.
    const huge = concat(SIGNATURE, ihdr(50000, 50000, 8, 6));
    expect(readImageHeader(huge)).toEqual({ format: 'png', width: 50000, height: 50000 });
    const err = catchError(() => decodeImage(huge));
    expect(err.code).toBe('E_IMAGE');
    expect(err.message).toBe(
      'image is 50000x50000 = 2500 MP, over the 100 MP limit; pass maxPixels to raise it',
    );
    // Raising the limit gets past the check, to the missing image data.
    expect(catchError(() => decodeImage(huge, { maxPixels: 3e9 })).message).toMatch(
      /ends after .* without an IEND/,
    );
    // A JPEG frame header claiming 60000x60000.
    const sof = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xea, 0x60, 0xea, 0x60, 0x03);
    expect(catchError(() => decodeImage(sof)).message).toBe(
      'image is 60000x60000 = 3600 MP, over the 100 MP limit; pass maxPixels to raise it',
    );
    const small = pngjsEncode(4, 4, Buffer.from(rgbaPixels(4, 4)), { colorType: 6 });
    expect(catchError(() => decodeImage(small, { maxPixels: 15 })).message).toBe(
      'image is 4x4 = 0.000016 MP, over the 0.000015 MP limit; pass maxPixels to raise it',
    );
    expect(decodeImage(small, { maxPixels: 16 }).width).toBe(4);
    expect(catchError(() => decodeImage(small, { maxPixels: 0 })).code).toBe('E_ARGUMENT');
  });

  it('rejects empty and unknown inputs', () => {
    const empty = catchError(() => decodeImage(new Uint8Array(0)));
    expect(empty.code).toBe('E_IMAGE');
    expect(empty.message).toMatch(/^image data is empty \(0 bytes\)/);
    for (const bytes of [Uint8Array.of(0x49, 0x49, 0x2a, 0), Uint8Array.of(0x00)]) {
      const err = catchError(() => decodeImage(bytes));
      expect(err.code).toBe('E_IMAGE');
      expect(err.message).toBe('unsupported image format (expected PNG, JPEG, WebP, GIF or BMP)');
    }
  });

  it('rejects corrupt and truncated PNGs', () => {
    const png = pngjsEncode(16, 16, Buffer.from(rgbaPixels(16, 16)), { colorType: 6 });
    const cases: [Uint8Array, RegExp][] = [
      [png.subarray(0, 4), /ends inside the 8-byte signature/],
      [png.subarray(0, 20), /ends inside the IHDR header/],
      [png.subarray(0, png.length - 12 - 30), /ends inside the IDAT chunk/],
      [png.subarray(0, png.length - 12), /without an IEND chunk/],
      [
        concat(SIGNATURE.subarray(0, 4), Uint8Array.of(0x0a, 0x1a, 0x0a, 0x00), png.subarray(8)),
        /bad signature/,
      ],
      [concat(SIGNATURE, chunk('IEND', new Uint8Array(0))), /first chunk is "IEND"/],
      [concat(SIGNATURE, ihdr(0, 5, 8, 6), IEND), /invalid size 0x5/],
      [concat(SIGNATURE, ihdr(2, 2, 8, 6), IEND), /no IDAT/],
      [concat(SIGNATURE, ihdr(2, 2, 3, 0), IEND), /bit depth 3 with color type 0/],
      [concat(SIGNATURE, ihdr(2, 2, 8, 6, 2), IEND), /interlace methods 0\/0\/2/],
    ];
    const badCrc = Uint8Array.from(png);
    badCrc[png.length - 12 - 2] ^= 0xff; // the CRC of the last IDAT chunk
    cases.push([badCrc, /the IDAT chunk at byte \d+ fails its CRC check/]);
    const flipped = Uint8Array.from(png);
    flipped[50] ^= 0xff; // inside the compressed image data
    cases.push([flipped, /corrupt or truncated PNG: \S/]);
    const badData = makePng(ihdr(4, 4, 8, 6), Uint8Array.of(1, 2, 3)); // too little image data
    cases.push([badData, /corrupt or truncated PNG: \S/]);
    for (const [bytes, pattern] of cases) {
      const err = catchError(() => decodeImage(bytes));
      expect(err.code).toBe('E_IMAGE');
      expect(err.message).toMatch(/^corrupt or truncated PNG: /);
      expect(err.message).toMatch(pattern);
      expect(err.message).toMatch(/; check that the file is complete, or re-export it$/);
    }
  });

  it('rejects corrupt and truncated JPEGs', () => {
    const w = 24;
    const jpg = Uint8Array.from(encodeJpeg({ width: w, height: w, data: rgbaPixels(w, w) }, 80).data);
    const garbage = Uint8Array.from(jpg);
    for (let i = 0; i < 40; i++) garbage[jpg.length - 60 + i] = 0xff; // markers inside the scan data
    const cases: [Uint8Array, RegExp][] = [
      [jpg.subarray(0, 2), /ends before the frame header/],
      [jpg.subarray(0, 40), /ends before the frame header|ends inside/],
      [jpg.subarray(0, Math.floor(jpg.length * 0.7)), /\S/],
      [jpg.subarray(0, jpg.length - 2), /\S/],
      [
        Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0x00, 0x08),
        /no frame header \(SOF marker\) before the scan data/,
      ],
      [
        Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x00, 0x10, 0x03),
        /declares 16x0/,
      ],
      [garbage, /\S/],
    ];
    for (const [bytes, pattern] of cases) {
      const err = catchError(() => decodeImage(bytes));
      expect(err.code).toBe('E_IMAGE');
      expect(err.message).toMatch(/^corrupt or truncated JPEG: /);
      expect(err.message).toMatch(pattern);
    }
  });
});

describe('loadImageFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wf-image-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and decodes a file', async () => {
    const path = join(dir, 'a.png');
    await writeFile(path, pngjsEncode(3, 2, Buffer.from(rgbaPixels(3, 2)), { colorType: 6 }));
    const img = await loadImageFile(path);
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.data)).toEqual(Array.from(rgbaPixels(3, 2)));
  });

  it('reports missing and corrupt files', async () => {
    const missing = join(dir, 'nope.png');
    const err = await loadImageFile(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WfError);
    expect((err as WfError).code).toBe('E_IO');
    expect((err as WfError).message).toMatch(/^cannot read image file ".*nope\.png": ENOENT/);
    const path = join(dir, 'b.jpg');
    await writeFile(path, Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0x00));
    const err2 = await loadImageFile(path).catch((e: unknown) => e);
    expect((err2 as WfError).code).toBe('E_IMAGE');
    expect((err2 as WfError).message).toMatch(/b\.jpg: corrupt or truncated JPEG: /);
  });
});
