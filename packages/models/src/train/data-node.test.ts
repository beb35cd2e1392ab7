// Training data from disk: an image folder DIR/<class>/*.png is read in sorted class order, preprocessed
// as the model expects, split per class with a held-out fraction, and trains; a tensor file without
// `labels` and a folder with one class fail in one line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@wf/backend-cpu';
import { serializeSafetensors } from '@wf/core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { randomModel } from '../variants.js';
import { imageFolderData, readTensorFileData } from './data-node.js';
import { Trainer } from './trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'wf-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function png(value: number): Buffer {
  const p = new PNG({ width: 20, height: 24 });
  for (let i = 0; i < 20 * 24; i++) p.data.set([value, 255 - value, (i * 7) % 256, 255], i * 4);
  return PNG.sync.write(p);
}

describe('training data from disk', () => {
  it('reads an image folder with a held-out split and trains on it', async () => {
    for (const [c, v] of [
      ['zebra', 30],
      ['apple', 220],
    ] as const) {
      mkdirSync(join(dir, 'imgs', c), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'imgs', c, `${i}.png`), png(v + i));
    }
    writeFileSync(join(dir, 'imgs', 'apple', 'notes.txt'), 'ignored');
    const data = await imageFolderData(join(dir, 'imgs'), { inChans: 3, res: 32, holdOut: 0.4 });
    expect(data.classes).toEqual(['apple', 'zebra']);
    expect(data.train.imageShape).toEqual([3, 32, 32]);
    expect([...data.train.labels]).toEqual([0, 0, 0, 1, 1, 1]);
    expect([...data.test!.labels]).toEqual([0, 0, 1, 1]);
    const model = randomModel({
      arch: 'wfm',
      imgSize: 32,
      patchSize: 8,
      inChans: 3,
      numClasses: 2,
      embedDim: 8,
      depth: 2,
      mlpRatio: 2,
      dynamicBlocks: [1],
    });
    const be = createCpuBackend();
    const t = new Trainer(model, be, data, { batch: 4, epochs: 1 });
    expect(t.totalSteps).toBe(2);
    while (!t.done) expect(Number.isFinite((await t.trainStep()).loss)).toBe(true);
    expect((await t.evaluate())!.accuracy).toBeGreaterThanOrEqual(0);
    await t.dispose();
    be.dispose();
  }, 60_000);

  it('rejects a folder with one class and a tensor file without labels in one line', async () => {
    mkdirSync(join(dir, 'one', 'a'), { recursive: true });
    await expect(imageFolderData(join(dir, 'one'), { inChans: 3, res: 32 })).rejects.toThrow(
      /at least two class sub-folders/,
    );
    const f = join(dir, 'nolabels.safetensors');
    writeFileSync(
      f,
      serializeSafetensors({ images: { dtype: 'float32', shape: [1, 1, 2, 2], data: new Float32Array(4) } }),
    );
    await expect(readTensorFileData(f)).rejects.toThrow(/no tensor "labels"/);
  });
});
