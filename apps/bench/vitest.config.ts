// Test config of @wf/bench: test files run one after another, so the timing test is not disturbed by the
// others (the integration test's timeouts are set per test).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    fileParallelism: false,
    include: ['src/**/*.test.ts'],
  },
});
