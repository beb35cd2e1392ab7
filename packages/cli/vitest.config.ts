// Vitest config for @wf/cli: end-to-end commands load models and data, so tests get a generous timeout
// (the suite also runs beside the other packages' suites on two cores).
import { testReporters } from '@wf/test-fixtures/skip-reporter';
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { reporters: testReporters, testTimeout: 60_000 } });
