// Peer: ONNX Runtime for Node (native, MLAS kernels) running the same networks' ONNX exports. The
// external data file is found by the runtime beside the .onnx file.
import { onnxFile } from '../workloads.js';
import { NO_SPIN, onnxUnsupported, sessionRunner } from './onnx-input.js';
import type { Engine, PrepareSpec, Runner } from './types.js';

/** Creates the onnxruntime-node peer with `threads` intra-op threads. Throws when the package cannot load. */
export async function ortNodeEngine(sharedDir: string | null, threads: number): Promise<Engine> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'ort-node',
    kind: 'peer',
    threads,
    detail: `onnxruntime-node ${ort.env.versions?.node ?? ort.env.versions?.common ?? ''}`.trim(),
    unsupported: (model, tokens, batch) => onnxUnsupported(sharedDir, model, tokens, batch),
    async prepare(spec: PrepareSpec): Promise<Runner> {
      const file = onnxFile(sharedDir, spec.model, spec.tokens);
      if (!file) throw new Error(`no ONNX export of ${spec.model} at ${spec.tokens} tokens`);
      const session = await ort.InferenceSession.create(file.model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: NO_SPIN,
      });
      return sessionRunner(session, (data, shape) => new ort.Tensor('float32', data, shape), spec);
    },
    async close() {},
  };
}
