// `wf train` end to end on the deit-micro-64 training-step fixture: a tensor file made from its inputs,
// trained with --no-shuffle --no-augment --schedule constant and the fixture's hyper-parameters, logs the
// PyTorch loss of every step (1e-4 relative) and writes a checkpoint that loads; a run interrupted after
// step 1 (as Ctrl-C does) and continued with --resume ends with exactly the same weights; a diverging run
// stops with one line naming the step; bad data fails in one line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, type TensorData, writeSafetensorsFile } from '@wf/core';
import { loadModel } from '@wf/models';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainCommandOptions, trainCommand } from './commands/train.js';
import { main } from './program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** `wf train` options as parsed, for calling `trainCommand` directly (no shuffle or augmentation). */
const PARSED_DEFAULTS = {
  optimizer: 'adamw',
  lr: 1e-3,
  weightDecay: 0.05,
  schedule: 'constant',
  cycleMomentum: true,
  augment: false,
  shuffle: false,
  seed: 0,
  backend: 'cpu',
  progress: false,
} as const;

const dir = mkdtempSync(join(tmpdir(), 'wf-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ref = parseSafetensors(readFixture('grad/deit-micro-64.trainstep.safetensors'));
const weights = fixturePath('reference/deit-micro-64.safetensors');
const dataFile = join(dir, 'steps.safetensors');
const common = [
  '--data',
  dataFile,
  '--batch',
  '4',
  '--no-shuffle',
  '--no-augment',
  '--schedule',
  'constant',
  '--lr',
  '1e-3',
  '--weight-decay',
  '0.05',
  '--clip-grad-norm',
  '5',
  '--label-smoothing',
  '0.1',
];

beforeAll(async () => {
  const ins = [0, 1, 2].map((s) => ref.tensor(`input.${s}`));
  const per = ins[0].data.length;
  const images = new Float32Array(per * 3);
  for (const [s, t] of ins.entries()) images.set(t.data, s * per);
  const labels = new Int32Array(12);
  for (let s = 0; s < 3; s++) labels.set(ref.tensor(`labels.${s}`).data, s * 4);
  const t: Record<string, TensorData> = {
    images: { dtype: 'float32', shape: [12, ...ins[0].shape.slice(1)], data: images },
    labels: { dtype: 'int32', shape: [12], data: labels },
  };
  await writeSafetensorsFile(dataFile, t);
});

describe('wf train', () => {
  it('reproduces the PyTorch training steps and writes a loadable checkpoint', async () => {
    const output = join(dir, 'out.safetensors');
    const log = join(dir, 'log.jsonl');
    const r = await wf('train', '--weights', weights, ...common, '--output', output, '--log', log, '--json');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out.at(-1)!);
    expect(summary.steps).toBe(3);
    expect(summary.epochs).toBe(1);
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const refLoss = ref.tensor('loss').data;
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const [s, l] of lines.entries()) {
      expect(Math.abs(l.loss - refLoss[s])).toBeLessThanOrEqual(1e-4 * refLoss[s]);
      expect(l).toHaveProperty('grad_norm');
      expect(l).toHaveProperty('lr', 1e-3);
      expect(l).toHaveProperty('seconds');
    }
    expect(summary.finalLoss).toBe(lines[2].loss);
    const m = await loadModel(output);
    expect(m.config.arch).toBe('vit');
    expect(m.metadata.train_step).toBe('3');
    const p = ref.tensor('param.head.weight');
    const got = m.weights.get('head.weight')!.data;
    let err = 0;
    for (let i = 0; i < p.data.length; i++) err = Math.max(err, Math.abs(got[i] - p.data[i]));
    expect(err).toBeLessThan(1e-4);
  }, 120_000);

  it('Ctrl-C after step 1 writes a checkpoint; --resume ends exactly where an uninterrupted run does', async () => {
    const full = join(dir, 'full.safetensors');
    expect((await wf('train', '--weights', weights, ...common, '--output', full, '--json')).code).toBe(0);
    const cut = join(dir, 'cut.safetensors');
    const ctl = new AbortController();
    const parsed: TrainCommandOptions = {
      ...PARSED_DEFAULTS,
      weights,
      data: dataFile,
      batch: 4,
      clipGradNorm: 5,
      labelSmoothing: 0.1,
      output: cut,
    };
    const s = await trainCommand(
      parsed,
      (line) => {
        if (line.startsWith('epoch 1 step 1/')) ctl.abort();
      },
      { signal: ctl.signal },
    );
    process.exitCode = undefined;
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBe(1);
    const r = await wf('train', '--resume', cut, ...common, '--output', cut, '--json');
    expect(r.err).toEqual([]);
    expect(JSON.parse(r.out.at(-1)!)).toMatchObject({ steps: 3, resumedFrom: 1 });
    const a = await loadModel(full);
    const b = await loadModel(cut);
    for (const [n, t] of a.weights) expect(b.weights.get(n)!.data, n).toEqual(t.data);
  }, 120_000);

  it('a SIGINT or SIGTERM during a run is seen at the next step (the loop yields to the event loop)', async () => {
    // a timer (like a signal) only fires when the event loop runs: a loop of microtask-only steps never
    // lets it, and the run would finish all 400 steps before noticing
    const ctl = new AbortController();
    let started = false;
    const run = trainCommand(
      {
        ...PARSED_DEFAULTS,
        model: 'wfm-mnist',
        data: 'mnist',
        steps: 400,
        batch: 16,
        labelSmoothing: 0,
        // one thread: no worker messages, so nothing inside a step yields to the event loop
        threads: 1,
        output: join(dir, 'timer.safetensors'),
      },
      // plain progress lines (every 50 steps at batch 16): the timer may abort once the run has started
      (line) => {
        if (line.startsWith('epoch 1 step')) started = true;
      },
      { signal: ctl.signal },
    );
    const timer = setInterval(() => {
      if (started) ctl.abort();
    }, 20);
    const s = await run.finally(() => clearInterval(timer));
    process.exitCode = undefined;
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBeGreaterThan(0);
    expect(s.steps).toBeLessThan(400);
  }, 120_000);

  it('a diverging run stops with one line naming the step', async () => {
    const r = await wf(
      'train',
      '--weights',
      weights,
      ...common.slice(0, -6),
      '--lr',
      '1e30',
      '--output',
      join(dir, 'nan.safetensors'),
      '--json',
    );
    // with --json the error is one JSON line on stdout, nothing on stderr
    expect(r.code).toBe(1);
    expect(r.err).toEqual([]);
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0]).error.message).toMatch(/^non-finite (loss|gradient norm) .*at step [23]\b/);
  }, 120_000);

  it('bad data fails in one line', async () => {
    const r = await wf(
      'train',
      '--model',
      'wfm-mnist',
      '--data',
      join(dir, 'nope'),
      '--output',
      join(dir, 'x.safetensors'),
    );
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^wf: --data .*no such file or folder/)]);
  });
});
