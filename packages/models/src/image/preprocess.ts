// Image preprocessing for WeightFormer.js (browser-safe): PIL-exact bicubic resampling, so that results match
// torchvision's `Resize` on PIL images bit for bit; torchvision's center crop; the ImageNet evaluation
// transform of SPEC section 2; a generic image -> tensor conversion; and the MNIST digit transform used by the
// shared fixtures (pad 28x28 to 32x32, normalize with 0.1307 / 0.3081).
//
// Resampling follows Pillow's `ImagingResample` (libImaging/Resample.c) for 8-bit images: separable, a
// horizontal pass then a vertical one (a pass is skipped when that side keeps its size), the bicubic kernel
// with a = -0.5 whose support is widened by the scale factor when downscaling (antialiasing), coefficients
// normalized per output pixel and quantized to 22-bit fixed point, and the result of each pass rounded and
// clamped to uint8.

import { type TensorData, WfError } from '@wf/core';

/** An 8-bit RGBA image, row-major, 4 bytes per pixel, like canvas `ImageData` and the decoders' output. */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 4` bytes: R, G, B, A of each pixel, rows top to bottom. */
  data: Uint8Array | Uint8ClampedArray;
}

/** Three per-channel values (R, G, B). */
export type Rgb = readonly [number, number, number];

/** Per-channel mean of ImageNet-1K (R, G, B), used by the reference evaluation code. */
export const IMAGENET_MEAN: Rgb = Object.freeze([0.485, 0.456, 0.406] as const);
/** Per-channel standard deviation of ImageNet-1K (R, G, B), used by the reference evaluation code. */
export const IMAGENET_STD: Rgb = Object.freeze([0.229, 0.224, 0.225] as const);
/** Mean of the MNIST digits in [0, 1], used to normalize the MNIST models' input. */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of the MNIST digits in [0, 1], used to normalize the MNIST models' input. */
export const MNIST_STD = 0.3081;

// Fixed-point precision of Pillow's 8-bit resampling: 32 bits - 8 bits of data - 2 bits of headroom.
const PRECISION_BITS = 22;
const FIXED_ONE = 2 ** PRECISION_BITS;
const FIXED_HALF = 2 ** (PRECISION_BITS - 1);
const INV_FIXED_ONE = 2 ** -PRECISION_BITS;

/**
 * Checks that `img` is a well-formed RGBA image.
 * @param where - Prefix of the error message (the calling function's name).
 * @throws {WfError} `E_IMAGE` when the size is not a pair of positive integers or the data is not
 *   `width * height * 4` bytes.
 */
export function assertRgbaImage(img: RgbaImage, where = 'image'): void {
  if (img === null || typeof img !== 'object') {
    throw new WfError('E_IMAGE', `${where}: expected an image { width, height, data }, got ${String(img)}`);
  }
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new WfError(
      'E_IMAGE',
      `${where}: image size must be two non-negative integers, got ${width}x${height}; fix width and height`,
    );
  }
  if (width === 0 || height === 0) {
    throw new WfError(
      'E_IMAGE',
      `${where}: image has zero size (${width}x${height}); pass an image of 1x1 or more`,
    );
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new WfError(
      'E_IMAGE',
      `${where}: image data must be a Uint8Array or Uint8ClampedArray of RGBA bytes`,
    );
  }
  const need = width * height * 4;
  if (data.length !== need) {
    throw new WfError(
      'E_IMAGE',
      `${where}: image data has ${data.length} bytes but a ${width}x${height} RGBA image needs ${need}; ` +
        'pass row-major RGBA bytes (4 per pixel)',
    );
  }
}

function assertPositiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new WfError('E_IMAGE', `${what} must be a positive integer, got ${v}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// PIL bicubic resampling

/** Pillow's bicubic kernel (a = -0.5), support 2. */
function bicubicFilter(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Fixed-point coefficients of one resampling pass: per output pixel, first input index, tap count, taps. */
interface PassCoeffs {
  ksize: number;
  /** `[first, count]` for each output pixel. */
  bounds: Int32Array;
  /** `ksize` fixed-point weights for each output pixel (the first `count` are used). */
  kk: Int32Array;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the box [0, inSize). */
function precomputeCoeffs(inSize: number, outSize: number): PassCoeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const ss = 1 / filterscale;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; negatives clamp to 0 right after.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const count = xmax - xmin;
    let ww = 0;
    for (let x = 0; x < count; x++) {
      const v = bicubicFilter((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    const base = xx * ksize;
    for (let x = 0; x < count; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      kk[base + x] = v < 0 ? Math.trunc(-0.5 + v * FIXED_ONE) : Math.trunc(0.5 + v * FIXED_ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = count;
  }
  return { ksize, bounds, kk };
}

/** Pillow's `clip8`: drop the fixed-point fraction (the sum carries +0.5 already), clamp to [0, 255]. */
function clip8(ss: number): number {
  const v = Math.floor(ss * INV_FIXED_ONE);
  return Math.min(Math.max(v, 0), 255);
}

/** Horizontal pass: `h` rows of `srcW` pixels (stride `srcStride`, first `nch` channels) -> `outW` pixels. */
function resampleHorizontal(
  src: ArrayLike<number>,
  srcW: number,
  h: number,
  srcStride: number,
  nch: number,
  outW: number,
): Uint8Array {
  const { ksize, bounds, kk } = precomputeCoeffs(srcW, outW);
  const out = new Uint8Array(outW * h * nch);
  for (let y = 0; y < h; y++) {
    const row = y * srcW * srcStride;
    const orow = y * outW * nch;
    for (let xx = 0; xx < outW; xx++) {
      const first = row + bounds[2 * xx] * srcStride;
      const count = bounds[2 * xx + 1];
      const kb = xx * ksize;
      for (let c = 0; c < nch; c++) {
        let ss = FIXED_HALF;
        for (let x = 0, p = first + c; x < count; x++, p += srcStride) ss += src[p] * kk[kb + x];
        out[orow + xx * nch + c] = clip8(ss);
      }
    }
  }
  return out;
}

/** Vertical pass: an interleaved `w x srcH x nch` uint8 image -> `w x outH x nch`. */
function resampleVertical(src: Uint8Array, w: number, srcH: number, nch: number, outH: number): Uint8Array {
  const { ksize, bounds, kk } = precomputeCoeffs(srcH, outH);
  const rowLen = w * nch;
  const out = new Uint8Array(rowLen * outH);
  for (let yy = 0; yy < outH; yy++) {
    const first = bounds[2 * yy] * rowLen;
    const count = bounds[2 * yy + 1];
    const kb = yy * ksize;
    const orow = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let ss = FIXED_HALF;
      for (let y = 0, p = first + i; y < count; y++, p += rowLen) ss += src[p] * kk[kb + y];
      out[orow + i] = clip8(ss);
    }
  }
  return out;
}

/** Resamples the first `nch` channels of pixels laid out with stride `srcStride`; never aliases `src`. */
function resampleInterleaved(
  src: ArrayLike<number>,
  w: number,
  h: number,
  srcStride: number,
  nch: number,
  outW: number,
  outH: number,
): Uint8Array {
  let tmp: Uint8Array;
  if (outW !== w) {
    tmp = resampleHorizontal(src, w, h, srcStride, nch, outW);
  } else {
    tmp = new Uint8Array(w * h * nch);
    for (let i = 0, p = 0; i < w * h; i++, p += srcStride) {
      for (let c = 0; c < nch; c++) tmp[i * nch + c] = src[p + c];
    }
  }
  return outH !== h ? resampleVertical(tmp, outW, h, nch, outH) : tmp;
}

/**
 * Resizes an interleaved 8-bit image with any number of channels exactly as Pillow's
 * `Image.resize(size, Image.BICUBIC)` does (and so torchvision's `Resize` on PIL images), each channel
 * independently.
 *
 * @param data - `width * height * channels` integers in [0, 255], row-major, channels interleaved.
 * @returns A new `outW * outH * channels` array, same layout.
 * @throws {WfError} `E_IMAGE` when a size is not a positive integer or `data` has the wrong length.
 */
export function resampleBicubicU8(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
): Uint8Array {
  assertPositiveInt(width, 'resampleBicubicU8: width');
  assertPositiveInt(height, 'resampleBicubicU8: height');
  assertPositiveInt(channels, 'resampleBicubicU8: channels');
  assertPositiveInt(outW, 'resampleBicubicU8: outW');
  assertPositiveInt(outH, 'resampleBicubicU8: outH');
  if (data.length !== width * height * channels) {
    throw new WfError(
      'E_IMAGE',
      `resampleBicubicU8: data has ${data.length} values but ${width}x${height}x${channels} needs ` +
        `${width * height * channels}; pass interleaved row-major pixels`,
    );
  }
  return resampleInterleaved(data, width, height, channels, channels, outW, outH);
}

/**
 * Resizes the RGB channels of an image to `outW x outH` with Pillow's bicubic filter (antialiased when
 * downscaling), rounding to uint8 after each pass as Pillow does, so results equal torchvision's
 * `Resize((outH, outW), BICUBIC)` on the PIL image. Alpha is ignored.
 *
 * @returns Interleaved RGB, row-major (HWC), `outW * outH * 3` values, each an integer in [0, 255].
 * @throws {WfError} `E_IMAGE` for a malformed image or an output size that is not a positive integer.
 */
export function resizeBicubic(img: RgbaImage, outW: number, outH: number): Float32Array {
  assertRgbaImage(img, 'resizeBicubic');
  assertPositiveInt(outW, 'resizeBicubic: outW');
  assertPositiveInt(outH, 'resizeBicubic: outH');
  return Float32Array.from(resampleInterleaved(img.data, img.width, img.height, 4, 3, outW, outH));
}

/**
 * Luminance of each pixel as Pillow's `convert('L')` computes it (ITU-R 601-2, fixed point):
 * `(R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16`. Alpha is ignored.
 *
 * @returns `width * height` bytes, row-major.
 * @throws {WfError} `E_IMAGE` for a malformed image.
 */
export function toLuminance(img: RgbaImage): Uint8Array {
  assertRgbaImage(img, 'toLuminance');
  const n = img.width * img.height;
  const d = img.data;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    out[i] = (d[p] * 19595 + d[p + 1] * 38470 + d[p + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Center crop

/** Python's `round` (half to even), which torchvision's center crop uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Where torchvision's `CenterCrop` takes a `cropW x cropH` window from a `width x height` image:
 * `top = round((height - cropH) / 2)`, `left = round((width - cropW) / 2)` with Python's half-to-even
 * `round`. When the crop is larger than the image on a side, torchvision first pads that side with zeros
 * (`floor(excess / 2)` before), which shows here as a negative offset.
 *
 * @returns The image coordinates of the crop's top-left pixel.
 * @throws {WfError} `E_IMAGE` when a size is not a positive integer.
 */
export function centerCropOffsets(
  width: number,
  height: number,
  cropW: number,
  cropH: number,
): { left: number; top: number } {
  assertPositiveInt(width, 'centerCropOffsets: width');
  assertPositiveInt(height, 'centerCropOffsets: height');
  assertPositiveInt(cropW, 'centerCropOffsets: cropW');
  assertPositiveInt(cropH, 'centerCropOffsets: cropH');
  const axis = (size: number, crop: number): number =>
    crop > size ? -Math.floor((crop - size) / 2) : roundHalfEven((size - crop) / 2);
  return { left: axis(width, cropW), top: axis(height, cropH) };
}

/**
 * Crops the center `cropW x cropH` of an image with torchvision's `CenterCrop` semantics (see
 * {@link centerCropOffsets}); parts of the window outside the image are zero (alpha included).
 *
 * @param cropH - Crop height; default `cropW` (a square crop).
 * @returns A new image of the same data type.
 * @throws {WfError} `E_IMAGE` for a malformed image or a crop size that is not a positive integer.
 */
export function centerCrop(img: RgbaImage, cropW: number, cropH: number = cropW): RgbaImage {
  assertRgbaImage(img, 'centerCrop');
  const { left, top } = centerCropOffsets(img.width, img.height, cropW, cropH);
  const n = cropW * cropH * 4;
  const out = img.data instanceof Uint8ClampedArray ? new Uint8ClampedArray(n) : new Uint8Array(n);
  for (let y = 0; y < cropH; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height) continue;
    const x0 = Math.max(0, -left);
    const x1 = Math.min(cropW, img.width - left);
    if (x1 <= x0) continue;
    const from = (sy * img.width + x0 + left) * 4;
    out.set(img.data.subarray(from, from + (x1 - x0) * 4), (y * cropW + x0) * 4);
  }
  return { width: cropW, height: cropH, data: out };
}

// ---------------------------------------------------------------------------------------------------------
// Tensors

/**
 * Lookup table byte -> normalized float32 for one channel, computed as torchvision does in float32:
 * `(float32(v / 255) - mean) / std`.
 */
function normalizeLut(mean: number, std: number): Float32Array {
  const m = Math.fround(mean);
  const s = Math.fround(std);
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v / 255) - m) / s;
  return lut;
}

function checkStats(values: readonly number[], n: number, what: string, where: string, isStd: boolean): void {
  if (values.length !== n) {
    throw new WfError(
      'E_IMAGE',
      `${where}: ${what} needs ${n} values (one per channel), got ${values.length}`,
    );
  }
  for (const v of values) {
    if (!Number.isFinite(v) || (isStd && v === 0)) {
      throw new WfError(
        'E_IMAGE',
        `${where}: ${what} values must be finite${isStd ? ' and non-zero' : ''}, got ${v}`,
      );
    }
  }
}

/** Writes interleaved bytes (HWC) through per-channel tables into a planar (CHW) float32 array. */
function toPlanar(
  hwc: Uint8Array,
  w: number,
  h: number,
  nch: number,
  luts: Float32Array[],
  crop?: { left: number; top: number; size: number },
): Float32Array {
  const ow = crop ? crop.size : w;
  const oh = crop ? crop.size : h;
  const left = crop ? crop.left : 0;
  const top = crop ? crop.top : 0;
  const plane = ow * oh;
  const out = new Float32Array(plane * nch);
  for (let c = 0; c < nch; c++) {
    const lut = luts[c];
    for (let y = 0; y < oh; y++) {
      const src = ((y + top) * w + left) * nch + c;
      const dst = c * plane + y * ow;
      for (let x = 0; x < ow; x++) out[dst + x] = lut[hwc[src + x * nch]];
    }
  }
  return out;
}

/** Normalization options: per-channel mean and standard deviation (R, G, B). */
export interface NormalizeOptions {
  /** Per-channel mean subtracted after scaling to [0, 1]; default {@link IMAGENET_MEAN}. */
  mean?: Rgb;
  /** Per-channel standard deviation divided by after subtracting the mean; default {@link IMAGENET_STD}. */
  std?: Rgb;
}

/**
 * The ImageNet evaluation transform of the reference (SPEC section 2), equal to torchvision's
 * `Resize((s, s), BICUBIC)`, `CenterCrop(imgSize)`, `ToTensor()`, `Normalize(mean, std)` on the PIL RGB image,
 * with `s = floor(256 / 224 * imgSize)` (256 for 224, 512 for 448). The whole image is squashed to `s x s`
 * (aspect ratio not kept). Alpha is ignored (nothing is composited). Arithmetic after the resize is float32,
 * as in torchvision.
 *
 * @param imgSize - Side of the model's input; default 224.
 * @returns float32 `[1, 3, imgSize, imgSize]`, channels R, G, B.
 * @throws {WfError} `E_IMAGE` for a malformed image, an `imgSize` that is not a positive integer, or bad
 *   mean / std values.
 */
export function preprocessImageNet(img: RgbaImage, imgSize = 224, opts: NormalizeOptions = {}): TensorData {
  assertRgbaImage(img, 'preprocessImageNet');
  assertPositiveInt(imgSize, 'preprocessImageNet: imgSize');
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  checkStats(mean, 3, 'mean', 'preprocessImageNet', false);
  checkStats(std, 3, 'std', 'preprocessImageNet', true);
  const s = Math.floor((256 / 224) * imgSize);
  const rgb = resampleInterleaved(img.data, img.width, img.height, 4, 3, s, s);
  const { left, top } = centerCropOffsets(s, s, imgSize, imgSize);
  const luts = [0, 1, 2].map((c) => normalizeLut(mean[c], std[c]));
  const data = toPlanar(rgb, s, s, 3, luts, { left, top, size: imgSize });
  return { dtype: 'float32', shape: [1, 3, imgSize, imgSize], data };
}

/** Options of {@link preprocessClassifierImage}. */
export interface ClassifierImageOptions {
  /** Output width in pixels. */
  width: number;
  /** Output height in pixels. */
  height: number;
  /** Fraction of the resized image kept by the centre crop (timm `crop_pct`); default 224/256. */
  cropPct?: number;
  /** Per-channel mean (R, G, B); default {@link IMAGENET_MEAN}. */
  mean?: readonly number[];
  /** Per-channel standard deviation (R, G, B); default {@link IMAGENET_STD}. */
  std?: readonly number[];
}

/**
 * The reference evaluation transform at any output size: the whole image squashed (Pillow bicubic) to
 * `floor(width / cropPct) x floor(height / cropPct)`, centre-cropped to `width x height`, scaled to [0, 1] and
 * normalized per channel. Square at the default crop, it equals {@link preprocessImageNet} exactly.
 *
 * @returns float32 `[1, 3, height, width]`.
 * @throws {WfError} `E_IMAGE` for a malformed image, a bad size or crop fraction, or bad mean / std values.
 */
export function preprocessClassifierImage(img: RgbaImage, opts: ClassifierImageOptions): TensorData {
  assertRgbaImage(img, 'preprocessClassifierImage');
  const { width, height } = opts;
  assertPositiveInt(width, 'preprocessClassifierImage: width');
  assertPositiveInt(height, 'preprocessClassifierImage: height');
  const cropPct = opts.cropPct ?? 224 / 256;
  if (!(typeof cropPct === 'number' && cropPct > 0 && cropPct <= 1)) {
    throw new WfError(
      'E_IMAGE',
      `preprocessClassifierImage: cropPct must be in (0, 1], got ${String(cropPct)}`,
    );
  }
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  checkStats(mean, 3, 'mean', 'preprocessClassifierImage', false);
  checkStats(std, 3, 'std', 'preprocessClassifierImage', true);
  const sw = Math.max(width, Math.floor((1 / cropPct) * width));
  const sh = Math.max(height, Math.floor((1 / cropPct) * height));
  const rgb = resampleInterleaved(img.data, img.width, img.height, 4, 3, sw, sh);
  const luts = [0, 1, 2].map((c) => normalizeLut(mean[c], std[c]));
  const plane = toPlanar(rgb, sw, sh, 3, luts);
  const { left, top } = centerCropOffsets(sw, sh, width, height);
  if (sw === width && sh === height) return { dtype: 'float32', shape: [1, 3, height, width], data: plane };
  const data = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const src = c * sw * sh + (y + top) * sw + left;
      data.set(plane.subarray(src, src + width), c * width * height + y * width);
    }
  }
  return { dtype: 'float32', shape: [1, 3, height, width], data };
}

/** Options of {@link imageToTensor}. */
export interface ImageToTensorOptions {
  /**
   * Output size: one number for a square, or `[width, height]`. The image is resized (Pillow bicubic) to
   * exactly this size, without keeping the aspect ratio and without cropping. Default: the image's size.
   */
  size?: number | readonly [width: number, height: number];
  /** 3 for R, G, B (default); 1 for luminance as Pillow's `convert('L')`, computed before the resize. */
  channels?: 1 | 3;
  /** Per-channel mean (length `channels`) subtracted after scaling to [0, 1]; default 0. */
  mean?: readonly number[];
  /** Per-channel standard deviation (length `channels`); default 1. */
  std?: readonly number[];
}

/**
 * Converts an image to a float32 `[1, channels, height, width]` tensor: optional bicubic resize,
 * scaling to [0, 1], then `(v - mean) / std` per channel, in float32 as torchvision's `ToTensor` and
 * `Normalize` do. Alpha is ignored.
 *
 * @throws {WfError} `E_IMAGE` for a malformed image, a bad size or channel count, or bad mean / std values.
 */
export function imageToTensor(img: RgbaImage, opts: ImageToTensorOptions = {}): TensorData {
  assertRgbaImage(img, 'imageToTensor');
  const nch = opts.channels ?? 3;
  if (nch !== 1 && nch !== 3) {
    throw new WfError('E_IMAGE', `imageToTensor: channels must be 1 or 3, got ${String(nch)}`);
  }
  const size = opts.size ?? [img.width, img.height];
  const [outW, outH] = typeof size === 'number' ? [size, size] : size;
  assertPositiveInt(outW, 'imageToTensor: output width');
  assertPositiveInt(outH, 'imageToTensor: output height');
  const mean = opts.mean ?? new Array<number>(nch).fill(0);
  const std = opts.std ?? new Array<number>(nch).fill(1);
  checkStats(mean, nch, 'mean', 'imageToTensor', false);
  checkStats(std, nch, 'std', 'imageToTensor', true);
  const pixels =
    nch === 3
      ? resampleInterleaved(img.data, img.width, img.height, 4, 3, outW, outH)
      : resampleInterleaved(toLuminance(img), img.width, img.height, 1, 1, outW, outH);
  const luts = mean.map((m, c) => normalizeLut(m, std[c]));
  const data = toPlanar(pixels, outW, outH, nch, luts);
  return { dtype: 'float32', shape: [1, nch, outH, outW], data };
}

// ---------------------------------------------------------------------------------------------------------
// MNIST

/**
 * The MNIST models' input transform (README, fixtures/mnist): the 28x28 digit zero-padded by 2 on every
 * side to 32x32, then `(v - 0.1307) / 0.3081` (so padded pixels become `-0.1307 / 0.3081`), computed in
 * float64 and stored as float32.
 *
 * @param pixels784 - The digit, 28x28 row-major, values in [0, 1] (white digit on black, as in MNIST).
 * @returns float32 `[1, 1, 32, 32]`.
 * @throws {WfError} `E_IMAGE` when there are not exactly 784 values.
 */
export function preprocessMnistDigit(pixels784: ArrayLike<number>): TensorData {
  if (pixels784 === null || typeof pixels784 !== 'object' || pixels784.length !== 784) {
    const got = pixels784 === null || typeof pixels784 !== 'object' ? String(pixels784) : pixels784.length;
    throw new WfError('E_IMAGE', `preprocessMnistDigit: expected 784 pixels (28x28), got ${got}`);
  }
  const data = new Float32Array(32 * 32).fill((0 - MNIST_MEAN) / MNIST_STD);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++)
      data[(y + 2) * 32 + x + 2] = (pixels784[y * 28 + x] - MNIST_MEAN) / MNIST_STD;
  }
  return { dtype: 'float32', shape: [1, 1, 32, 32], data };
}

/** Options of {@link preprocessMnistImage}. */
export interface MnistImageOptions {
  /**
   * Invert the digit (`v -> 1 - v`) so that it is light on dark like MNIST: `true`, `false`, or `'auto'`
   * (default) to invert when the 28x28 digit's mean is over 0.5, i.e. the background is light.
   */
  invert?: boolean | 'auto';
}

/**
 * Turns a picture of one digit (any size, grayscale or color) into the MNIST models' input: luminance
 * (Pillow's `convert('L')`), resize to 28x28 (Pillow bicubic, aspect ratio not kept), scale to [0, 1],
 * invert when asked (by default when the background is light), then {@link preprocessMnistDigit}.
 *
 * @returns float32 `[1, 1, 32, 32]`.
 * @throws {WfError} `E_IMAGE` for a malformed image.
 */
export function preprocessMnistImage(img: RgbaImage, opts: MnistImageOptions = {}): TensorData {
  assertRgbaImage(img, 'preprocessMnistImage');
  const l = resampleInterleaved(toLuminance(img), img.width, img.height, 1, 1, 28, 28);
  const digit = new Float64Array(784);
  let sum = 0;
  for (let i = 0; i < 784; i++) {
    digit[i] = l[i] / 255;
    sum += digit[i];
  }
  const invert = opts.invert ?? 'auto';
  if (invert === true || (invert === 'auto' && sum / 784 > 0.5)) {
    for (let i = 0; i < 784; i++) digit[i] = 1 - digit[i];
  }
  return preprocessMnistDigit(digit);
}

// ---------------------------------------------------------------------------------------------------------
// Batching

/**
 * Concatenates tensors along the batch axis (axis 0), e.g. several `[1, 3, 224, 224]` inputs into one
 * `[n, 3, 224, 224]` batch. All tensors must share dtype and every axis but the first.
 *
 * @throws {WfError} `E_ARGUMENT` for an empty list; `E_SHAPE` for mismatched dtypes or shapes.
 */
export function stackBatch(tensors: readonly TensorData[]): TensorData {
  if (tensors.length === 0) {
    throw new WfError('E_ARGUMENT', 'stackBatch: no tensors given; pass at least one');
  }
  const first = tensors[0];
  if (first.shape.length === 0) {
    throw new WfError('E_SHAPE', 'stackBatch: tensors need a batch axis; got a scalar');
  }
  const rest = first.shape.slice(1);
  let batch = 0;
  for (const [i, t] of tensors.entries()) {
    const same = t.shape.length === first.shape.length && rest.every((d, j) => t.shape[j + 1] === d);
    if (t.dtype !== first.dtype || !same) {
      throw new WfError(
        'E_SHAPE',
        `stackBatch: tensor ${i} is ${t.dtype} [${t.shape.join(',')}] but tensor 0 is ${first.dtype} ` +
          `[${first.shape.join(',')}]; all must match except the first axis`,
      );
    }
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new WfError(
        'E_SHAPE',
        `stackBatch: tensor ${i} has ${t.data.length} values for shape [${t.shape.join(',')}]; fix the tensor`,
      );
    }
    batch += t.shape[0];
  }
  const per = rest.reduce((a, b) => a * b, 1);
  const data = first.dtype === 'int32' ? new Int32Array(batch * per) : new Float32Array(batch * per);
  let off = 0;
  for (const t of tensors) {
    data.set(t.data, off);
    off += t.data.length;
  }
  return { dtype: first.dtype, shape: [batch, ...rest], data };
}
