// Shared by this package's tests (not exported): the wfm-micro fixtures, and whether headless GL can run
// here. Outside CI a missing system dependency skips the GL tests with the reason; in CI (CI set to anything
// but '', 'false' or '0': isCI of @wf/test-fixtures) it fails.
import { isCI, readFixture } from '@wf/test-fixtures';
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

/** True in CI (`CI=true`, `CI=1`, ...; see `isCI` of @wf/test-fixtures): every test must run. */
export const IN_CI = isCI();

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

/** The modes the Node suites run in: cpu, webasm (also with its worker pool: the asynchronous path), headlessgl. */
export const NODE_TEST_MODES: readonly { mode: ConcreteMode; threads?: boolean }[] = [
  { mode: 'cpu' },
  { mode: 'webasm' },
  { mode: 'webasm', threads: true },
  { mode: 'headlessgl' },
];

/** Why a mode of {@link NODE_TEST_MODES} is skipped here: headless GL without a display, outside CI only. */
export async function skipReason(mode: ConcreteMode): Promise<string | undefined> {
  return mode === 'headlessgl' && !IN_CI ? unavailableReason(mode) : undefined;
}
