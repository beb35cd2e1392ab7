// The @wf/core conformance suite on gpu.js mode `headlessgl` (GLSL ES 1.00 through the `gl` addon's
// ANGLE). Needs the addon built and an X display (`xvfb-run -a`, which the package's test script uses).
// Outside CI a missing addon or display skips with the reason; with CI=true the suite runs and fails.
import { describeConformance } from '@wf/core/testing';
import { describe, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import { IN_CI, microFixtures, unavailableReason } from './test-support.js';

const reason = IN_CI ? undefined : await unavailableReason('headlessgl');
if (reason) {
  describe('conformance: gpujs:headlessgl', () => {
    it.skip(`headless GL cannot run here: ${reason}`, () => {});
  });
  console.warn(`[backend-gpujs] skipping headlessgl conformance: ${reason}`);
} else {
  describeConformance('gpujs:headlessgl', () => createGpujsBackend({ mode: 'headlessgl' }), {
    fixtures: microFixtures(),
  });
}
