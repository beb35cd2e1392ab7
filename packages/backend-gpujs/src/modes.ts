// Backend modes: the names a caller may ask for, the order `auto` tries them in, and the synchronous
// "is the API there at all" checks (a real kernel probe decides in the end).
import type { GpuJsLib } from './gpujs.js';

/** Every mode `createGpujsBackend` accepts. */
export const GPUJS_MODES = ['auto', 'webgpu', 'webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'] as const;

/** A mode a caller may ask for: `auto` or one gpu.js backend by name. */
export type GpujsMode = (typeof GPUJS_MODES)[number];

/** A gpu.js backend that actually runs kernels. */
export type ConcreteMode = Exclude<GpujsMode, 'auto'>;

/** The order `auto` tries modes in (the first whose probe kernels compile and compute correctly wins). */
export const AUTO_ORDER: readonly ConcreteMode[] = ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'];

/** Whether `mode` is a known mode name. */
export function isGpujsMode(mode: unknown): mode is GpujsMode {
  return typeof mode === 'string' && (GPUJS_MODES as readonly string[]).includes(mode);
}

/** Whether the platform exposes the API a mode needs (navigator.gpu, a WebGL2 context, the gl addon...). */
export function modeApiPresent(lib: GpuJsLib, mode: ConcreteMode): boolean {
  const G = lib.GPU;
  try {
    switch (mode) {
      case 'webgpu':
        return G.isWebGPUSupported;
      case 'webgl2':
        return G.isWebGL2Supported;
      case 'webgl':
        return G.isWebGLSupported;
      case 'headlessgl':
        return G.isHeadlessGLSupported;
      case 'webasm':
        return G.isWebAssemblySupported;
      case 'cpu':
        return true;
    }
  } catch {
    return false;
  }
}

/** True in Node.js (not in browsers or workers). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return (
    typeof p?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined'
  );
}
