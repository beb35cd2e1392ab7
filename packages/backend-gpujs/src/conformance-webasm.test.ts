// The @wf/core conformance suite on gpu.js mode `webasm` (WebAssembly kernels with f32x4 SIMD).
import { describeConformance } from '@wf/core/testing';
import { createGpujsBackend } from './create.js';
import { microFixtures } from './test-support.js';

describeConformance('gpujs:webasm', () => createGpujsBackend({ mode: 'webasm' }), {
  fixtures: microFixtures(),
});
