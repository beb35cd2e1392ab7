// The slice of gpu.js this package uses, typed locally (gpu.js's own typings lack the WebGPU and
// WebAssembly classes), and the one place that imports it. In Node `gpu.js` resolves to its CommonJS
// sources (module.exports is a plain object); in browser bundles to `dist/gpu-browser.js`, whose export is
// the GPU class carrying every other class as a property. `gpujs()` accepts both shapes.
import * as gpujsModule from 'gpu.js';

/** A kernel compiled by gpu.js, as returned by `gpu.createKernel` (the "run shortcut"). */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  /** The backend kernel instance underneath (its constructor names the mode that runs it). */
  readonly kernel: {
    readonly constructor: { readonly mode?: string; readonly name: string };
    readonly fallbackReason?: string | null;
  };
  destroy(removeCanvasReferences?: boolean): void;
}

/** Settings of `gpu.createKernel` used by this package. */
export interface GpuJsKernelSettings {
  output: number[];
  pipeline: boolean;
  immutable: boolean;
  precision: 'single';
  tactic: 'precision';
  loopMaxIterations: number;
  asyncMode?: boolean;
  argumentTypes?: string[];
  dynamicArguments?: boolean;
}

/** A `GPU` instance. */
export interface GpuJsInstance {
  readonly mode: string;
  createKernel(source: string, settings: GpuJsKernelSettings): GpuJsKernel;
  destroy(): Promise<void>;
}

/** The `GPU` class with the static feature checks this package reads. */
export interface GpuJsGpuClass {
  new (settings: { mode: string }): GpuJsInstance;
  readonly isWebGL2Supported: boolean;
  readonly isWebGLSupported: boolean;
  readonly isHeadlessGLSupported: boolean;
  readonly isWebGPUSupported: boolean;
  readonly isWebAssemblySupported: boolean;
  isWebGPUAvailable(): Promise<boolean>;
}

/** gpu.js's WebGPU device singleton (`src/backend/web-gpu/context.js`). */
export interface GpuJsWebGpuContextClass {
  acquire(): Promise<{ adapter: unknown; device: unknown; isLost: boolean }>;
  destroy(): Promise<void>;
}

/** The classes of gpu.js this package uses. */
export interface GpuJsLib {
  readonly GPU: GpuJsGpuClass;
  /** Present in gpu.js >= 2.20 (WebGPU backend). */
  readonly WebGPUContext?: GpuJsWebGpuContextClass;
  readonly WebAssemblyKernel?: { readonly isThreadsSupported?: boolean };
}

/** The loaded gpu.js library (Node sources or the browser bundle). */
export function gpujs(): GpuJsLib {
  const mod = gpujsModule as unknown as GpuJsLib & { default?: GpuJsLib };
  if (mod && typeof mod.GPU === 'function') return mod;
  if (mod?.default && typeof mod.default.GPU === 'function') return mod.default;
  throw new Error('gpu.js did not load: its module has no GPU export');
}
