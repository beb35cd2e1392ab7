// Our backends as bench engines: the cpu backend always, `wf-ort` (@wf/backend-onnxruntime), and every
// mode of @wf/backend-gpujs when that package is installed (found with a dynamic import, so the bench runs
// without it).
import { createCpuBackend } from '@wf/backend-cpu';
import { type AnyBackend, compile } from '@wf/core';
import { inputData, inputSpec } from '../workloads.js';
import { NO_SPIN } from './onnx-input.js';
import type { Engine, PrepareSpec, Runner } from './types.js';

/** Modes tried when @wf/backend-gpujs does not list its own. */
export const GPUJS_FALLBACK_MODES = ['webgpu', 'webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'];

/**
 * Threads a backend computes with, where it says: a numeric `threads` (or `options.threads`) property,
 * else the `xN` of its matrix engine's name (`wasm-simd x2`), else 1 for the plain reference kernels
 * (single-threaded JavaScript); null when it does not say.
 */
export function threadsOf(backend: AnyBackend): number | null {
  const b = backend as unknown as {
    threads?: unknown;
    options?: { threads?: unknown };
    engine?: { name?: unknown };
    kernelSet?: unknown;
  };
  const t = typeof b.threads === 'number' ? b.threads : b.options?.threads;
  if (typeof t === 'number' && Number.isInteger(t) && t > 0) return t;
  const m = typeof b.engine?.name === 'string' ? /\bx(\d+)\b|(\d+) threads?/.exec(b.engine.name) : null;
  if (m) return Number(m[1] ?? m[2]);
  if (b.kernelSet === 'plain') return 1;
  return null;
}

/** One line naming a backend's kernels, e.g. `fast, wasm-simd x2` (empty when it says nothing). */
export function backendDetail(backend: AnyBackend): string {
  const b = backend as unknown as { kernelSet?: unknown; engine?: { name?: unknown } };
  return [b.kernelSet, b.engine?.name].filter((x) => typeof x === 'string').join(', ');
}

/** Wraps a backend as an engine. */
export function backendEngine(backend: AnyBackend, threads: number | null, name = backend.name): Engine {
  return {
    name,
    kind: 'ours',
    threads,
    unsupported: () => null,
    async prepare(spec: PrepareSpec): Promise<Runner> {
      const compiled = await compile(spec.graph(), backend);
      const { name, shape } = inputSpec(spec.model, spec.tokens, spec.batch);
      const inputs = { [name]: inputData(shape) };
      return {
        // A backend running whole graphs (ONNX Runtime) plans its own memory: no plan of ours to report.
        planPeakBytes: backend.compileGraph ? null : compiled.plan.peakBytes,
        async run() {
          await compiled.run(inputs);
        },
        async dispose() {
          compiled.dispose();
        },
      };
    },
    async close() {
      backend.dispose();
    },
  };
}

/** Options of `oursEngines`. */
export interface OursOptions {
  /** Threads requested from backends that take a thread count. */
  threads?: number;
  /** Whether to include an engine of this name (`cpu`, `gpujs:<mode>`). */
  include: (name: string) => boolean;
  /** Whether an engine was named explicitly (engines that only run when asked for). */
  explicit: (name: string) => boolean;
  /** Records an engine left out. */
  skip: (what: string, reason: string) => void;
  /** Progress and notes. */
  log: (line: string) => void;
}

type GpujsModule = {
  createGpujsBackend?: (o: { mode?: string }) => AnyBackend | Promise<AnyBackend>;
  availableModes?: () => string[] | Promise<string[]>;
  listModes?: () => string[] | Promise<string[]>;
  GPUJS_MODES?: readonly string[];
  MODES?: readonly string[];
};

/** Creates the cpu backend (`plain`: the reference kernels) and waits for its worker threads. */
async function cpuBackend(threads: number | undefined, plain: boolean): Promise<AnyBackend> {
  // The fast path runs attention fused (score blocks, never the N x N matrix), so its default heap suffices.
  const backend = createCpuBackend({
    ...(threads ? { threads } : {}),
    ...(plain ? { kernels: 'plain' as const } : {}),
  });
  await (backend as unknown as { ready?: Promise<void> }).ready;
  return backend;
}

/**
 * Every backend of ours available in this process that passes the filter: `cpu` (default kernels),
 * `cpu:plain` (the reference kernels; only when named explicitly, being slow), and the gpu.js modes.
 */
export async function oursEngines(opts: OursOptions): Promise<Engine[]> {
  const engines: Engine[] = [];
  for (const [name, plain] of [
    ['cpu', false],
    ['cpu:plain', true],
  ] as const) {
    if (!opts.include(name) || (plain && !opts.explicit(name))) continue;
    const backend = await cpuBackend(opts.threads, plain);
    // A cpu backend without a kernel set predates the fast path: plain, single-threaded kernels.
    const legacy = (backend as unknown as { kernelSet?: unknown }).kernelSet === undefined;
    const threads = threadsOf(backend) ?? (legacy ? 1 : null);
    const detail = backendDetail(backend);
    opts.log(`${name}: ${detail || 'kernels not reported'}, ${threads ?? 'unknown'} threads`);
    engines.push({ ...backendEngine(backend, threads, name), detail });
  }
  if (opts.include('wf-ort')) {
    // @wf/backend-onnxruntime: whole compiled graphs as onnxruntime-node sessions, same threads as cpu.
    try {
      const { createOrtBackend } = await import('@wf/backend-onnxruntime');
      const threads = opts.threads ?? engines.find((e) => e.name === 'cpu')?.threads ?? undefined;
      // The session settings of the ort-node peer (sequential, no spin-waiting), so the ratio is like for like.
      const backend = await createOrtBackend({
        ...(threads ? { threads } : {}),
        sessionOptions: { executionMode: 'sequential', extra: NO_SPIN },
      });
      engines.push({ ...backendEngine(backend, threads ?? null, 'wf-ort'), detail: backend.name });
    } catch (e) {
      opts.skip('wf-ort', `not available here: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (![...GPUJS_FALLBACK_MODES, ''].some((m) => opts.include(m ? `gpujs:${m}` : 'gpujs'))) return engines;
  const pkg = '@wf/backend-gpujs';
  let mod: GpujsModule;
  try {
    mod = (await import(/* @vite-ignore */ pkg)) as GpujsModule;
  } catch {
    opts.skip('gpujs', `${pkg} is not installed in @wf/bench`);
    return engines;
  }
  if (!mod.createGpujsBackend) {
    opts.skip('gpujs', `${pkg} does not export createGpujsBackend`);
    return engines;
  }
  const listed = (await (mod.availableModes ?? mod.listModes)?.()) ?? mod.GPUJS_MODES ?? mod.MODES;
  // `auto` only picks one of the concrete modes, which are measured on their own.
  const modes = [...(listed ?? GPUJS_FALLBACK_MODES)].filter((m) => m !== 'auto');
  const seen = new Set(engines.map((e) => e.name));
  for (const mode of modes) {
    if (!opts.include(`gpujs:${mode}`)) continue;
    try {
      const backend = await mod.createGpujsBackend({ mode });
      const name = backend.name.startsWith('gpujs') ? backend.name : `gpujs:${mode}`;
      if (seen.has(name)) {
        backend.dispose();
        opts.skip(`gpujs:${mode}`, `resolves to ${name}, already measured`);
        continue;
      }
      seen.add(name);
      engines.push({ ...backendEngine(backend, threadsOf(backend), name), detail: backendDetail(backend) });
    } catch (e) {
      opts.skip(`gpujs:${mode}`, `not available here: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return engines;
}
