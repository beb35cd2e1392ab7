// The two built-in MNIST classifiers, fetched from the site (`/models/*.safetensors`) and run on the
// picked backend: class probabilities (softmax of the logits), run latency, and the compile time the
// first run on a backend pays.
import type { AnyBackend, TensorData } from '@wf/core';
import { fetchBytes, loadModel, type WfModel } from '@wf/models';

/** The playground's models, in display order. */
export const PLAYGROUND_MODELS = [
  { id: 'wfm-mnist', title: 'WeightFormer-MNIST', what: 'DynLinear + DynDWConv, linear in tokens' },
  { id: 'vit-mnist', title: 'ViT-MNIST', what: 'softmax attention, quadratic in tokens' },
] as const;

/** A model id. */
export type PlaygroundModelId = (typeof PLAYGROUND_MODELS)[number]['id'];

/** One classification. */
export interface Classification {
  /** The most probable digit. */
  prediction: number;
  /** Probability of each digit 0..9. */
  probabilities: number[];
  /** Milliseconds of the forward pass (compilation excluded). */
  runMs: number;
  /** Milliseconds spent getting the compiled model (compilation on a backend's first run, else ~0). */
  compileMs: number;
}

/** Downloads and loads both models from `base` (the site's base URL). */
export async function loadPlaygroundModels(base: string): Promise<Record<PlaygroundModelId, WfModel>> {
  const entries = await Promise.all(
    PLAYGROUND_MODELS.map(async (m) => {
      const bytes = await fetchBytes(`${base}models/${m.id}.safetensors`);
      return [m.id, await loadModel(bytes)] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<PlaygroundModelId, WfModel>;
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i] - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Runs `model` on `input` with `backend`. */
export async function classify(
  model: WfModel,
  backend: AnyBackend,
  input: TensorData,
): Promise<Classification> {
  const t0 = performance.now();
  const compiled = await model.compile(backend);
  const t1 = performance.now();
  const out = await compiled.run(input);
  const t2 = performance.now();
  const probabilities = softmax(out.logits.data);
  const prediction = probabilities.indexOf(Math.max(...probabilities));
  return { prediction, probabilities, runMs: t2 - t1, compileMs: t1 - t0 };
}
