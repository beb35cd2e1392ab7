// Shared helpers of the ONNX Runtime peers: session options that keep idle threads from spinning (so a
// peer does not steal cycles from the run interleaved after it) and the check that an export exists.
import type { ModelId } from '../schema.js';
import { onnxFile } from '../workloads.js';

/** Session config entries common to both peers: no spin-waiting of intra-op threads between runs. */
export const NO_SPIN = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };

/** Why a peer cannot run `model` at `tokens`/`batch`, or null. The exports are batch 1 with static shapes. */
export function onnxUnsupported(
  sharedDir: string | null,
  model: ModelId,
  tokens: number,
  batch: number,
): string | null {
  if (!sharedDir) return 'the shared folder (../shared) was not found';
  if (batch !== 1) return 'the ONNX exports have a static batch of 1';
  if (!onnxFile(sharedDir, model, tokens)) return `no ONNX export of ${model} at ${tokens} tokens`;
  return null;
}
