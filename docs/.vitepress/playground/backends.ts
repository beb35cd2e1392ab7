// The playground's backend choices: the cpu backend always (its label says what actually runs:
// WebAssembly SIMD on N threads on a cross-origin isolated page, on one thread elsewhere, or plain
// JavaScript), and the gpu.js modes (webgpu, webgl2, webasm) when the build bundled @wf/backend-gpujs.
// Each choice is proven by creating it: a mode the browser cannot run is listed as unavailable with the
// reason the backend gave.

import { loadGpujs } from 'virtual:wf-backends';
import { createCpuBackend } from '@wf/backend-cpu';
import type { AnyBackend, BackendRuntime } from '@wf/core';

/** One entry of the backend picker. */
export interface BackendChoice {
  /** `cpu` or `gpujs:<mode>`. */
  id: string;
  /** Label shown in the picker. */
  label: string;
  /** Whether the backend could be created in this browser. */
  available: boolean;
  /** Why it is not available (or a note on what runs it). */
  note: string;
}

/** gpu.js modes offered in a browser, in the order `auto` prefers them. */
export const GPUJS_BROWSER_MODES = ['webgpu', 'webgl2', 'webasm'] as const;

/** Whether this build bundled the gpu.js backend. */
export const gpujsBundled = loadGpujs !== null;

const created = new Map<string, Promise<AnyBackend>>();

/** Creates (once) the backend of a choice id. */
export function backendFor(id: string): Promise<AnyBackend> {
  let p = created.get(id);
  if (!p) {
    p = create(id);
    created.set(id, p);
    p.catch(() => created.delete(id));
  }
  return p;
}

async function create(id: string): Promise<AnyBackend> {
  if (id === 'cpu') return createCpuBackend();
  const mode = id.startsWith('gpujs:') ? id.slice(6) : '';
  if (!loadGpujs || !mode) throw new Error(`unknown backend ${id}`);
  const { createGpujsBackend } = await loadGpujs();
  return createGpujsBackend({ mode });
}

/** Lists every choice with its availability in this browser (gpu.js modes are created to find out). */
export async function detectBackends(): Promise<BackendChoice[]> {
  const cpu = await backendFor('cpu');
  await cpu.ready; // the worker threads, where the page may have them
  const rt = cpu.runtime?.();
  const out: BackendChoice[] = [
    { id: 'cpu', label: cpuLabel(rt), available: true, note: rt?.summary ?? 'cpu' },
  ];
  for (const mode of GPUJS_BROWSER_MODES) {
    const id = `gpujs:${mode}`;
    const label = `gpu.js ${mode}`;
    if (!loadGpujs) {
      out.push({ id, label, available: false, note: '@wf/backend-gpujs is not part of this build' });
      continue;
    }
    try {
      await backendFor(id);
      out.push({ id, label, available: true, note: mode });
    } catch (e) {
      out.push({ id, label, available: false, note: (e as Error).message.split('\n')[0] });
    }
  }
  return out;
}

/**
 * The cpu choice's label from what runs: `cpu: WebAssembly SIMD, 2 threads`, `cpu: WebAssembly SIMD, one
 * thread (page not cross-origin isolated)` or `cpu: plain JavaScript (...)`.
 */
export function cpuLabel(rt: BackendRuntime | undefined): string {
  if (!rt) return 'cpu';
  const why = rt.reason ? ` (${rt.reason})` : '';
  if (rt.engine === 'wasm-simd')
    return `cpu: WebAssembly SIMD, ${rt.threads === 1 ? 'one thread' : `${rt.threads} threads`}${why}`;
  return `cpu: ${rt.engine === 'plain' ? 'plain JavaScript reference kernels' : 'JavaScript kernels'}${why}`;
}
