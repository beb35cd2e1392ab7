// Training checkpoints on disk (Node only). `<path>` holds the weights in the reference layout (names and
// shapes) with `arch`, `config` and `train_step` metadata, loadable by `loadModel`, `wf` and PyTorch;
// `<path>.optim.safetensors` beside it holds the optimizer state and the run record (`train_state`
// metadata) that `--resume` needs. Each file is written to a temporary name and renamed (atomic on POSIX).
import { rename, unlink, writeFile } from 'node:fs/promises';
import {
  readSafetensorsFile,
  serializeSafetensors,
  type TensorData,
  tensorsToRecord,
  WfError,
} from '@wf/core';
import { loadModel } from '../load.js';
import type { WfModel } from '../model.js';
import { referenceConfigJson } from './checkpoint.js';
import type { Trainer } from './trainer.js';

export { referenceConfigJson } from './checkpoint.js';

/** The optimizer-state file beside a checkpoint. */
export function optimStatePath(path: string): string {
  return `${path}.optim.safetensors`;
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new WfError('E_IO', `cannot write checkpoint "${path}": ${(e as Error).message}`);
  }
}

/** The weights of a model as a safetensors file in the reference layout with `arch` / `config` metadata. */
export function modelSafetensors(model: WfModel, extra: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, TensorData> = {};
  for (const [n, t] of model.weights) tensors[n] = t;
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(model.metadata)) if (typeof v === 'string') meta[k] = v;
  Object.assign(
    meta,
    { format: 'pt', arch: model.config.arch, config: referenceConfigJson(model.config) },
    extra,
  );
  return serializeSafetensors(tensors, meta);
}

/**
 * Writes a checkpoint of a run: the optimizer state first, then the weights (each atomically), so the
 * weights file never names a step whose optimizer state is missing.
 */
export async function saveTrainCheckpoint(
  path: string,
  trainer: Trainer,
  extra: Record<string, string> = {},
): Promise<void> {
  const { tensors, meta } = trainer.state();
  const step = String(meta.step);
  await writeAtomic(
    optimStatePath(path),
    serializeSafetensors(tensors, { train_state: JSON.stringify(meta), train_step: step }),
  );
  await writeAtomic(path, modelSafetensors(trainer.model, { ...extra, train_step: step }));
}

/** A checkpoint read back for `--resume`: the model (weights) and the trainer state to `restore`. */
export interface ResumeState {
  /** The model with the checkpoint's weights. */
  model: WfModel;
  /** Optimizer state tensors. */
  tensors: Record<string, TensorData>;
  /** The run record (`Trainer.state().meta`). */
  meta: Parameters<Trainer['restore']>[1];
}

/**
 * Reads a checkpoint and its optimizer state.
 * @throws {WfError} `E_IO` / `E_ARGUMENT` when either file is missing or they disagree on the step.
 */
export async function loadTrainCheckpoint(path: string): Promise<ResumeState> {
  const model = await loadModel(path);
  const st = await readSafetensorsFile(optimStatePath(path)).catch((e: unknown) => {
    throw new WfError(
      'E_IO',
      `cannot resume from "${path}": its optimizer state ${optimStatePath(path)} is unreadable (${(e as Error).message})`,
    );
  });
  const raw = st.metadata.train_state;
  if (!raw) throw new WfError('E_ARGUMENT', `${optimStatePath(path)} has no train_state metadata`);
  const meta = JSON.parse(raw) as ResumeState['meta'];
  if (model.metadata.train_step !== String(meta.step))
    throw new WfError(
      'E_ARGUMENT',
      `cannot resume: ${path} is at step ${model.metadata.train_step}, its optimizer state at ${meta.step}`,
    );
  return { model, tensors: tensorsToRecord(st), meta };
}
