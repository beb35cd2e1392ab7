// `wf train`: trains or fine-tunes a classifier (WeightFormer or ViT) on the built-in MNIST digits, a
// safetensors tensor file or an image folder, with the training API of @wf/models. Writes the weights in
// the reference layout (with `arch` / `config` metadata) atomically, checkpoints every N steps and on
// Ctrl-C or SIGTERM (a kill; SIGKILL cannot be caught, the last periodic checkpoint stays), resumes exactly (weights, optimizer state, schedule position, random state), logs one JSON
// object per step with --log, and stops on a non-finite loss with one line naming the step.
// The command builds its own options (trainCli), so the command table only gains one line.
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { type AnyBackend, seededRandom, WfError } from '@wf/core';
import {
  DWCONV_STRATEGIES,
  type DWConvStrategy,
  LINEAR_STRATEGIES,
  type LinearStrategy,
  loadModel,
  MODEL_VARIANTS,
  type ModelConfig,
  NonFiniteLossError,
  randomModel,
  type TrainData,
  Trainer,
  type TrainOptions,
  variantConfig,
  WfModel,
} from '@wf/models';
import {
  BUILTIN_MODELS,
  type BuiltinModel,
  imageFolderData,
  loadBuiltinModel,
  loadTrainCheckpoint,
  mnistTrainData,
  readTensorFileData,
  saveTrainCheckpoint,
} from '@wf/models/node';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createBackend } from '../backends.js';
import type { CliCommand } from '../command-table.js';
import { UsageError } from '../errors.js';

/** Options of `wf train` (as parsed). */
export interface TrainCommandOptions {
  weights?: string;
  model?: string;
  data: string;
  res?: number;
  holdout?: number;
  epochs?: number;
  steps?: number;
  batch: number;
  optimizer: 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  decayAll?: boolean;
  momentum?: number;
  nesterov?: boolean;
  clipGradNorm?: number;
  labelSmoothing: number;
  schedule: 'constant' | 'onecycle' | 'cosine';
  warmup?: number;
  minLr?: number;
  cycleMomentum: boolean;
  dropPath?: number;
  augment: boolean;
  shuffle: boolean;
  seed: number;
  init?: 'default' | 'timm';
  dynLinear?: LinearStrategy;
  dynDwconv?: DWConvStrategy;
  backend: string;
  threads?: number;
  output: string;
  checkpointEvery?: number;
  resume?: string;
  log?: string;
  json?: boolean;
  progress: boolean;
}

/** The final summary (`--json` prints it). */
export interface TrainSummary {
  output: string;
  steps: number;
  totalSteps: number;
  epochs: number;
  seconds: number;
  imagesPerSecond: number;
  finalLoss: number;
  testAccuracy?: number;
  accuracyPerEpoch: number[];
  interrupted: boolean;
  resumedFrom?: number;
}

/** Hooks for tests: an abort signal standing in for Ctrl-C. */
export interface TrainHooks {
  /** When aborted, the run stops after the current step and writes a checkpoint (as Ctrl-C does). */
  signal?: AbortSignal;
}

function num(name: string, { int = false, min = Number.NEGATIVE_INFINITY, positive = false } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (
      v.trim() === '' ||
      !Number.isFinite(n) ||
      (int && !Number.isInteger(n)) ||
      n < min ||
      (positive && n <= 0)
    )
      throw new InvalidArgumentError(
        `${name} must be a${positive ? ' positive' : min === 0 ? ' non-negative' : ''} ${int ? 'integer' : 'number'}`,
      );
    return n;
  };
}

/** The `wf train` command. */
export const trainCli: CliCommand = {
  name: 'train',
  build: (ctx) =>
    new Command('train')
      .description(
        'train or fine-tune a classifier on MNIST, a tensor file or an image folder; write a checkpoint',
      )
      .option('--weights <file>', 'start from this checkpoint (fine-tuning)')
      .option(
        '--model <name>',
        `random init of: ${[...BUILTIN_MODELS, ...Object.keys(MODEL_VARIANTS)].join(', ')}`,
      )
      .requiredOption(
        '--data <src>',
        'mnist | FILE.safetensors (images [N,C,H,W], labels [N]) | DIR/<class>/*.png|jpg',
      )
      .option(
        '--res <px>',
        'image folder: resize to this side (default the model image size)',
        num('--res', { int: true, positive: true }),
      )
      .option(
        '--holdout <fraction>',
        'image folder: fraction of each class held out as the test split',
        num('--holdout', { min: 0 }),
        0.2,
      )
      .option('--epochs <n>', 'epochs (default 1)', num('--epochs', { int: true, positive: true }))
      .option(
        '--steps <n>',
        'optimizer steps in all (instead of --epochs)',
        num('--steps', { int: true, positive: true }),
      )
      .option('--batch <n>', 'batch size', num('--batch', { int: true, positive: true }), 128)
      .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adamw', 'sgd']).default('adamw'))
      .option('--lr <x>', 'peak learning rate', num('--lr', { positive: true }), 1e-3)
      .option('--weight-decay <x>', 'weight decay', num('--weight-decay', { min: 0 }), 0.05)
      .option('--decay-all', 'decay every parameter (default: not 1-D ones, biases, pos_embed, cls_token)')
      .option('--momentum <x>', 'sgd momentum (default 0.9)', num('--momentum', { min: 0 }))
      .option('--nesterov', 'sgd: Nesterov momentum')
      .option(
        '--clip-grad-norm <x>',
        'clip the total gradient norm',
        num('--clip-grad-norm', { positive: true }),
      )
      .option(
        '--label-smoothing <x>',
        'label smoothing of the cross entropy',
        num('--label-smoothing', { min: 0 }),
        0,
      )
      .addOption(
        new Option('--schedule <name>', 'learning-rate schedule')
          .choices(['constant', 'onecycle', 'cosine'])
          .default('constant'),
      )
      .option(
        '--warmup <fraction>',
        'warm-up fraction of all steps (onecycle default 0.3, cosine 0)',
        num('--warmup', { min: 0 }),
      )
      .option('--min-lr <x>', 'cosine: final learning rate', num('--min-lr', { min: 0 }))
      .option(
        '--no-cycle-momentum',
        'onecycle: keep Adam beta1 / SGD momentum fixed (PyTorch OneCycleLR cycles it 0.95 -> 0.85 -> 0.95)',
      )
      .option(
        '--drop-path <x>',
        'stochastic depth (per-sample drop-path, timm linear rule over depth), train mode only',
        num('--drop-path', { min: 0 }),
      )
      .option('--no-augment', 'no shift augmentation')
      .option('--no-shuffle', 'batches in file order')
      .option(
        '--seed <n>',
        'seed of the init, shuffling and augmentation',
        num('--seed', { int: true, min: 0 }),
        0,
      )
      .addOption(
        new Option(
          '--dyn-linear <strategy>',
          "a fresh WeightFormer --model: the dynamic blocks' DynLinear strategy (static: a plain Linear); saved in the checkpoint",
        ).choices([...LINEAR_STRATEGIES]),
      )
      .addOption(
        new Option(
          '--dyn-dwconv <strategy>',
          "a fresh WeightFormer --model: the dynamic blocks' DynDWConv strategy (static: a plain depthwise 3x3); saved in the checkpoint",
        ).choices([...DWCONV_STRATEGIES]),
      )
      .addOption(
        new Option(
          '--init <scheme>',
          'random init of --model: default (PyTorch layer defaults, as the reference WeightFormer) or timm (std 0.02, as the reference ViT); default: timm for vit, default for wfm',
        ).choices(['default', 'timm']),
      )
      .option('--backend <name>', 'cpu[:plain] or gpujs[:mode]', 'cpu')
      .option(
        '--threads <n>',
        'cpu backend: threads for matrix products',
        num('--threads', { int: true, positive: true }),
      )
      .requiredOption(
        '--output <file>',
        'where to write the trained weights (.safetensors; optimizer state beside it)',
      )
      .option(
        '--checkpoint-every <n>',
        'also write the checkpoint every N steps',
        num('--checkpoint-every', { int: true, positive: true }),
      )
      .option('--resume <file>', 'resume a run from its checkpoint')
      .option('--log <file>', 'write one JSON object per step (JSONL)')
      .option('--json', 'print one final JSON summary')
      .option('--no-progress', 'plain lines instead of a progress bar')
      .action(async (o: TrainCommandOptions) => {
        await trainCommand(o, ctx.out);
      }),
};

async function readData(o: TrainCommandOptions, inChans: number, imgSize: number): Promise<TrainData> {
  if (o.data === 'mnist') return mnistTrainData();
  let isDir: boolean;
  try {
    isDir = statSync(o.data).isDirectory();
  } catch {
    throw new UsageError(
      `--data ${o.data}: no such file or folder (use mnist, a .safetensors tensor file or an image folder)`,
    );
  }
  if (isDir) return imageFolderData(o.data, { inChans, res: o.res ?? imgSize, holdOut: o.holdout });
  return readTensorFileData(o.data);
}

/** The class count of an image folder (its sub-folders); undefined for other data. */
function folderClasses(data: TrainData): number | undefined {
  return 'classes' in data ? (data as { classes: string[] }).classes.length : undefined;
}

/** `cfg` with the strategies of `--dyn-linear` / `--dyn-dwconv` (WeightFormer classifiers only). */
function withStrategies(cfg: ModelConfig, o: TrainCommandOptions): ModelConfig {
  if (o.dynLinear === undefined && o.dynDwconv === undefined) return cfg;
  if (cfg.arch !== 'wfm')
    throw new UsageError(`--dyn-linear and --dyn-dwconv apply to WeightFormer models, not ${cfg.arch}`);
  return {
    ...cfg,
    ...(o.dynLinear !== undefined ? { dynLinear: o.dynLinear } : {}),
    ...(o.dynDwconv !== undefined ? { dynDWConv: o.dynDwconv } : {}),
  };
}

/** The init the reference trained `arch` from: timm's for the softmax ViT, PyTorch's defaults otherwise. */
function defaultInit(arch: string): 'default' | 'timm' {
  return arch === 'vit' ? 'timm' : 'default';
}

/** A model whose head is re-initialized (seeded) for `classes` outputs. */
function withHead(model: WfModel, classes: number, seed: number): WfModel {
  const cfg = { ...model.config, numClasses: classes } as ModelConfig;
  const weights = new Map(model.weights);
  const hw = model.weights.get('head.weight')!;
  const d = hw.shape[1];
  const rand = seededRandom(seed + 1);
  const data = new Float32Array(classes * d);
  for (let i = 0; i < data.length; i++) data[i] = (rand() * 2 - 1) / Math.sqrt(d);
  weights.set('head.weight', { dtype: 'float32', shape: [classes, d], data });
  weights.set('head.bias', { dtype: 'float32', shape: [classes], data: new Float32Array(classes) });
  return new WfModel(cfg, weights, { ...model.metadata });
}

/** Executes `wf train`; returns the summary it printed. */
export async function trainCommand(
  o: TrainCommandOptions,
  print: (line: string) => void,
  hooks: TrainHooks = {},
): Promise<TrainSummary> {
  const sources = [o.weights, o.model, o.resume].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --weights W, --model NAME or --resume CKPT');
  if (o.epochs !== undefined && o.steps !== undefined)
    throw new UsageError('give --epochs or --steps, not both');
  if (o.holdout !== undefined && !(o.holdout >= 0 && o.holdout < 1))
    throw new UsageError('--holdout must be a fraction in [0, 1)');
  if ((o.dynLinear !== undefined || o.dynDwconv !== undefined) && o.model === undefined)
    throw new UsageError('--dyn-linear and --dyn-dwconv apply to a fresh --model only');
  if (o.init !== undefined && o.model === undefined)
    throw new UsageError('--init applies to a fresh --model only (not to --weights or --resume)');
  if (o.checkpointEvery !== undefined && o.output === undefined)
    throw new UsageError('--checkpoint-every needs --output');

  let model: WfModel;
  let resume: Awaited<ReturnType<typeof loadTrainCheckpoint>> | undefined;
  if (o.resume) {
    resume = await loadTrainCheckpoint(o.resume);
    model = resume.model;
  } else if (o.weights) model = await loadModel(o.weights);
  else if ((BUILTIN_MODELS as readonly string[]).includes(o.model!)) {
    const cfg = withStrategies((await loadBuiltinModel(o.model as BuiltinModel)).config, o);
    model = randomModel(cfg, { seed: o.seed, init: o.init ?? defaultInit(cfg.arch) });
  } else {
    const cfg = withStrategies(variantConfig(o.model!), o);
    model = randomModel(cfg, { seed: o.seed, init: o.init ?? defaultInit(cfg.arch) });
  }
  if (model.config.arch === 'wfm-dit')
    throw new UsageError('wf train trains the wfm and vit classifiers, not wfm-dit');

  const data = await readData(o, model.config.inChans, model.config.imgSize);
  const classes = folderClasses(data);
  if (!resume && classes !== undefined && classes !== model.config.numClasses) {
    print(
      `${data.name}: ${classes} classes; re-initializing the ${model.config.numClasses}-class head for ${classes} classes`,
    );
    model = withHead(model, classes, o.seed);
  }
  const opts: TrainOptions = {
    batch: o.batch,
    epochs: o.epochs,
    steps: o.steps,
    optimizer: o.optimizer,
    lr: o.lr,
    weightDecay: o.weightDecay,
    decayAll: o.decayAll,
    momentum: o.momentum,
    nesterov: o.nesterov,
    clipGradNorm: o.clipGradNorm,
    labelSmoothing: o.labelSmoothing,
    schedule: o.schedule,
    warmup: o.warmup,
    minLr: o.minLr,
    cycleMomentum: o.cycleMomentum,
    dropPath: o.dropPath,
    shuffle: o.shuffle,
    augment: o.augment,
    seed: o.seed,
  };
  const backend: AnyBackend = await createBackend(o.backend, { threads: o.threads });
  const trainer = new Trainer(model, backend, data, opts);
  if (resume) trainer.restore(resume.tensors, resume.meta);
  const resumedFrom = resume ? trainer.step : undefined;
  if (o.log && !resume) writeFileSync(o.log, '');
  const log = (obj: object) => {
    if (o.log) appendFileSync(o.log, `${JSON.stringify(obj)}\n`);
  };

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  hooks.signal?.addEventListener('abort', onSigint);
  if (hooks.signal?.aborted) interrupted = true; // aborted before the run began: stop at once
  const tty = o.progress && !o.json && process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            'epoch {epoch} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {ips} img/s | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const t0 = performance.now();
  let images = 0;
  let finalLoss = Number.NaN;
  const accuracyPerEpoch: number[] = [];
  const every = Math.max(1, Math.floor(trainer.stepsPerEpoch / 10));
  if (!o.json)
    print(
      `training ${model.describe()} (${model.trainableWeights.length} tensors) on ${data.name}: ${trainer.totalSteps} steps, ${trainer.stepsPerEpoch} per epoch, batch ${o.batch}, backend ${backend.name}${resumedFrom !== undefined ? `, resumed at step ${resumedFrom}` : ''}`,
    );
  bar?.start(trainer.totalSteps, trainer.step, { epoch: trainer.epoch + 1, loss: '-', lr: '-', ips: '-' });
  const save = () =>
    saveTrainCheckpoint(o.output, trainer, { producer: '@wf/cli wf train', data: data.name });
  try {
    while (!trainer.done && !interrupted) {
      // let the event loop run between steps: a step's awaits resolve as microtasks, so without this a
      // Ctrl-C, a SIGTERM or a timer's abort would only be seen after the whole run
      await new Promise<void>((resume) => setImmediate(resume));
      if (interrupted) break;
      let rec: Awaited<ReturnType<Trainer['trainStep']>>;
      try {
        rec = await trainer.trainStep();
      } catch (e) {
        if (e instanceof NonFiniteLossError) {
          throw new WfError(
            'E_NUMERIC',
            `${e.message}; the last good checkpoint is kept${o.checkpointEvery ? ` (${o.output})` : ''}`,
          );
        }
        throw e;
      }
      images += rec.images;
      finalLoss = rec.loss;
      const seconds = (performance.now() - t0) / 1000;
      log({ ...rec, seconds });
      const ips = images / seconds;
      bar?.update(trainer.step, {
        epoch: rec.epoch + 1,
        loss: rec.loss.toFixed(4),
        lr: rec.lr.toExponential(2),
        ips: ips.toFixed(1),
      });
      if (!tty && !o.json && (trainer.step % every === 0 || trainer.done))
        print(
          `epoch ${rec.epoch + 1} step ${rec.step}/${trainer.totalSteps} loss ${rec.loss.toFixed(4)} lr ${rec.lr.toExponential(2)} grad_norm ${rec.grad_norm.toFixed(3)} ${ips.toFixed(1)} img/s`,
        );
      const epochEnd = trainer.step % trainer.stepsPerEpoch === 0 || trainer.done;
      if (epochEnd && data.test) {
        const ev = (await trainer.evaluate())!;
        accuracyPerEpoch.push(ev.accuracy);
        log({
          epoch: rec.epoch,
          step: rec.step,
          test_accuracy: ev.accuracy,
          test_loss: ev.loss,
          seconds: (performance.now() - t0) / 1000,
        });
        if (!o.json) {
          const line = `epoch ${rec.epoch + 1}: test accuracy ${(100 * ev.accuracy).toFixed(2)}% (loss ${ev.loss.toFixed(4)})`;
          if (bar) bar.stop();
          print(line);
          if (bar && !trainer.done)
            bar.start(trainer.totalSteps, trainer.step, {
              epoch: rec.epoch + 2,
              loss: rec.loss.toFixed(4),
              lr: '-',
              ips: '-',
            });
        }
      }
      if (o.checkpointEvery && trainer.step % o.checkpointEvery === 0 && !trainer.done) await save();
    }
    bar?.stop();
    await save();
    const seconds = (performance.now() - t0) / 1000;
    const summary: TrainSummary = {
      output: o.output,
      steps: trainer.step,
      totalSteps: trainer.totalSteps,
      epochs: trainer.step / trainer.stepsPerEpoch,
      seconds,
      imagesPerSecond: images / seconds,
      finalLoss,
      testAccuracy: accuracyPerEpoch.at(-1),
      accuracyPerEpoch,
      interrupted,
      resumedFrom,
    };
    if (o.json) print(JSON.stringify(summary));
    else if (interrupted)
      print(
        `interrupted at step ${trainer.step}: checkpoint written to ${o.output}; continue with --resume ${o.output}`,
      );
    else
      print(
        `wrote ${o.output} (${trainer.step} steps, ${seconds.toFixed(1)} s, final loss ${finalLoss.toFixed(4)})`,
      );
    if (interrupted) process.exitCode = 130;
    return summary;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await trainer.dispose();
    backend.dispose();
  }
}
