// Shared by this package's training tests (not exported, not built): a toy task small enough to train a
// step in milliseconds, a WeightFormer of three blocks on 16 x 16 one-channel images with three classes,
// and a batch of eight images for it.
import type { WfmConfig } from '../config.js';

/**
 * The toy WeightFormer: 16 x 16 one-channel images in 8 x 8 patches (four tokens), width 8, three blocks
 * (block 1 dynamic), MLP ratio 2, three classes. A fresh object each call.
 */
export function toyConfig(): WfmConfig {
  return {
    arch: 'wfm',
    imgSize: 16,
    patchSize: 8,
    inChans: 1,
    numClasses: 3,
    embedDim: 8,
    depth: 3,
    mlpRatio: 2,
    dynamicBlocks: [1],
  };
}

/**
 * A toy data set named `toy` for {@link toyConfig}: a training split of eight 1 x 16 x 16 images whose
 * pixel `i` (counted over all eight, image after image) is `pixel(i)`, labelled 0, 1, 2, 0, 1, 2, 0, 1.
 */
export function toyData(pixel: (i: number) => number) {
  return {
    name: 'toy',
    train: {
      images: new Float32Array(8 * 256).map((_, i) => pixel(i)),
      imageShape: [1, 16, 16] as [number, number, number],
      labels: Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]),
    },
  };
}
