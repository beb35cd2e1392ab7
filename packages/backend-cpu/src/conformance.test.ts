// Runs the @wf/core conformance suite on the CPU backend: every primitive against the float64 oracle,
// every composite fused and lowered, attention vs its MLP reading, and the wfm-micro DynLinear/DynDWConv
// fixtures.
import { describeConformance } from '@wf/core/testing';
import { readFixture } from '@wf/test-fixtures';
import { createCpuBackend } from './index.js';

const fixtures = {
  weights: readFixture('reference/wfm-micro.safetensors'),
  runs: {
    'wfm-micro-64': readFixture('reference/wfm-micro-64.io.safetensors'),
    'wfm-micro-80': readFixture('reference/wfm-micro-80.io.safetensors'),
  },
};

describeConformance('cpu (plain kernels)', () => createCpuBackend({ kernels: 'plain' }), { fixtures });
describeConformance('cpu (fast kernels)', () => createCpuBackend(), { fixtures });
// As on an ordinary web page (no SharedArrayBuffer): WebAssembly SIMD on one thread over a plain memory,
// starting at 64 KiB so that the heap grows (detaching every view) inside kernels of the first runs.
describeConformance(
  'cpu (fast kernels, plain heap, one thread)',
  () => createCpuBackend({ sharedMemory: false, initialHeapBytes: 1 << 16 }),
  { fixtures },
);
