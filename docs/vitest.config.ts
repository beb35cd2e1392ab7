// Vitest configuration of the docs: browser tests against the built site (built first when missing or
// stale), one file at a time so that two Chromiums never compete for the machine's cores.
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: testReporters,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
