// In-memory training data ([N, C, H, W] float32 images, already preprocessed, and int labels), seeded
// reproducible batching (a per-epoch shuffle) and the reference's shift augmentation (one random offset of
// up to 2 px per batch, padded with the background value). Every random choice is a pure function of
// (seed, epoch) or (seed, step), drawn with `seededRandom`, so a resumed run needs only the step count.
import { type ParsedSafetensors, seededRandom, type TensorData, WfError } from '@wf/core';

/** One split of images and labels. */
export interface ImageSet {
  /** `[N, C, H, W]` float32, preprocessed as the model expects. */
  images: Float32Array;
  /** `[C, H, W]` of one image. */
  imageShape: [number, number, number];
  /** One class index per image. */
  labels: Int32Array;
}

/** A training set, an optional test split and how to pad shifted images. */
export interface TrainData {
  /** What it is, for logs (`mnist`, a path). */
  name: string;
  /** The images trained on. */
  train: ImageSet;
  /** Held-out images for accuracy after each epoch, if any. */
  test?: ImageSet;
  /** Background value per channel (pads shifted images); default each image's top-left pixel per channel. */
  background?: number[];
}

/** Number of images in a set. */
export function setSize(s: ImageSet): number {
  return s.labels.length;
}

/** Mixes integers into one 32-bit seed (for the per-epoch / per-step generators). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
  }
  return h >>> 0;
}

/** The order of the training images in `epoch`: identity, or a Fisher-Yates shuffle seeded by (seed, epoch). */
export function epochOrder(n: number, epoch: number, seed: number, shuffle: boolean): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const rand = seededRandom(mixSeed(seed, 1, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The shift of optimizer step `step`: dx, dy in `-max..max`, seeded by (seed, step). */
export function stepShift(step: number, seed: number, max = 2): [number, number] {
  const rand = seededRandom(mixSeed(seed, 2, step));
  const k = 2 * max + 1;
  return [Math.floor(rand() * k) - max, Math.floor(rand() * k) - max];
}

/**
 * Gathers rows `idx` of a set into a batch, shifted by (dx, dy) pixels (content moves right / down for
 * positive values; uncovered pixels get the background value), as padding by `max` and cropping at
 * `(max - dy, max - dx)` does.
 */
export function gatherBatch(
  set: ImageSet,
  idx: ArrayLike<number>,
  shift: [number, number] = [0, 0],
  background?: readonly number[],
): { input: TensorData; labels: Int32Array } {
  const [c, h, w] = set.imageShape;
  const per = c * h * w;
  const b = idx.length;
  const out = new Float32Array(b * per);
  const labels = new Int32Array(b);
  const [dx, dy] = shift;
  for (let k = 0; k < b; k++) {
    const i = idx[k];
    labels[k] = set.labels[i];
    const src = set.images.subarray(i * per, (i + 1) * per);
    const dst = out.subarray(k * per, (k + 1) * per);
    if (dx === 0 && dy === 0) {
      dst.set(src);
      continue;
    }
    for (let ch = 0; ch < c; ch++) {
      const bg = background?.[ch] ?? src[ch * h * w];
      for (let y = 0; y < h; y++) {
        const sy = y - dy;
        for (let x = 0; x < w; x++) {
          const sx = x - dx;
          dst[ch * h * w + y * w + x] =
            sy >= 0 && sy < h && sx >= 0 && sx < w ? src[ch * h * w + sy * w + sx] : bg;
        }
      }
    }
  }
  return { input: { dtype: 'float32', shape: [b, c, h, w], data: out }, labels };
}

/**
 * A tensor file's images and labels: `images` `[N, C, H, W]` float32 (already preprocessed) and `labels`
 * `[N]` (int64 or int32). Optional `test_images` / `test_labels` are the test split.
 * @throws {WfError} `E_ARGUMENT` naming the tensor when one is missing or mis-shaped.
 */
export function tensorFileData(st: ParsedSafetensors, name: string): TrainData {
  const pick = (imgKey: string, lblKey: string): ImageSet => {
    const img = st.tensor(imgKey);
    const lbl = st.tensor(lblKey);
    if (img.dtype !== 'float32' || img.shape.length !== 4)
      throw new WfError(
        'E_ARGUMENT',
        `${name}: "${imgKey}" must be float32 [N, C, H, W], got ${img.dtype} [${img.shape.join(', ')}]`,
      );
    if (lbl.shape.length !== 1 || lbl.shape[0] !== img.shape[0] || lbl.dtype === 'float32')
      throw new WfError(
        'E_ARGUMENT',
        `${name}: "${lblKey}" must be integer [${img.shape[0]}], got ${lbl.dtype} [${lbl.shape.join(', ')}]`,
      );
    return {
      images: img.data as Float32Array,
      imageShape: [img.shape[1], img.shape[2], img.shape[3]],
      labels: Int32Array.from(lbl.data),
    };
  };
  const names = new Set(st.names());
  for (const k of ['images', 'labels'])
    if (!names.has(k))
      throw new WfError(
        'E_ARGUMENT',
        `${name}: no tensor "${k}" (a tensor file needs images [N, C, H, W] float32 and labels [N] int64)`,
      );
  const data: TrainData = { name, train: pick('images', 'labels') };
  if (names.has('test_images') && names.has('test_labels')) data.test = pick('test_images', 'test_labels');
  return data;
}

/** Splits off the last `fraction` of every class (in order) as a test split, as the MNIST split does. */
export function holdOut(set: ImageSet, fraction: number): { train: ImageSet; test: ImageSet } {
  if (!(fraction > 0 && fraction < 1))
    throw new WfError('E_ARGUMENT', `held-out fraction must be in (0, 1), got ${fraction}`);
  const byClass = new Map<number, number[]>();
  set.labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const tr: number[] = [];
  const te: number[] = [];
  for (const list of byClass.values()) {
    const nTrain = Math.floor((1 - fraction) * list.length);
    tr.push(...list.slice(0, nTrain));
    te.push(...list.slice(nTrain));
  }
  tr.sort((a, b) => a - b);
  te.sort((a, b) => a - b);
  const take = (idx: number[]): ImageSet => {
    const { input, labels } = gatherBatch(set, idx);
    return { images: input.data as Float32Array, imageShape: set.imageShape, labels };
  };
  return { train: take(tr), test: take(te) };
}
