// Public API of @wf/backend-gpujs: the gpu.js backend for @wf/core (WebGPU, WebGL2, WebGL, headless GL,
// WebAssembly or plain JS kernels), its modes, and the WebGPU helpers for Node.
export { createGpujsBackend, type GpujsBackendOptions } from './create.js';
export { KernelBuildError } from './engine.js';
export {
  GpujsBackend,
  type GpujsDeviceInfo,
  type KernelFallback,
  MAX_EXACT_INT,
} from './gpujs-backend.js';
export { AUTO_ORDER, type ConcreteMode, GPUJS_MODES, type GpujsMode, isGpujsMode } from './modes.js';
export { GpujsStorage, GpujsTensor } from './storage.js';
export { ensureNodeWebGpu, installErrorHandler, patchWebGpuContext } from './webgpu-setup.js';
