// Public API of @wf/backend-cpu: the reference CPU backend for @wf/core.
export { CpuBackend, cpuKernels, createCpuBackend, DEFER_MIN_WORK } from './cpu-backend.js';
export { relaxedSimdSupported, tryEnableRelaxedSimd } from './fast/wasm-emitter.js';
export type { CpuTensor } from './nd.js';
