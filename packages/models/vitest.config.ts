// Vitest config for @wf/models: model runs and the MNIST data load take seconds on a busy 2-core machine,
// so tests get a generous timeout. No retries: the one PNG case that used to fail "under load" was a real
// decoder bug (pngjs returned uninitialized memory for short image data), fixed in image/decode-node.ts.
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { reporters: testReporters, testTimeout: 120_000, hookTimeout: 120_000 },
});
