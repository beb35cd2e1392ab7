// What the bench needs from an engine (one of our backends, or a peer runtime): prepare a network at a
// size once, then run it many times.
import type { Graph } from '@wf/core';
import type { EngineKind, ModelId } from '../schema.js';

/** One network prepared on one engine at one size: compiled graph or inference session. */
export interface Runner {
  /** Runs one forward pass and waits for its outputs on the host. */
  run(): Promise<void>;
  /** Frees what `prepare` allocated. */
  dispose(): Promise<void>;
  /** Our backends: the compiled graph's planned intermediate bytes; peers: null. */
  readonly planPeakBytes: number | null;
  /** Peers: runs one forward pass on `input` (the workload's shape) and returns the first output. */
  output?(input: Float32Array): Promise<Float32Array>;
}

/** What to prepare. */
export interface PrepareSpec {
  model: ModelId;
  tokens: number;
  batch: number;
  /** Our graph of the network (built once and shared by the engines of a point). */
  graph: () => Graph;
}

/** A backend of ours or a peer runtime. */
export interface Engine {
  /** `cpu`, `gpujs:<mode>`, `ort-node`, `ort-web`. */
  readonly name: string;
  readonly kind: EngineKind;
  /** Threads it computes with, where known. */
  readonly threads: number | null;
  /** What runs underneath, e.g. `fast, wasm-simd x2` or `onnxruntime-node 1.30.0` (may be empty). */
  readonly detail?: string;
  /** Why it cannot run `model` at `tokens`/`batch` (e.g. no ONNX export of that size), or null. */
  unsupported(model: ModelId, tokens: number, batch: number): string | null;
  /** Prepares one network. */
  prepare(spec: PrepareSpec): Promise<Runner>;
  /** Frees the engine. */
  close(): Promise<void>;
}
