// Test config of @wf/bench: test files run one after another, so the timing test is not disturbed by the
// others (the integration test's timeouts are set per test).
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: testReporters,
    fileParallelism: false,
    // `pnpm test` runs the other packages' suites on the same 2 cores: generous timeouts
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ['src/**/*.test.ts'],
  },
});
