// Backend selection from `--backend cpu|gpujs[:mode]`: each backend package is loaded only when asked for.

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
    if (mode) throw new UsageError(`backend cpu has no modes (got "${spec}")`);
    return createCpuBackend(opts.threads === undefined ? {} : { threads: opts.threads });
  }
  if (opts.threads !== undefined && name === 'gpujs') {
    throw new UsageError(`--threads applies to the cpu backend only (got --backend ${spec})`);
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
  throw new UsageError(`unknown backend "${spec}" (use cpu or gpujs[:mode])`);
}
