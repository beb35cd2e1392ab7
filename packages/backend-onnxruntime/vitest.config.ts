// Vitest config: `pnpm test` runs every package's suite at once on a 2-core machine, so a test that takes
// one second alone can take ten; timeouts are generous. Tests that check a time bound assert it themselves.
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { reporters: testReporters, testTimeout: 60_000, hookTimeout: 120_000 },
});
