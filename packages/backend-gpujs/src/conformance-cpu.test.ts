// The @wf/core conformance suite on gpu.js mode `cpu` (kernels transpiled to plain JavaScript).
import { describeConformance } from '@wf/core/testing';
import { createGpujsBackend } from './create.js';
import { microFixtures } from './test-support.js';

describeConformance('gpujs:cpu', () => createGpujsBackend({ mode: 'cpu' }), { fixtures: microFixtures() });
