// Engine: onnxruntime-node running our own ONNX exports (@wf/onnx, one dynamic-batch file per network, as
// `wf export` writes it), with exactly the settings of the `ort-node` peer on the PyTorch exports, so the
// ratio of the two measures the exporter's graphs alone.
import { exportOnnx } from '@wf/onnx';
import { buildGraph } from '../workloads.js';
import { NO_SPIN, sessionRunner } from './onnx-input.js';
import type { Engine, PrepareSpec, Runner } from './types.js';

/** Creates the engine `ort-node-wf` (a peer runtime on our exports) with `threads` intra-op threads. */
export async function ortNodeExportEngine(threads: number): Promise<Engine> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'ort-node-wf',
    kind: 'peer',
    threads,
    detail: `onnxruntime-node ${ort.env.versions?.node ?? ''} on @wf/onnx exports`.trim(),
    unsupported: () => null,
    async prepare(spec: PrepareSpec): Promise<Runner> {
      const exp = exportOnnx((batch) => buildGraph(spec.model, spec.tokens, batch));
      const session = await ort.InferenceSession.create(exp.model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: NO_SPIN,
      });
      // No `output`: this runs our export of the bench's own workload graph (its random weights), not the
      // checkpoint behind peers/onnx/tiny-224.io.safetensors; @wf/onnx's tests check what the exports compute.
      const { output: _notThisCheckpoint, ...runner } = sessionRunner(
        session,
        (data, shape) => new ort.Tensor('float32', data, shape),
        spec,
      );
      return runner;
    },
    async close() {},
  };
}
