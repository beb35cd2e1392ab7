// Shared by this package's tests (not exported): the wfm-micro fixtures, and whether headless GL can run
// here. Outside CI a missing system dependency skips the GL tests with the reason; in CI (CI set to anything
// but '', 'false' or '0': isCI of @wf/test-fixtures) it fails.
import { isCI, readFixture } from '@wf/test-fixtures';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createGpujsBackend } from './create.js';
import type { GpujsBackend } from './gpujs-backend.js';
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

/**
 * Declares one `describe` block, titled `title(mode)`, per mode of {@link NODE_TEST_MODES} without the worker
 * pool (cpu, webasm, headlessgl), with a backend of that mode created before its tests and disposed after;
 * `body(mode, backend)` declares the tests (`backend()` is the block's backend once they run). Where a mode
 * cannot run here ({@link skipReason}: headless GL outside CI) the block holds one skipped test saying why
 * instead; in CI every mode runs, and one that cannot fails. Await it at the top level of a test file.
 */
export async function describeEachMode(
  title: (mode: ConcreteMode) => string,
  body: (mode: ConcreteMode, backend: () => GpujsBackend) => void,
): Promise<void> {
  for (const { mode } of NODE_TEST_MODES.filter((m) => !m.threads)) {
    const reason = await skipReason(mode);
    describe(title(mode), () => {
      if (reason) {
        it.skip(`headless GL cannot run here: ${reason}`, () => {});
        return;
      }
      let backend: GpujsBackend;
      beforeAll(async () => {
        backend = await createGpujsBackend({ mode });
      }, 60_000);
      afterAll(() => backend?.dispose());
      body(mode, () => backend);
    });
  }
}
