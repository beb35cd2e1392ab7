// Runs the @wf/core conformance suite on the ONNX Runtime backend (onnxruntime-node): every primitive and
// every composite as a compiled graph (one ONNX Runtime session each) and eagerly (one-node sessions),
// attention vs its MLP reading, and the wfm-micro DynLinear / DynDWConv fixtures.
import { describeConformance } from '@wf/core/testing';
import { readFixture } from '@wf/test-fixtures';
import { createOrtBackend } from './index.js';

const fixtures = {
  weights: readFixture('reference/wfm-micro.safetensors'),
  runs: {
    'wfm-micro-64': readFixture('reference/wfm-micro-64.io.safetensors'),
    'wfm-micro-80': readFixture('reference/wfm-micro-80.io.safetensors'),
  },
};

describeConformance('onnxruntime-node', () => createOrtBackend({ threads: 1 }), { fixtures });
