// The bench's page script (bundled by esbuild, run in headless Chromium): prepares WFM-T at 224 px,
// batch 1, with the fixture weights (the same ones as the ONNX export) on our backends and on
// onnxruntime-web, checks every engine's logits against the float64 PyTorch fixture, then runs blocks of
// timed runs when the Node driver asks (see run-browser.ts), each block after a short pause. Files come
// from the page's own folder on the driver's server: data/ (fixture and ONNX files) and ort/
// (onnxruntime-web's dist folder).
import { createCpuBackend } from '@wf/backend-cpu';
import { type AnyBackend, parseSafetensors, type TensorData } from '@wf/core';
import { loadModel } from '@wf/models';
import type { PageApi, PageEngine, PageReport, PageSetup } from './protocol.js';

/** A prepared engine: one forward pass resolving to the logits. */
interface Prepared {
  info: PageEngine;
  run(): Promise<Float32Array>;
  dispose(): Promise<void>;
}

async function bytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`fetch ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The fixture's input and float64 reference logits (cast to float32 for comparison). */
let fixture: { input: TensorData; logits: Float32Array } | undefined;
let weights: Uint8Array | undefined;
const prepared: Prepared[] = [];

function compare(
  info: Omit<PageEngine, 'maxAbsErr' | 'refMaxAbs' | 'top1'>,
  logits: Float32Array,
): PageEngine {
  const ref = fixture!.logits;
  let err = 0;
  let mx = 0;
  let argGot = 0;
  let argRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(logits[i] - ref[i]);
    err = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(err, d);
    mx = Math.max(mx, Math.abs(ref[i]));
    if (logits[i] > logits[argGot]) argGot = i;
    if (ref[i] > ref[argRef]) argRef = i;
  }
  return { ...info, maxAbsErr: err, refMaxAbs: mx, top1: argGot === argRef && logits.length === ref.length };
}

/** Our backend as an engine: the fixture model compiled for 224 px, batch 1. */
async function oursEngine(name: string, backend: AnyBackend, threads: () => number): Promise<Prepared> {
  const model = await loadModel(weights!);
  const compiled = await model.compile(backend, { batch: 1, height: 224, width: 224 });
  const input = fixture!.input;
  const runtime = (backend as { runtime?: () => { summary: string } }).runtime?.();
  return {
    info: {
      name,
      threads: threads(),
      detail: runtime?.summary ?? backend.name,
      prepareMs: 0,
      warmupMs: [],
      maxAbsErr: 0,
      refMaxAbs: 0,
      top1: false,
    },
    async run() {
      const out = await compiled.run({ input });
      return out.logits.data as Float32Array;
    },
    async dispose() {
      compiled.dispose();
      backend.dispose();
    },
  };
}

/** onnxruntime-web: loaded from ort/ (not bundled), the wasm or the WebGPU execution provider. */
// biome-ignore lint/suspicious/noExplicitAny: onnxruntime-web is loaded at run time, untyped here
let ort: any;
async function ortEngine(name: string, threads: number): Promise<Prepared> {
  const ep = name === 'ort-web:webgpu' ? 'webgpu' : 'wasm';
  if (ep === 'webgpu' && !('gpu' in navigator)) throw new Error('navigator.gpu is missing (no WebGPU)');
  if (!ort) {
    const url = new URL('ort/ort.all.min.mjs', location.href).href;
    ort = await import(/* @vite-ignore */ url);
    ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
    // Global to the runtime, fixed by the first session: one thread where the page has no shared memory.
    ort.env.wasm.numThreads = crossOriginIsolated ? threads : 1;
    ort.env.logLevel = 'error';
  }
  const session = await ort.InferenceSession.create(await bytes('data/wfm-tiny-224.onnx'), {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    externalData: [{ path: 'wfm-tiny.onnx.data', data: await bytes('data/wfm-tiny.onnx.data') }],
  });
  const x = fixture!.input;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, [...x.shape]) };
  const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
  return {
    info: {
      name,
      threads: ep === 'wasm' ? ort.env.wasm.numThreads : 1,
      detail: `onnxruntime-web ${ort.env.versions?.web ?? ''} ${ep}`.replace(/\s+/g, ' ').trim(),
      prepareMs: 0,
      warmupMs: [],
      maxAbsErr: 0,
      refMaxAbs: 0,
      top1: false,
    },
    async run() {
      const out = await session.run(feeds);
      const t = out[output];
      const data = (t.getData ? await t.getData(true) : t.data) as Float32Array;
      return data;
    },
    async dispose() {
      await session.release();
    },
  };
}

async function prepare(name: string, threads: number): Promise<Prepared> {
  if (name === 'cpu') {
    const backend = createCpuBackend({ threads });
    return oursEngine(name, backend, () => backend.runtime().threads);
  }
  if (name.startsWith('gpujs:')) {
    const { createGpujsBackend } = await import('@wf/backend-gpujs');
    const backend = await createGpujsBackend({ mode: name.slice(6) as 'webgl2' });
    return oursEngine(name, backend, () => 1);
  }
  if (name === 'ort-web' || name === 'ort-web:webgpu') return ortEngine(name, threads);
  throw new Error(`unknown engine ${name}`);
}

async function setup(s: PageSetup): Promise<PageReport> {
  const io = parseSafetensors(await bytes('data/wfm-tiny-224.io.safetensors'));
  const input = io.tensor('input');
  const ref = io.tensor('logits');
  fixture = {
    input: { dtype: 'float32', shape: [...input.shape], data: Float32Array.from(input.data) },
    logits: Float32Array.from(ref.data),
  };
  weights = await bytes('data/wfm-tiny.safetensors');
  const report: PageReport = {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    webgpu:
      'gpu' in navigator &&
      !!(await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu
        ?.requestAdapter()
        .catch(() => null)),
    engines: [],
    skipped: [],
  };
  for (const name of s.engines) {
    const t0 = performance.now();
    let p: Prepared;
    try {
      p = await prepare(name, s.threads);
    } catch (e) {
      report.skipped.push({ engine: name, reason: (e as Error).message.split('\n')[0] });
      continue;
    }
    const prepareMs = performance.now() - t0;
    const warmupMs: number[] = [];
    let logits: Float32Array = new Float32Array(0);
    for (let i = 0; i < Math.max(1, s.warmup); i++) {
      const t = performance.now();
      logits = await p.run();
      warmupMs.push(performance.now() - t);
    }
    p.info = compare({ ...p.info, prepareMs, warmupMs }, logits);
    prepared.push(p);
    report.engines.push(p.info);
  }
  return report;
}

/**
 * Pause before each engine's block, ms: an engine's worker threads can keep working after its run returns
 * (onnxruntime-web keeps about a core busy for some 20 ms in Node, see settle.ts), and the first run of the
 * next block would pay for it. A page cannot read its CPU time, so the wait is fixed.
 */
const SETTLE_MS = 50;

async function round(block: number): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = {};
  for (const p of prepared) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const ms: number[] = [];
    for (let i = 0; i < block; i++) {
      const t = performance.now();
      await p.run();
      ms.push(performance.now() - t);
    }
    times[p.info.name] = ms;
  }
  return times;
}

async function dispose(): Promise<void> {
  for (const p of prepared.splice(0)) await p.dispose();
}

const api: PageApi = { setup, round, dispose };
(globalThis as unknown as { wfBench: PageApi }).wfBench = api;
