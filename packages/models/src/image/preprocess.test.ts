// Tests of the image preprocessing: bicubic resampling against an independent float64 implementation of
// Pillow's formula and against values produced by Pillow 9.4 itself, torchvision's center crop, the ImageNet
// and MNIST transforms, and input validation.

import { createHash } from 'node:crypto';
import { WfError } from '@wf/core';
import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  centerCropOffsets,
  IMAGENET_MEAN,
  IMAGENET_STD,
  imageToTensor,
  MNIST_MEAN,
  MNIST_STD,
  preprocessImageNet,
  preprocessMnistDigit,
  preprocessMnistImage,
  type RgbaImage,
  resampleBicubicU8,
  resizeBicubic,
  stackBatch,
  toLuminance,
} from './preprocess.js';

/** The LCG the Pillow golden values were made with (same sequence in Python). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return (s >>> 16) & 255;
  };
}

/** A random RGBA image (alpha random too, to show it is ignored). */
function randomImage(width: number, height: number, seed: number): RgbaImage {
  const next = lcg(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { width, height, data };
}

function sha256(bytes: ArrayLike<number>): string {
  return createHash('sha256').update(Uint8Array.from(bytes)).digest('hex');
}

/** Pillow's bicubic kernel, written out again for the reference. */
function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return 1.5 * t ** 3 - 2.5 * t ** 2 + 1;
  if (t < 2) return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2;
  return 0;
}

/**
 * Direct float64 evaluation of Pillow's resampling formula for one axis, one output sample at a time (no
 * precomputed tables, no fixed point), rounding half up and clamping to uint8.
 */
function refAxis(get: (i: number) => number, inSize: number, outIndex: number, outSize: number): number {
  const scale = inSize / outSize;
  const fs = Math.max(scale, 1);
  const center = (outIndex + 0.5) * scale;
  const lo = Math.max(0, Math.trunc(center - 2 * fs + 0.5));
  const hi = Math.min(inSize, Math.trunc(center + 2 * fs + 0.5));
  let num = 0;
  let den = 0;
  for (let i = lo; i < hi; i++) {
    const w = cubic((i - center + 0.5) / fs);
    num += w * get(i);
    den += w;
  }
  return Math.min(255, Math.max(0, Math.floor(num / den + 0.5)));
}

/** Reference resize of interleaved pixels: horizontal pass (when the width changes), then vertical. */
function refResize(
  src: ArrayLike<number>,
  w: number,
  h: number,
  nch: number,
  ow: number,
  oh: number,
): number[] {
  let mid = Array.from(src);
  if (ow !== w) {
    const next: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < ow; x++) {
        for (let c = 0; c < nch; c++) next.push(refAxis((i) => src[(y * w + i) * nch + c], w, x, ow));
      }
    }
    mid = next;
  }
  if (oh === h) return mid;
  const out: number[] = [];
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let c = 0; c < nch; c++) out.push(refAxis((i) => mid[(i * ow + x) * nch + c], h, y, oh));
    }
  }
  return out;
}

function rgbOf(img: RgbaImage): number[] {
  const out: number[] = [];
  for (let i = 0; i < img.width * img.height; i++)
    out.push(img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]);
  return out;
}

function expectWfError(fn: () => unknown, code: string, message: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WfError);
  expect((err as WfError).code).toBe(code);
  expect((err as WfError).message).toMatch(message);
}

// Pillow 9.4: Image.fromarray(rgb).resize((ow, oh), Image.BICUBIC) of randomImage(w, h, seed) without alpha.
const PIL_7x5_TO_3x4 = [
  144, 191, 160, 78, 133, 152, 91, 122, 61, 200, 84, 85, 122, 142, 126, 211, 110, 113, 87, 104, 138, 109, 166,
  111, 147, 103, 144, 108, 115, 85, 153, 74, 93, 185, 116, 73,
];
const PIL_4x4_TO_9x9 = [
  130, 18, 255, 153, 58, 228, 215, 159, 107, 241, 211, 24, 157, 120, 82, 77, 11, 159, 122, 0, 146, 207, 4,
  106, 240, 7, 91, 133, 14, 255, 153, 53, 226, 204, 158, 104, 225, 217, 17, 151, 139, 65, 82, 42, 129, 122,
  31, 128, 197, 50, 105, 226, 55, 97, 141, 3, 255, 151, 40, 224, 177, 158, 93, 184, 238, 0, 135, 186, 19, 92,
  118, 56, 121, 130, 81, 173, 165, 101, 194, 178, 109, 146, 1, 253, 149, 32, 218, 155, 142, 103, 154, 227, 7,
  132, 211, 3, 113, 179, 6, 127, 200, 52, 151, 233, 107, 161, 246, 130, 145, 22, 222, 150, 35, 210, 164, 84,
  169, 173, 135, 121, 171, 167, 76, 164, 187, 37, 155, 178, 77, 146, 159, 141, 142, 151, 167, 140, 50, 180,
  147, 48, 190, 166, 39, 219, 183, 50, 219, 194, 113, 147, 195, 164, 80, 170, 126, 110, 137, 58, 171, 125, 31,
  194, 130, 78, 126, 127, 78, 134, 120, 74, 158, 116, 75, 165, 125, 92, 123, 132, 101, 86, 121, 68, 113, 104,
  18, 159, 98, 0, 177, 120, 101, 75, 103, 110, 72, 63, 135, 63, 31, 138, 60, 31, 87, 66, 42, 29, 79, 54, 13,
  106, 67, 4, 133, 73, 0, 145, 116, 112, 52, 93, 124, 46, 39, 159, 25, 0, 162, 18, 0, 83, 44, 6, 0, 76, 27, 0,
  103, 52, 0, 123, 62, 0, 133,
];

describe('resizeBicubic (Pillow BICUBIC)', () => {
  it('downscales 7x5 -> 3x4 exactly like the float64 formula and like Pillow', () => {
    const img = randomImage(7, 5, 1);
    const got = Array.from(resizeBicubic(img, 3, 4));
    expect(got).toEqual(refResize(rgbOf(img), 7, 5, 3, 3, 4));
    expect(got).toEqual(PIL_7x5_TO_3x4);
  });

  it('upscales 4x4 -> 9x9 exactly like the float64 formula and like Pillow', () => {
    const img = randomImage(4, 4, 2);
    const got = Array.from(resizeBicubic(img, 9, 9));
    expect(got).toEqual(refResize(rgbOf(img), 4, 4, 3, 9, 9));
    expect(got).toEqual(PIL_4x4_TO_9x9);
  });

  it('matches the float64 formula on more shapes to within 1 (Pillow rounds in 22-bit fixed point)', () => {
    const cases: [number, number, number, number][] = [
      [13, 11, 5, 17],
      [30, 8, 30, 3],
      [9, 20, 2, 20],
      [16, 16, 7, 7],
      [5, 6, 11, 2],
      [1, 1, 3, 2],
      [3, 2, 1, 1],
    ];
    let values = 0;
    let off = 0;
    for (const [i, [w, h, ow, oh]] of cases.entries()) {
      const img = randomImage(w, h, 100 + i);
      const got = resizeBicubic(img, ow, oh);
      const want = refResize(rgbOf(img), w, h, 3, ow, oh);
      expect(got.length).toBe(want.length);
      for (let j = 0; j < want.length; j++) {
        expect(Math.abs(got[j] - want[j]), `${w}x${h} -> ${ow}x${oh} [${j}]`).toBeLessThanOrEqual(1);
        if (got[j] !== want[j]) off++;
      }
      values += want.length;
    }
    // Off by one only at ties: the 5x6 -> 11x2 case has a sample at exactly 161.5 in float64, which
    // Pillow's quantized coefficients round to 161, as here (see the Pillow golden below).
    expect(off).toBeLessThanOrEqual(Math.ceil(values / 500));
  });

  it('matches Pillow bit for bit on larger images', () => {
    const golden: [number, number, number, number, number, string][] = [
      [61, 47, 17, 29, 3, '8276d73911c735e9471e6721468baaca6c7fb7c1706463021325b53d800a892c'],
      [23, 19, 50, 41, 4, '66ff6863b0c13c7a8608fd464f9e25e17d85cf89494fb2fea6d2f4c51dab5412'],
      [300, 200, 256, 256, 5, '287e4b44a31ee7af23f8ee3b39ad04bbc3443fee3faeed5000515dd24869b281'],
      [640, 480, 7, 480, 6, '8e163ed536305647bb0a59247f1dc3b7272443e3d04ce013bf799563dcf687b1'],
      [5, 6, 11, 2, 104, '9311199948215c1ccbe9b843b24fcfce3f465ec17d4f1e466d2bbcf77b8b57fc'],
    ];
    for (const [w, h, ow, oh, seed, hash] of golden) {
      expect(sha256(resizeBicubic(randomImage(w, h, seed), ow, oh)), `${w}x${h} -> ${ow}x${oh}`).toBe(hash);
    }
  });

  it('keeps the image when the size does not change, ignores alpha, returns HWC RGB', () => {
    const img = randomImage(5, 3, 9);
    const out = resizeBicubic(img, 5, 3);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(rgbOf(img));
    const opaque = { ...img, data: img.data.map((v, i) => (i % 4 === 3 ? 255 : v)) };
    expect(Array.from(resizeBicubic(opaque, 2, 7))).toEqual(Array.from(resizeBicubic(img, 2, 7)));
  });

  it('resampleBicubicU8 handles any channel count like per-channel resizing', () => {
    const next = lcg(11);
    const two = Uint8Array.from({ length: 9 * 7 * 2 }, next);
    const out = resampleBicubicU8(two, 9, 7, 2, 4, 10);
    expect(out.length).toBe(4 * 10 * 2);
    expect(Array.from(out)).toEqual(refResize(two, 9, 7, 2, 4, 10));
    const same = resampleBicubicU8(two, 9, 7, 2, 9, 7);
    expect(Array.from(same)).toEqual(Array.from(two));
    expect(same).not.toBe(two);
  });

  it('rejects malformed images and sizes', () => {
    expectWfError(
      () => resizeBicubic({ width: 0, height: 4, data: new Uint8Array(0) }, 2, 2),
      'E_IMAGE',
      /zero size/,
    );
    expectWfError(
      () => resizeBicubic({ width: 2, height: 2, data: new Uint8Array(15) }, 2, 2),
      'E_IMAGE',
      /15 bytes but a 2x2 RGBA image needs 16/,
    );
    expectWfError(
      () => resizeBicubic(randomImage(2, 2, 1), 0, 2),
      'E_IMAGE',
      /outW must be a positive integer/,
    );
    expectWfError(
      () => resizeBicubic(randomImage(2, 2, 1), 2, 1.5),
      'E_IMAGE',
      /outH must be a positive integer/,
    );
    expectWfError(() => resampleBicubicU8([1, 2, 3], 2, 2, 1, 1, 1), 'E_IMAGE', /3 values but 2x2x1 needs 4/);
  });
});

describe('center crop (torchvision semantics)', () => {
  it('uses round-half-to-even offsets', () => {
    expect(centerCropOffsets(256, 256, 224, 224)).toEqual({ left: 16, top: 16 });
    expect(centerCropOffsets(109, 109, 96, 96)).toEqual({ left: 6, top: 6 }); // 6.5 -> 6
    expect(centerCropOffsets(11, 10, 8, 7)).toEqual({ left: 2, top: 2 }); // 1.5 -> 2, 1.5 -> 2
    expect(centerCropOffsets(9, 12, 8, 7)).toEqual({ left: 0, top: 2 }); // 0.5 -> 0, 2.5 -> 2
    expect(centerCropOffsets(10, 10, 10, 10)).toEqual({ left: 0, top: 0 });
  });

  it('pads with zeros (floor(excess / 2) before) when the crop is larger', () => {
    expect(centerCropOffsets(4, 4, 7, 4)).toEqual({ left: -1, top: 0 });
    const img = randomImage(3, 2, 4);
    const out = centerCrop(img, 5, 2);
    expect(out.width).toBe(5);
    expect(out.height).toBe(2);
    for (let y = 0; y < 2; y++) {
      expect(Array.from(out.data.subarray(y * 5 * 4, (y * 5 + 1) * 4))).toEqual([0, 0, 0, 0]);
      expect(Array.from(out.data.subarray((y * 5 + 1) * 4, (y * 5 + 4) * 4))).toEqual(
        Array.from(img.data.subarray(y * 12, y * 12 + 12)),
      );
      expect(Array.from(out.data.subarray((y * 5 + 4) * 4, (y * 5 + 5) * 4))).toEqual([0, 0, 0, 0]);
    }
  });

  it('copies the right window and keeps the array type', () => {
    const img = randomImage(6, 5, 7);
    const out = centerCrop({ ...img, data: new Uint8ClampedArray(img.data) }, 3);
    expect(out.data).toBeInstanceOf(Uint8ClampedArray);
    const { left, top } = centerCropOffsets(6, 5, 3, 3);
    expect({ left, top }).toEqual({ left: 2, top: 1 }); // 1.5 -> 2, 1 -> 1
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 3; x++) {
        const s = ((y + top) * 6 + x + left) * 4;
        expect(Array.from(out.data.subarray((y * 3 + x) * 4, (y * 3 + x + 1) * 4))).toEqual(
          Array.from(img.data.subarray(s, s + 4)),
        );
      }
    }
  });
});

describe('preprocessImageNet', () => {
  // Pillow resize + torchvision-style CenterCrop / ToTensor / Normalize in numpy float32.
  const golden = [
    {
      w: 300,
      h: 200,
      n: 224,
      seed: 5,
      s: 256,
      cropSha: '7e11e0056208cf00d176ae843dbc8d95d823b12a98621683652ad36067384b91',
      samples: [
        [0, 0, 0, 1.1186745166778564],
        [1, 112, 74, 0.7829132676124573],
        [2, 223, 223, -0.5146840214729309],
        [0, 5, 222, -0.8335474133491516],
      ],
      sum: 34022.786694543436,
    },
    {
      w: 150,
      h: 97,
      n: 96,
      seed: 7,
      s: 109,
      cropSha: '26f0620500c38d5a4c0f2fb4e0510b997acbd1aa02f7790b629bb08db8522270',
      samples: [
        [0, 0, 0, -0.5081771016120911],
        [1, 48, 32, -0.21498596668243408],
        [2, 95, 95, 0.13019615411758423],
        [0, 5, 94, -0.9876701831817627],
      ],
      sum: 6450.5362974423915,
    },
  ];

  it('equals Pillow resize + torchvision crop / ToTensor / Normalize (float32)', () => {
    for (const g of golden) {
      const img = randomImage(g.w, g.h, g.seed);
      const t = preprocessImageNet(img, g.n);
      expect(t.dtype).toBe('float32');
      expect(t.shape).toEqual([1, 3, g.n, g.n]);
      // The crop before normalization, from the building blocks.
      const rgb = resizeBicubic(img, g.s, g.s);
      const { left, top } = centerCropOffsets(g.s, g.s, g.n, g.n);
      const crop: number[] = [];
      for (let y = 0; y < g.n; y++) {
        for (let x = 0; x < g.n; x++) {
          for (let c = 0; c < 3; c++) crop.push(rgb[((y + top) * g.s + x + left) * 3 + c]);
        }
      }
      expect(sha256(crop)).toBe(g.cropSha);
      for (const [c, y, x, v] of g.samples) expect(t.data[(c * g.n + y) * g.n + x]).toBe(Math.fround(v));
      let sum = 0;
      for (const v of t.data) sum += v;
      expect(sum).toBeCloseTo(g.sum, 6);
      // Every value is (crop / 255 - mean) / std in float32.
      const plane = g.n * g.n;
      for (let i = 0; i < plane; i += 97) {
        for (let c = 0; c < 3; c++) {
          const u = crop[i * 3 + c];
          const want = Math.fround(
            Math.fround(Math.fround(u / 255) - Math.fround(IMAGENET_MEAN[c])) / Math.fround(IMAGENET_STD[c]),
          );
          expect(t.data[c * plane + i]).toBe(want);
        }
      }
    }
  });

  it('uses s = floor(256 / 224 * imgSize) and custom mean / std', () => {
    const img = randomImage(40, 30, 12);
    const t = preprocessImageNet(img, 16, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(t.shape).toEqual([1, 3, 16, 16]);
    const s = Math.floor((256 / 224) * 16); // 18
    expect(s).toBe(18);
    const rgb = resizeBicubic(img, s, s);
    // top = left = round(2 / 2) = 1
    expect(t.data[0]).toBe(Math.fround(Math.fround(Math.fround(rgb[(1 * s + 1) * 3] / 255) - 0.5) / 0.5));
    for (const v of t.data) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('validates its input', () => {
    const img = randomImage(8, 8, 1);
    expectWfError(() => preprocessImageNet(img, 0), 'E_IMAGE', /imgSize must be a positive integer/);
    expectWfError(() => preprocessImageNet(img, -224), 'E_IMAGE', /imgSize must be a positive integer/);
    expectWfError(
      () => preprocessImageNet({ width: 8, height: 0, data: new Uint8Array(0) }),
      'E_IMAGE',
      /zero size/,
    );
    expectWfError(
      () => preprocessImageNet({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) }),
      'E_IMAGE',
      /192 bytes but a 8x8 RGBA image needs 256/,
    );
    expectWfError(() => preprocessImageNet(img, 8, { std: [1, 0, 1] }), 'E_IMAGE', /non-zero/);
  });
});

describe('imageToTensor and toLuminance', () => {
  it('computes luminance like Pillow convert("L")', () => {
    const img = randomImage(45, 38, 8);
    const l = toLuminance(img);
    expect(Array.from(l.subarray(0, 12))).toEqual([183, 64, 143, 31, 193, 131, 109, 118, 105, 93, 135, 170]);
    expect(sha256(l)).toBe('b18a9fadde7817c4b752ca550e5130b9e824148580ade9e94f856eafb1de9a1d');
    expect(sha256(resampleBicubicU8(l, 45, 38, 1, 28, 28))).toBe(
      '3ed9a722e291f12e7e845ecc5f31dcca55d0bf06c5dc9b530b17c936d87568e8',
    );
  });

  it('converts RGB with resize and normalization to [1, 3, H, W]', () => {
    const img = randomImage(10, 6, 3);
    const t = imageToTensor(img, { size: [4, 5], mean: [0.1, 0.2, 0.3], std: [2, 3, 4] });
    expect(t.shape).toEqual([1, 3, 5, 4]);
    const rgb = resizeBicubic(img, 4, 5);
    const mean = [0.1, 0.2, 0.3];
    const std = [2, 3, 4];
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 20; i++) {
        const want = Math.fround(
          Math.fround(Math.fround(rgb[i * 3 + c] / 255) - Math.fround(mean[c])) / std[c],
        );
        expect(t.data[c * 20 + i]).toBe(want);
      }
    }
  });

  it('converts to one channel (luminance) and keeps the size by default', () => {
    const img = randomImage(7, 3, 5);
    const t = imageToTensor(img, { channels: 1 });
    expect(t.shape).toEqual([1, 1, 3, 7]);
    const l = toLuminance(img);
    expect(Array.from(t.data)).toEqual(Array.from(l, (v) => Math.fround(v / 255)));
    const sq = imageToTensor(img, { channels: 1, size: 4, mean: [0.5], std: [0.25] });
    expect(sq.shape).toEqual([1, 1, 4, 4]);
  });

  it('validates channels, size and statistics', () => {
    const img = randomImage(4, 4, 1);
    expectWfError(() => imageToTensor(img, { channels: 2 as 1 }), 'E_IMAGE', /channels must be 1 or 3/);
    expectWfError(() => imageToTensor(img, { size: 0 }), 'E_IMAGE', /positive integer/);
    expectWfError(() => imageToTensor(img, { mean: [0.5] }), 'E_IMAGE', /mean needs 3 values/);
  });
});

describe('MNIST transforms', () => {
  const pad = (0 - 0.1307) / 0.3081;

  it('pads 28x28 to 32x32 with 0 before normalizing with 0.1307 / 0.3081', () => {
    const digit = Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 28);
    const t = preprocessMnistDigit(digit);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([1, 1, 32, 32]);
    expect(MNIST_MEAN).toBe(0.1307);
    expect(MNIST_STD).toBe(0.3081);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const v = t.data[y * 32 + x];
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const want = inside ? (digit[(y - 2) * 28 + x - 2] - 0.1307) / 0.3081 : pad;
        expect(v).toBe(Math.fround(want));
      }
    }
    expect(t.data[0]).toBeCloseTo(-0.424212917883804, 7);
    expect(t.data[2 * 32 + 2]).toBe(Math.fround(pad)); // pixel 0 of the digit is 0
    expectWfError(() => preprocessMnistDigit(new Float32Array(783)), 'E_IMAGE', /expected 784 pixels/);
  });

  it('turns a picture into a digit: luminance, 28x28 bicubic, auto-invert of light backgrounds', () => {
    // A dark 56x56 picture with a light bar: no inversion.
    const w = 56;
    const data = new Uint8Array(w * w * 4);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const on = x >= 24 && x < 32 && y >= 8 && y < 48;
        data.set(on ? [250, 250, 250, 255] : [10, 20, 30, 255], (y * w + x) * 4);
      }
    }
    const dark: RgbaImage = { width: w, height: w, data };
    const l28 = resampleBicubicU8(toLuminance(dark), w, w, 1, 28, 28);
    const t = preprocessMnistImage(dark);
    expect(t.shape).toEqual([1, 1, 32, 32]);
    expect(Array.from(t.data)).toEqual(
      Array.from(preprocessMnistDigit(Array.from(l28, (v) => v / 255)).data),
    );
    // The same picture with inverted colors is inverted back.
    const light: RgbaImage = { width: w, height: w, data: data.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
    const l28b = resampleBicubicU8(toLuminance(light), w, w, 1, 28, 28);
    const tb = preprocessMnistImage(light);
    expect(Array.from(tb.data)).toEqual(
      Array.from(preprocessMnistDigit(Array.from(l28b, (v) => 1 - v / 255)).data),
    );
    const tn = preprocessMnistImage(light, { invert: false });
    expect(Array.from(tn.data)).toEqual(
      Array.from(preprocessMnistDigit(Array.from(l28b, (v) => v / 255)).data),
    );
  });
});

describe('stackBatch', () => {
  it('concatenates along the batch axis', () => {
    const a = preprocessImageNet(randomImage(20, 20, 1), 8);
    const b = preprocessImageNet(randomImage(30, 10, 2), 8);
    const s = stackBatch([a, b, a]);
    expect(s.shape).toEqual([3, 3, 8, 8]);
    expect(Array.from(s.data.subarray(0, 192))).toEqual(Array.from(a.data));
    expect(Array.from(s.data.subarray(192, 384))).toEqual(Array.from(b.data));
    const ints = stackBatch([{ dtype: 'int32', shape: [2], data: Int32Array.of(1, 2) }]);
    expect(ints.data).toBeInstanceOf(Int32Array);
  });

  it('rejects empty lists and mismatched tensors', () => {
    expectWfError(() => stackBatch([]), 'E_ARGUMENT', /no tensors/);
    const a = preprocessImageNet(randomImage(20, 20, 1), 8);
    const c = preprocessImageNet(randomImage(20, 20, 1), 9);
    expectWfError(() => stackBatch([a, c]), 'E_SHAPE', /tensor 1 is float32 \[1,3,9,9\]/);
  });
});
