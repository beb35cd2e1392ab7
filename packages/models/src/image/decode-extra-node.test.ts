// WebP, GIF and BMP in Node: round trips through each library's encoder, the first frame of an animated
// GIF, the pixel limit checked from the header, and (fuzz) damaged files fail with a one-line WfError.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WfError } from '@wf/core';
import { fuzzParams } from '@wf/test-fixtures';
import { encode as encodeBmp } from 'bmp-ts';
import fc from 'fast-check';
import { GifWriter } from 'omggif';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageAsync, readImageHeader } from './decode-node.js';

const W = 7;
const H = 5;

/** Opaque test pixels with a few distinct colors (a GIF palette holds them all). */
function pixels(): Uint8Array {
  const d = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) {
    const c = (p * 5) % 8;
    d.set([c * 32, 255 - c * 32, (c * 80) & 255, 255], p * 4);
  }
  return d;
}

let webp: Uint8Array;

beforeAll(async () => {
  const enc = await import('@jsquash/webp/encode.js');
  const path = createRequire(import.meta.url).resolve('@jsquash/webp/codec/enc/webp_enc.wasm');
  await enc.init(await WebAssembly.compile(readFileSync(path)));
  const data = new Uint8ClampedArray(pixels());
  webp = new Uint8Array(
    await enc.default({ width: W, height: H, data, colorSpace: 'srgb' } as ImageData, { lossless: 1 }),
  );
});

function gif(frames: Uint8Array[]): Uint8Array {
  const palette: number[] = [];
  const index = (r: number, g: number, b: number) => {
    const rgb = (r << 16) | (g << 8) | b;
    let i = palette.indexOf(rgb);
    if (i < 0) i = palette.push(rgb) - 1;
    return i;
  };
  const indexed = frames.map((f) => {
    const out: number[] = [];
    for (let p = 0; p < W * H; p++) out.push(index(f[p * 4], f[p * 4 + 1], f[p * 4 + 2]));
    return out;
  });
  while (palette.length < 16) palette.push(0);
  const buf = new Uint8Array(4096);
  const w = new GifWriter(buf, W, H, { palette, loop: 0 });
  for (const f of indexed) w.addFrame(0, 0, W, H, f, { delay: 10 });
  return buf.slice(0, w.end());
}

function bmp(): Uint8Array {
  // bmp-ts takes ABGR bytes per pixel.
  const rgba = pixels();
  const abgr = Buffer.alloc(rgba.length);
  for (let p = 0; p < rgba.length; p += 4) abgr.set([rgba[p + 3], rgba[p + 2], rgba[p + 1], rgba[p]], p);
  return Uint8Array.from(encodeBmp({ data: abgr, width: W, height: H, bitPP: 24 } as never).data);
}

describe('WebP, GIF, BMP', () => {
  it('decode to the pixels they were encoded from (WebP lossless, GIF first frame, BMP 24-bit)', async () => {
    const want = Array.from(pixels());
    expect(readImageHeader(webp)).toEqual({ format: 'webp', width: W, height: H });
    expect(Array.from((await decodeImageAsync(webp)).data)).toEqual(want);
    const other = pixels().map((v, i) => (i % 4 === 3 ? 255 : 255 - v));
    const anim = gif([pixels(), other]);
    expect(readImageHeader(anim)).toEqual({ format: 'gif', width: W, height: H });
    expect(Array.from(decodeImage(anim).data)).toEqual(want);
    const b = bmp();
    expect(readImageHeader(b)).toEqual({ format: 'bmp', width: W, height: H });
    expect(Array.from((await decodeImageAsync(b)).data)).toEqual(want);
  });

  it('check the pixel limit from the header; WebP is refused by the synchronous decoder with a pointer', async () => {
    for (const bytes of [webp, gif([pixels()]), bmp()]) {
      await expect(decodeImageAsync(bytes, { maxPixels: W * H - 1 })).rejects.toThrow(
        /^image is 7x5 = [\d.e-]+ MP, over the [\d.e-]+ MP limit; pass maxPixels to raise it$/,
      );
    }
    expect(() => decodeImage(webp)).toThrow(/use decodeImageAsync/);
  });

  it('a GIF whose LZW codes name entries not made yet fails in one line (omggif alone loops forever on these)', () => {
    // two damaged files the fuzz test below found (seeds 1550566236 and 1157017329, 2026-12-04): codes past
    // the table's next entry make omggif's table refer to itself
    for (const b64 of [
      'R0lGODlhBwAFAIMAAAD/AKBfkEC/oOAfMIB/QCDfUMA/4GCf8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAAAAABwAFAAAEDxCczafGAlKLdb3Z9HVTBAA7',
      'R0lGODlhBwAFAIMAAAD/AKBfkEC/oOAfMIB/QCDfUMA/4GCf8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAAAAABwAFAAAEDxAEMUgxR5eLdb3Z9HVTBAA7',
    ]) {
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
      expect(() => decodeImage(bytes)).toThrow(
        /^corrupt or truncated GIF: invalid LZW image data \(code \d+ before entry \d+\)[^\n]*$/,
      );
    }
    // the undamaged file still decodes through the same check
    expect(decodeImage(gif([pixels()])).width).toBe(W);
  });

  it('a GIF whose first frame runs past the image fails in one line (omggif took 10 s over its pixels)', () => {
    // two damaged files the fuzz test below found (seed 1485905098, 2026-12-04): the frame descriptor
    // claims a 41607x35135 frame at row 8448, or a 25158x60058 one at row 54197, on a 7x5 image
    for (const b64 of [
      'R0lGODlhBwAFAIMAAAD/AKBfkEC/oOAfMIB/QCDfUMA/4GCf8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAAAAhh6I/iQAEDxAEMUgxR1KLdb3Z9HVTBAA7',
      'R0lGODlhBwAFAIMAAAD/AKBfkEC/oOAfMIB/QCDfUMA/4GCf8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACH/C05FVFNDQVBFMi4wAwEAAAAh+QQACgAAACwAALXTRmKa6gAEDxAEMUgxR1KLdb3Z9HVTBAA7',
    ]) {
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
      const t0 = performance.now();
      expect(() => decodeImage(bytes)).toThrow(
        /^corrupt or truncated GIF: the first frame \(\d+x\d+ at \d+,\d+\) runs past the 7x5 image[^\n]*$/,
      );
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  const runs = fuzzParams(150);
  it('damaged files fail with a one-line WfError or decode to a well-formed image', async () => {
    const files = [webp, gif([pixels()]), bmp()];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...files),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (file, at, junk, truncate) => {
          const cut = at % file.length;
          const bytes = truncate ? file.slice(0, cut) : file.slice();
          if (!truncate) bytes.set(junk.subarray(0, bytes.length - cut), cut);
          try {
            const img = await decodeImageAsync(bytes, { maxPixels: 1e6 });
            expect(img.data.length).toBe(img.width * img.height * 4);
          } catch (e) {
            if (!(e instanceof WfError)) throw e;
            expect(e.message).not.toMatch(/[\r\n]/);
            expect(e.message.length).toBeLessThan(300);
          }
        },
      ),
      runs,
    );
  }, 60_000);
});
