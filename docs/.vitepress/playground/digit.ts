// Turns a drawing (white strokes on black, any size) into the MNIST models' input the way MNIST itself
// was made: crop to the ink, scale so the longer side spans 20 of 28 pixels, centre the centre of mass,
// then `preprocessMnistImage` (luminance, Pillow-bicubic resize to 28x28, pad to 32x32, normalize).
import type { TensorData } from '@wf/core';
import { MNIST_MEAN, MNIST_STD, preprocessMnistImage, type RgbaImage, toLuminance } from '@wf/models';

/** Luminance above which a pixel counts as ink. */
const INK = 24;

/** The model input and the 28x28 digit it holds (values in [0, 1], for a preview). */
export interface MnistInput {
  /** float32 `[1, 1, 32, 32]`, normalized as the MNIST models expect. */
  tensor: TensorData;
  /** The centred 28x28 digit, row-major, in [0, 1]. */
  digit: Float32Array;
}

/** The drawing as an MNIST input, or null when nothing is drawn. */
export function drawingToMnist(img: RgbaImage): MnistInput | null {
  const { width, height } = img;
  const lum = toLuminance(img);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = lum[y * width + x];
      if (v < INK) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  if (x1 < 0) return null;
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const frame = Math.max(28, Math.ceil((side * 28) / 20));
  const ox = Math.round(mx / mass + 0.5 - frame / 2);
  const oy = Math.round(my / mass + 0.5 - frame / 2);
  const data = new Uint8ClampedArray(frame * frame * 4);
  for (let y = 0; y < frame; y++) {
    const sy = y + oy;
    for (let x = 0; x < frame; x++) {
      const sx = x + ox;
      const v = sx >= 0 && sy >= 0 && sx < width && sy < height ? lum[sy * width + sx] : 0;
      const p = (y * frame + x) * 4;
      data[p] = v;
      data[p + 1] = v;
      data[p + 2] = v;
      data[p + 3] = 255;
    }
  }
  const tensor = preprocessMnistImage({ width: frame, height: frame, data }, { invert: false });
  const digit = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++)
      digit[y * 28 + x] = tensor.data[(y + 2) * 32 + x + 2] * MNIST_STD + MNIST_MEAN;
  }
  return { tensor, digit };
}
