// Vitest configuration of the publishing checks: packages are packed once (global setup); files run one
// at a time (they install, bundle and start Chromium) with generous timeouts for `npm install`.
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: testReporters,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
