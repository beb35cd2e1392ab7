// The page script of the browser test (bundled by esbuild): onnxruntime-web with its .wasm files served
// beside the page, the ONNX Runtime backend on the given execution providers, and wfm-micro-80 run through
// `model.run` against its PyTorch fixture. The result goes back to the test through `window.runOrt`.
import { parseSafetensors } from '@wf/core';
import { loadModel } from '@wf/models';
import * as ort from 'onnxruntime-web';
import { createOrtBackend, type OrtModule } from '../index.js';

/** What the page reports for one run. */
export interface PageReport {
  /** The backend's name (runtime and providers). */
  backend: string;
  /** Largest absolute error of the logits against the fixture. */
  err: number;
  /** The bound `1e-4 * max(1, max|ref|)`. */
  bound: number;
  /** Whether `navigator.gpu` exists. */
  webgpu: boolean;
}

declare global {
  interface Window {
    runOrt(providers?: string[]): Promise<PageReport>;
  }
}

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

window.runOrt = async (providers) => {
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  ort.env.wasm.numThreads = 1;
  const backend = await createOrtBackend({
    runtime: 'web',
    ort: ort as unknown as OrtModule,
    ...(providers ? { executionProviders: providers } : {}),
  });
  try {
    const model = await loadModel(await bytes('fixtures/wfm-micro.safetensors'));
    const fx = parseSafetensors(await bytes('fixtures/wfm-micro-80.io.safetensors'));
    const out = await model.run(backend, fx.tensor('input'));
    const ref = fx.tensor('logits');
    let err = 0;
    let mx = 0;
    ref.data.forEach((v, i) => {
      err = Math.max(err, Math.abs(out.logits.data[i] - v));
      mx = Math.max(mx, Math.abs(v));
    });
    await model.dispose();
    return { backend: backend.name, err, bound: 1e-4 * Math.max(1, mx), webgpu: 'gpu' in navigator };
  } finally {
    backend.dispose();
  }
};
