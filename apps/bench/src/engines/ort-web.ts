// Peer: ONNX Runtime Web's WebAssembly backend, run in Node with the same thread count as ours. The
// .wasm files are loaded from onnxruntime-web's dist folder in node_modules (`env.wasm.wasmPaths`), and
// the external data file is passed as bytes (`externalData`), as a browser would.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onnxFile } from '../workloads.js';
import { NO_SPIN, onnxUnsupported, sessionRunner } from './onnx-input.js';
import type { Engine, PrepareSpec, Runner } from './types.js';

/** File URL of onnxruntime-web's dist folder (ending in `/`), where its .wasm and loader .mjs files are. */
export function ortWebWasmDir(): string {
  const require = createRequire(import.meta.url);
  const wasm = require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  return `${pathToFileURL(dirname(wasm)).href}/`;
}

/**
 * Creates the onnxruntime-web (wasm) peer with `threads` threads. The thread count is global to the
 * runtime and fixed by the first session created in the process.
 */
export async function ortWebEngine(sharedDir: string | null, threads: number): Promise<Engine> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.wasmPaths = ortWebWasmDir();
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const bytes = new Map<string, Uint8Array>();
  const read = (path: string) => {
    let b = bytes.get(path);
    if (!b) {
      b = new Uint8Array(readFileSync(path));
      bytes.set(path, b);
    }
    return b;
  };
  return {
    name: 'ort-web',
    kind: 'peer',
    threads,
    detail: `onnxruntime-web ${ort.env.versions?.web ?? ort.env.versions?.common ?? ''}`.trim(),
    unsupported: (model, tokens, batch) => onnxUnsupported(sharedDir, model, tokens, batch),
    async prepare(spec: PrepareSpec): Promise<Runner> {
      const file = onnxFile(sharedDir, spec.model, spec.tokens);
      if (!file) throw new Error(`no ONNX export of ${spec.model} at ${spec.tokens} tokens`);
      const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file.model)), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
        externalData: file.data ? [{ path: basename(file.data), data: read(file.data) }] : undefined,
        extra: NO_SPIN,
      });
      return sessionRunner(session, (data, shape) => new ort.Tensor('float32', data, shape), spec);
    },
    async close() {
      bytes.clear();
    },
  };
}
