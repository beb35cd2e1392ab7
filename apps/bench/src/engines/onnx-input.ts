// Shared helpers of the ONNX Runtime peers: session options that keep idle threads from spinning (so a
// peer does not steal cycles from the run interleaved after it), the check that an export exists, and the
// runner over a created session (its `output` feeds a given input, for the output check of peer-outputs.ts).
import type { ModelId } from '../schema.js';
import { inputData, inputSpec, onnxFile } from '../workloads.js';
import type { PrepareSpec, Runner } from './types.js';

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

/** What a runner uses of an ONNX Runtime session (onnxruntime-node and onnxruntime-web alike). */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, never>): Promise<unknown>;
  release(): Promise<void>;
}

/**
 * A runner that feeds the workload's input to `session`'s first input. `tensor` builds the package's own
 * float32 `Tensor` (the node and web packages each check that feeds are theirs).
 */
export function sessionRunner<T>(
  session: OrtSessionLike,
  tensor: (data: Float32Array, shape: number[]) => T,
  spec: PrepareSpec,
): Runner {
  const { shape } = inputSpec(spec.model, spec.tokens, spec.batch);
  const feeds = { [session.inputNames[0]]: tensor(inputData(shape).data as Float32Array, shape) };
  return {
    planPeakBytes: null,
    async run() {
      await session.run(feeds as Record<string, never>);
    },
    async output(input) {
      const out = (await session.run({ [session.inputNames[0]]: tensor(input, shape) } as Record<
        string,
        never
      >)) as Record<string, { data: unknown }>;
      const first = Object.values(out)[0]?.data;
      if (!(first instanceof Float32Array)) throw new Error('the session gave no float32 output');
      return first;
    },
    async dispose() {
      await session.release();
    },
  };
}
