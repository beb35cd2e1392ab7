// WebGPU plumbing: `navigator.gpu` in Node from the `webgpu` package (Dawn's Node binding), and a
// replacement for gpu.js's device acquisition that works under Dawn.
//
// Why the replacement: gpu.js 2.24.1 (`src/backend/web-gpu/context.js`) does
// `device.onuncapturederror = e => console.error(...)` right after `requestDevice()`. Dawn's Node binding
// types that attribute as `interop::Interface<EventHandler>` and cannot convert a JS function to it, so
// the assignment throws "object is not of the correct interface type" / "invalid value to
// onuncapturederror"; the throw rejects gpu.js's context promise and every webgpu kernel fails to build.
// `patchWebGpuContext` swaps `WebGPUContext.acquire`/`destroy` (static methods the kernels call through
// the class, so the swap reaches them) for equivalents that install the error handler inside try/catch
// (falling back to `addEventListener`, and to nothing), and ask for a high-performance adapter. In
// browsers the handler installs normally; behaviour is otherwise the same as gpu.js's own code.
import { BackendError } from '@wf/core';
import type { GpuJsLib, GpuJsWebGpuContextClass } from './gpujs.js';
import { isNode } from './modes.js';

const PATCHED = Symbol.for('@wf/backend-gpujs:webgpu-context-patched');

interface GpuAdapterLike {
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(desc?: object): Promise<GpuDeviceLike>;
}

interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
  onuncapturederror?: unknown;
  addEventListener?: (type: string, listener: unknown) => void;
}

interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

type ContextValue = { adapter: GpuAdapterLike; device: GpuDeviceLike; isLost: boolean };

function navigatorGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu;
}

/** Installs an uncaptured-error logger on a device without ever throwing (see the file header). */
export function installErrorHandler(device: GpuDeviceLike): boolean {
  const handler = (e: { error?: { message?: string } }) => {
    console.error(`gpu.js [webgpu]: ${e?.error?.message ?? String(e)}`);
  };
  try {
    device.onuncapturederror = handler;
    return true;
  } catch {
    // Dawn's Node binding rejects a plain function here
  }
  try {
    device.addEventListener?.('uncapturederror', handler);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replaces gpu.js's `WebGPUContext.acquire`/`destroy` with Dawn-safe equivalents (idempotent). Must run
 * before the first webgpu kernel builds.
 */
export function patchWebGpuContext(lib: GpuJsLib): void {
  const ctx = lib.WebGPUContext as (GpuJsWebGpuContextClass & { [PATCHED]?: boolean }) | undefined;
  if (!ctx || ctx[PATCHED]) return;
  let current: Promise<ContextValue> | null = null;
  const acquire = (): Promise<ContextValue> => {
    if (current) return current;
    const promise = (async () => {
      const gpu = navigatorGpu();
      if (!gpu) throw new Error('WebGPU is not supported on this platform (navigator.gpu is missing)');
      const adapter =
        (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await gpu.requestAdapter());
      if (!adapter) throw new Error('WebGPU is present (navigator.gpu) but no adapter is available');
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      });
      const context: ContextValue = { adapter, device, isLost: false };
      device.lost.then((info) => {
        context.isLost = true;
        if (info?.reason !== 'destroyed') console.error(`gpu.js [webgpu]: device lost: ${info?.message}`);
        if (current === promise) current = null;
      });
      installErrorHandler(device);
      return context;
    })();
    promise.catch(() => {
      if (current === promise) current = null;
    });
    current = promise;
    return promise;
  };
  const destroy = async (): Promise<void> => {
    const p = current;
    current = null;
    if (!p) return;
    try {
      (await p).device.destroy();
    } catch {
      // a failed acquisition has nothing to destroy
    }
  };
  Object.assign(ctx, { acquire, destroy, [PATCHED]: true });
}

/** The adapter gpu.js's (patched) context uses, for reports: vendor/architecture/description. */
export async function webGpuAdapterInfo(lib: GpuJsLib): Promise<Record<string, string>> {
  const ctx = lib.WebGPUContext;
  if (!ctx) return {};
  const { adapter } = (await ctx.acquire()) as unknown as { adapter: GpuAdapterLike };
  const info = adapter.info ?? {};
  const out: Record<string, string> = {};
  for (const k of ['vendor', 'architecture', 'device', 'description'] as const) {
    if (info[k]) out[k] = String(info[k]);
  }
  return out;
}

let installedByUs: GpuLike | undefined;

/**
 * In Node, makes `navigator.gpu` available from the `webgpu` package (Dawn) unless it already exists.
 * The package is looked up from this package and then from gpu.js (which depends on it). Throws a
 * one-line BackendError when it is missing or its native binary does not load.
 */
export async function ensureNodeWebGpu(flags: readonly string[] = []): Promise<void> {
  if (navigatorGpu() || !isNode()) return;
  let mod: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> } | undefined;
  const errors: string[] = [];
  const specifiers = ['webgpu'];
  try {
    // variable specifiers keep browser bundlers from resolving Node built-ins on this Node-only path
    const nodeModule = 'node:module';
    const nodeUrl = 'node:url';
    const { createRequire } = (await import(/* @vite-ignore */ nodeModule)) as typeof import('node:module');
    const { pathToFileURL } = (await import(/* @vite-ignore */ nodeUrl)) as typeof import('node:url');
    const req = createRequire(`${process.cwd()}/`);
    let gpujsPath: string | undefined;
    try {
      gpujsPath = createRequire(import.meta.url).resolve('gpu.js');
    } catch {
      gpujsPath = req.resolve('gpu.js');
    }
    specifiers.push(pathToFileURL(createRequire(gpujsPath).resolve('webgpu')).href);
  } catch (e) {
    errors.push((e as Error).message.split('\n')[0]);
  }
  let notFound = true;
  for (const spec of specifiers) {
    try {
      mod = await import(/* @vite-ignore */ spec);
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') notFound = false;
      errors.push((e as Error).message.split('\n')[0]);
    }
  }
  if (!mod || typeof mod.create !== 'function') {
    throw new BackendError(
      notFound
        ? 'Node needs the "webgpu" package (Dawn) for WebGPU and it is not installed (npm i webgpu)'
        : `the "webgpu" package (Dawn) did not load: ${errors.at(-1)}`,
    );
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals ?? {})) if (!(k in g)) g[k] = v;
  const gpu = mod.create([...flags]);
  installedByUs = gpu;
  const nav = g.navigator as { gpu?: GpuLike } | undefined;
  if (nav === undefined) g.navigator = { gpu };
  else Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
}

/** Drops the `navigator.gpu` this module installed (Dawn keeps Node alive while it is referenced). */
export function releaseNodeWebGpu(): void {
  if (!installedByUs) return;
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (nav?.gpu === installedByUs) {
    try {
      delete nav.gpu;
    } catch {
      // a non-configurable navigator keeps it
    }
  }
  installedByUs = undefined;
}
