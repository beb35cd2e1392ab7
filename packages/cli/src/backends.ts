// Backend selection from `--backend cpu[:plain]|gpujs[:mode]|ort[:mode]`: each backend package is loaded only when asked for.

import { createCpuBackend } from '@wf/backend-cpu';
import type { AnyBackend } from '@wf/core';
import { UsageError } from './errors.js';

/** Options of {@link createBackend} from the command line. */
export interface BackendOptions {
  /** `--threads`: threads of the CPU backend's matrix products (default: all cores). */
  threads?: number;
}

/**
 * Creates the backend named by a `--backend` value.
 *
 * @throws {UsageError} for an unknown backend or mode, or `--threads` with a backend other than cpu.
 */
export async function createBackend(spec: string, opts: BackendOptions = {}): Promise<AnyBackend> {
  const [name, mode] = spec.split(':', 2);
  if (name === 'cpu') {
    // cpu:plain runs the reference kernels on the JS heap: slow, but not bounded by the fast kernels'
    // 2 GiB WebAssembly heap (e.g. a DeiT-T gradient at 1024 px)
    if (mode && mode !== 'plain')
      throw new UsageError(`backend cpu has one mode, plain (the reference kernels); got "${spec}"`);
    const threads = opts.threads === undefined ? {} : { threads: opts.threads };
    return createCpuBackend(mode === 'plain' ? { kernels: 'plain' } : threads);
  }
  if (name === 'ort') return createOrt(spec, mode, opts);
  if (opts.threads !== undefined && name === 'gpujs') {
    throw new UsageError(`--threads applies to the cpu and ort backends only (got --backend ${spec})`);
  }
  if (name === 'gpujs') {
    const pkg = '@wf/backend-gpujs';
    let mod: { createGpujsBackend?: (o: { mode?: string }) => Promise<AnyBackend> | AnyBackend };
    try {
      mod = await import(/* @vite-ignore */ pkg);
    } catch {
      throw new UsageError(
        `backend gpujs needs the package ${pkg}, which is not installed; use --backend cpu`,
      );
    }
    if (!mod.createGpujsBackend) throw new UsageError(`${pkg} does not export createGpujsBackend`);
    return mod.createGpujsBackend({ mode: mode ?? 'auto' });
  }
  throw new UsageError(
    `unknown backend "${spec}" (use cpu[:plain], gpujs[:mode] or ort[:web|:cuda|:<provider>])`,
  );
}

/**
 * `--backend ort[:mode]`: ONNX Runtime running whole graphs. `ort` is onnxruntime-node on the CPU,
 * `ort:web` onnxruntime-web's WebAssembly, any other mode an onnxruntime-node execution provider tried
 * before the CPU (e.g. `ort:cuda`).
 */
async function createOrt(spec: string, mode: string | undefined, opts: BackendOptions): Promise<AnyBackend> {
  const pkg = '@wf/backend-onnxruntime';
  let mod: { createOrtBackend?: (o: Record<string, unknown>) => Promise<AnyBackend> };
  try {
    mod = await import(/* @vite-ignore */ pkg);
  } catch {
    throw new UsageError(
      `backend ort needs the package ${pkg}, which is not installed (npm install ${pkg} onnxruntime-node); use --backend cpu`,
    );
  }
  if (!mod.createOrtBackend) throw new UsageError(`${pkg} does not export createOrtBackend`);
  if (mode !== undefined && !/^[a-z][a-z0-9_-]*$/.test(mode)) {
    throw new UsageError(
      `invalid ONNX Runtime mode in "${spec}" (use ort, ort:web or ort:<execution provider>)`,
    );
  }
  const threads = opts.threads === undefined ? {} : { threads: opts.threads };
  if (!mode || mode === 'cpu') return mod.createOrtBackend({ runtime: 'node', ...threads });
  if (mode === 'web' || mode === 'wasm') return mod.createOrtBackend({ runtime: 'web', ...threads });
  return mod.createOrtBackend({ runtime: 'node', executionProviders: [mode, 'cpu'], ...threads });
}
