// Backend selection from `--backend cpu|gpujs[:mode]`: each backend package is loaded only when asked for.

import { createCpuBackend } from '@wf/backend-cpu';
import type { AnyBackend } from '@wf/core';
import { UsageError } from './errors.js';

/** Creates the backend named by a `--backend` value. */
export async function createBackend(spec: string): Promise<AnyBackend> {
  const [name, mode] = spec.split(':', 2);
  if (name === 'cpu') {
    if (mode) throw new UsageError(`backend cpu has no modes (got "${spec}")`);
    return createCpuBackend();
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
