// The page script of the browser training test (bundled by esbuild, run in Chromium): `window.wfTrain(steps)`
// builds WFM-MNIST's architecture with seeded random weights, trains it on one fixed batch of 16 seeded
// pseudo-digits with the cpu backend (AdamW, label smoothing 0.1) and resolves to the loss of every step.
import { createCpuBackend } from '@wf/backend-cpu';
import { seededRandom } from '@wf/core';
import { randomModel, Trainer, type WfmConfig } from '@wf/models';

const WFM_MNIST: WfmConfig = {
  arch: 'wfm',
  imgSize: 32,
  patchSize: 4,
  inChans: 1,
  numClasses: 10,
  embedDim: 64,
  depth: 5,
  mlpRatio: 4,
  dynamicBlocks: [1, 4],
};

async function wfTrain(steps: number): Promise<{ losses: number[]; backend: string }> {
  const rand = seededRandom(5);
  const n = 16;
  const images = new Float32Array(n * 1024).map(() => rand() * 2 - 0.5);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const backend = createCpuBackend();
  const trainer = new Trainer(
    randomModel(WFM_MNIST, { seed: 0 }),
    backend,
    { name: 'synthetic', train: { images, imageShape: [1, 32, 32], labels } },
    {
      batch: n,
      steps,
      lr: 2e-3,
      labelSmoothing: 0.1,
      augment: false,
    },
  );
  const losses: number[] = [];
  try {
    while (!trainer.done) losses.push((await trainer.trainStep()).loss);
    return { losses, backend: backend.name };
  } finally {
    await trainer.dispose();
    backend.dispose();
  }
}

(globalThis as unknown as { wfTrain: typeof wfTrain }).wfTrain = wfTrain;
