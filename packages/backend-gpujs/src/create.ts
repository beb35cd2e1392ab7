// `createGpujsBackend`: picks and proves a gpu.js mode, then builds the backend on it. A named mode must
// work or creation fails with one line saying why; `auto` walks webgpu -> webgl2 -> headlessgl -> webasm
// -> cpu and takes the first mode whose probe kernels compile and compute correctly.
import { ArgumentError, BackendError } from '@wf/core';
import { Engine, type EngineOptions } from './engine.js';
import { type GpuJsLib, gpujs } from './gpujs.js';
import { GpujsBackend } from './gpujs-backend.js';
import {
  AUTO_ORDER,
  type ConcreteMode,
  GPUJS_MODES,
  type GpujsMode,
  isGpujsMode,
  isNode,
  modeApiPresent,
} from './modes.js';
import { glDeviceInfo, probeEngine } from './probe.js';
import {
  ensureNodeWebGpu,
  patchWebGpuContext,
  releaseNodeWebGpu,
  webGpuAdapterInfo,
} from './webgpu-setup.js';

/** Options of `createGpujsBackend`. */
export interface GpujsBackendOptions {
  /** Which gpu.js backend runs the kernels (default `auto`). */
  mode?: GpujsMode;
  /**
   * webasm only: split kernels of at least 4096 cells across a worker pool (gpu.js's async contract;
   * needs SharedArrayBuffer, i.e. Node or a cross-origin-isolated page). Default false.
   */
  threads?: boolean;
  /** Node + webgpu only: Dawn toggles passed to the `webgpu` package's `create()`. */
  webgpuFlags?: string[];
}

const HINTS: Partial<Record<ConcreteMode, string>> = {
  headlessgl:
    'the "gl" addon did not load or found no X display (build it, and run under xvfb-run in a headless shell)',
  webgl2: 'no WebGL2 context (a browser, or a worker with OffscreenCanvas, is needed)',
  webgl: 'no WebGL context (a browser is needed)',
  webgpu: 'navigator.gpu is missing',
  webasm: 'WebAssembly is not available',
};

let webgpuUsers = 0;

async function prepareMode(lib: GpuJsLib, mode: ConcreteMode, options: GpujsBackendOptions): Promise<void> {
  if (mode === 'webgpu') {
    if (isNode()) await ensureNodeWebGpu(options.webgpuFlags);
    patchWebGpuContext(lib);
    if (!modeApiPresent(lib, 'webgpu')) throw new Error(HINTS.webgpu);
    if (!(await lib.GPU.isWebGPUAvailable()))
      throw new Error('navigator.gpu is present but no WebGPU adapter is available');
    return;
  }
  if (!modeApiPresent(lib, mode)) throw new Error(HINTS[mode] ?? 'not supported here');
}

async function describe(lib: GpuJsLib, engine: Engine): Promise<Record<string, string>> {
  switch (engine.mode) {
    case 'webgpu':
      return webGpuAdapterInfo(lib).catch(() => ({}));
    case 'webgl2':
    case 'webgl':
    case 'headlessgl':
      return glDeviceInfo(engine);
    case 'webasm': {
      const k = lib.WebAssemblyKernel as
        | { isSIMDSupported?: boolean; isThreadsSupported?: boolean }
        | undefined;
      return { simd: String(!!k?.isSIMDSupported), threadsSupported: String(!!k?.isThreadsSupported) };
    }
    default:
      return {};
  }
}

/** Creates an engine for `mode` and proves it with the probe kernels. */
async function tryMode(lib: GpuJsLib, mode: ConcreteMode, options: GpujsBackendOptions): Promise<Engine> {
  await prepareMode(lib, mode, options);
  const engineOptions: EngineOptions = { threads: !!options.threads };
  const engine = new Engine(lib, mode, engineOptions);
  try {
    await probeEngine(engine);
  } catch (e) {
    await engine.destroy().catch(() => undefined);
    throw e;
  }
  return engine;
}

/**
 * Creates the gpu.js backend. Resolves once the mode is chosen and proven; rejects with a one-line
 * BackendError when a named mode cannot run here (or an ArgumentError for an unknown mode).
 *
 * @example
 * const backend = await createGpujsBackend({ mode: 'auto' });
 * console.log(backend.name); // e.g. gpujs:webgl2
 * const compiled = await compile(graph, backend);
 */
export async function createGpujsBackend(options: GpujsBackendOptions = {}): Promise<GpujsBackend> {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError('createGpujsBackend: options must be an object');
  }
  const requested = options.mode ?? 'auto';
  if (!isGpujsMode(requested)) {
    throw new ArgumentError(
      `createGpujsBackend: unknown mode "${String(requested)}" (use ${GPUJS_MODES.join(', ')})`,
    );
  }
  if (options.threads !== undefined && typeof options.threads !== 'boolean') {
    throw new ArgumentError('createGpujsBackend: threads must be a boolean');
  }
  const lib = gpujs();
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: { mode: ConcreteMode; reason: string }[] = [];
  for (const mode of candidates) {
    let engine: Engine;
    try {
      engine = await tryMode(lib, mode, options);
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      if (requested !== 'auto')
        throw new BackendError(`gpujs: mode "${mode}" is not available: ${reason}`, { cause: e });
      skipped.push({ mode, reason });
      continue;
    }
    const device = await describe(lib, engine);
    if (mode === 'webgpu') webgpuUsers++;
    return new GpujsBackend({
      lib,
      engine,
      requested,
      skipped,
      device,
      engineOptions: { threads: !!options.threads },
      onDispose:
        mode === 'webgpu'
          ? () => {
              if (--webgpuUsers > 0) return;
              lib.WebGPUContext?.destroy().catch(() => undefined);
              releaseNodeWebGpu();
            }
          : undefined,
    });
  }
  throw new BackendError(
    `gpujs: no mode works here (${skipped.map((s) => `${s.mode}: ${s.reason}`).join('; ')})`,
  );
}
