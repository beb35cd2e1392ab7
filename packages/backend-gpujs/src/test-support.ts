// Shared by this package's tests (not exported): the wfm-micro fixtures, and whether headless GL can run
// here. Outside CI a missing system dependency skips the GL tests with the reason; with CI=true it fails.
import { readFixture } from '@wf/test-fixtures';
import { createGpujsBackend } from './create.js';
import type { ConcreteMode } from './modes.js';

/** The wfm-micro fixtures in the shape describeConformance wants. */
export function microFixtures() {
  return {
    weights: readFixture('reference/wfm-micro.safetensors'),
    runs: {
      'wfm-micro-64': readFixture('reference/wfm-micro-64.io.safetensors'),
      'wfm-micro-80': readFixture('reference/wfm-micro-80.io.safetensors'),
    },
  };
}

/** True when CI=true: every test must run. */
export const IN_CI = process.env.CI === 'true';

/** Why `mode` cannot run here, or undefined when it can (creates and disposes a backend). */
export async function unavailableReason(mode: ConcreteMode): Promise<string | undefined> {
  try {
    const b = await createGpujsBackend({ mode });
    b.dispose();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
