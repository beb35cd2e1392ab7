// The pipeline API: sources (built-in names, paths, bytes), images (paths, bytes, pixels, lists), what it
// reads from a timm-style config.json, typed results equal to the low-level path, features, and errors.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@wf/backend-cpu';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { topK } from './data/imagenet-classes.js';
import { preprocessClassifierImage, preprocessImageNet, type RgbaImage } from './image/preprocess.js';
import { loadModel } from './load.js';
import { featureExtractor, imageClassifier } from './pipeline.js';
import './node.js';

const MICRO = new URL('../../test-fixtures/reference/wfm-micro.safetensors', import.meta.url).pathname;

function pixels(w: number, h: number, seed: number): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97 + (i >> 7) * 13) & 255;
  return { width: w, height: h, data };
}

function png(img: RgbaImage): Uint8Array {
  const p = new PNG({ width: img.width, height: img.height });
  p.data = Buffer.from(img.data);
  return Uint8Array.from(PNG.sync.write(p));
}

let dir: string;
const backend = createCpuBackend();
const names = Array.from({ length: 10 }, (_, i) => `class ${i}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wf-pipeline-'));
  await copyFile(MICRO, join(dir, 'model.safetensors'));
  // timm's layout: label_names at the top, preprocessing under pretrained_cfg.
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      architecture: 'wfm_micro',
      num_classes: 10,
      label_names: names,
      pretrained_cfg: {
        input_size: [3, 48, 64],
        mean: [0.5, 0.5, 0.5],
        std: [0.25, 0.25, 0.25],
        crop_pct: 0.9,
      },
    }),
  );
});
afterAll(() => backend.dispose());

describe('imageClassifier', () => {
  test('reads input size, normalization and labels from a timm config.json; results equal the low-level path', async () => {
    const classify = await imageClassifier(join(dir, 'model.safetensors'), { backend });
    expect(classify.model.labels).toEqual(names);
    expect(classify.model.inputSize).toEqual({ channels: 3, height: 48, width: 64 });
    expect(classify.model.preprocessing).toMatchObject({
      kind: 'imagenet',
      mean: [0.5, 0.5, 0.5],
      cropPct: 0.9,
    });
    expect(classify.inputSize).toEqual({ width: 64, height: 48 });
    const img = pixels(90, 70, 1);
    const file = join(dir, 'a.png');
    await writeFile(file, png(img));
    const got = await classify(file, { topK: 3 });
    const x = preprocessClassifierImage(img, {
      width: 64,
      height: 48,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
      cropPct: 0.9,
    });
    const model = await loadModel(MICRO);
    const want = topK((await model.run(backend, x)).logits.data, 3, names);
    expect(got).toEqual(want);
    expect(got[0].label).toMatch(/^class \d$/);
    // A list runs in batches and gives one result per image, in order, the same as one by one.
    const imgs = [pixels(64, 64, 2), png(pixels(30, 40, 3)), file];
    const many = await classify(imgs, { topK: 2 });
    expect(many).toHaveLength(3);
    expect(many[2]).toEqual(want.slice(0, 2));
    expect(many[0]).toEqual(await classify(imgs[0], { topK: 2 }));
    await classify.dispose();
    await model.dispose();
  });

  test('a built-in name, two lines; the pipeline owns its backend when none is given', async () => {
    const classify = await imageClassifier('wfm-mnist');
    const digit = pixels(28, 28, 5);
    const [best] = await classify(digit, { topK: 1 });
    expect(best.label).toMatch(/^\d$/);
    expect(classify.labels).toHaveLength(10);
    await classify.dispose();
    await classify.dispose();
    await expect(classify(digit)).rejects.toThrow(/disposed/);
  });

  test('inputSize overrides the resolution; bad names and sizes are one-line errors', async () => {
    const classify = await imageClassifier(MICRO, { backend, inputSize: { width: 80, height: 64 } });
    expect(classify.inputSize).toEqual({ width: 80, height: 64 });
    expect(await classify(pixels(20, 20, 1))).toHaveLength(5);
    await classify.dispose();
    await expect(imageClassifier(MICRO, { backend, inputSize: 60 })).rejects.toThrow(
      /multiple of the patch size 8/,
    );
    await expect(imageClassifier('wfm-tiny')).rejects.toThrow(/model variant, not a checkpoint/);
    await expect(imageClassifier('nosuchmodel')).rejects.toThrow(
      /unknown model "nosuchmodel": use a built-in model \(wfm-mnist, vit-mnist\)/,
    );
  });
});

describe('featureExtractor', () => {
  test('pooled and token features, one image or a batch', async () => {
    const extract = await featureExtractor(MICRO, { backend });
    const one = await extract(pixels(64, 64, 1));
    expect(one.shape).toEqual([64]);
    const tokens = await extract(pixels(64, 64, 1), { pooling: 'tokens' });
    expect(tokens.shape).toEqual([64, 64]);
    // The pooled vector of a WeightFormer is the mean of its tokens.
    const mean = new Float32Array(64);
    for (let t = 0; t < 64; t++) for (let d = 0; d < 64; d++) mean[d] += tokens.data[t * 64 + d] / 64;
    for (let d = 0; d < 64; d++) expect(mean[d]).toBeCloseTo(one.data[d], 4);
    const batch = await extract([pixels(64, 64, 1), pixels(50, 80, 2)]);
    expect(batch.shape).toEqual([2, 64]);
    expect(Array.from(batch.data.subarray(0, 64))).toEqual(Array.from(one.data));
    await extract.dispose();
  });
});

test('preprocessClassifierImage equals preprocessImageNet when square at the reference crop', () => {
  const img = pixels(97, 61, 4);
  const a = preprocessImageNet(img, 64);
  const b = preprocessClassifierImage(img, { width: 64, height: 64 });
  expect(b.shape).toEqual(a.shape);
  expect(Array.from(b.data)).toEqual(Array.from(a.data));
});
