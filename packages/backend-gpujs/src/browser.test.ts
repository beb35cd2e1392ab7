// The backend in a real browser: Debian's Chromium, driven headless by playwright-core, loads a page
// served on 127.0.0.1 (cross-origin isolated, so webasm could use threads) with an esbuild bundle of the
// backend, the framework-free conformance runner and the models package. The page runs the whole
// conformance suite and the wfm-micro parity in `webgl2` (ANGLE on SwiftShader) and `webgpu` (Dawn on
// SwiftShader) and reports which adapter ran. Every case must run and pass (none is skipped: a browser
// lacks no op or dtype of the suite); any console error or page error fails the test. Outside CI a missing
// Chromium skips with the reason; in CI (isCI of @wf/test-fixtures) the test runs and fails.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformanceCases } from '@wf/core/testing/runner';
import { referenceFixturesMount } from '@wf/test-fixtures/browser-page';
import { describeBrowserPage } from '@wf/test-fixtures/browser-suite';
import { expect, it } from 'vitest';
import type { BrowserReport } from './browser/page.js';
import { microFixtures } from './test-support.js';

/** Number of conformance cases the page runs (the same definition, counted here). */
const CASES = conformanceCases({ fixtures: microFixtures() }).length;
const here = dirname(fileURLToPath(import.meta.url));

describeBrowserPage(
  'browser: Chromium (headless) runs the conformance suite and wfm-micro parity',
  {
    // Node-only paths of the bundled packages (safetensors file loading, @wf/models' tsup shims, Dawn
    // lookup) import Node built-ins, stubbed by the helper: the page never takes those paths.
    page: {
      entry: join(here, 'browser/page.ts'),
      external: ['gl', 'webgpu'],
      title: 'wf gpujs',
      mounts: [referenceFixturesMount],
    },
    open: { entry: 'wfRun', timeout: 30_000 },
  },
  (ctx) => {
    for (const mode of ['webgl2', 'webgpu'] as const) {
      it(`${mode}: every conformance case and the wfm-micro parity pass`, async () => {
        const before = ctx.opened.errors.length;
        const report = (await ctx.opened.page.evaluate(
          (m) => (globalThis as unknown as { wfRun: (m: string) => Promise<unknown> }).wfRun(m),
          mode,
        )) as BrowserReport;
        const worst = report.parity.reduce(
          (a, r) => (r.err / r.bound > a.err / a.bound ? r : a),
          report.parity[0],
        );
        console.log(
          `[browser] ${report.backend} on ${JSON.stringify(report.device)}: conformance ${report.conformance.passed}/${report.conformance.total} passed, ${report.conformance.skipped.length} skipped, ${report.conformance.failed.length} failed in ${report.conformance.ms} ms; wfm-micro parity ${report.parity.length} tensors, worst ${worst?.run} ${worst?.tensor} ${worst?.err.toExponential(2)} (bound ${worst?.bound.toExponential(2)}); crossOriginIsolated ${report.crossOriginIsolated}`,
        );
        expect(report.backend).toBe(`gpujs:${mode}`);
        expect(report.conformance.failed, 'failing conformance cases').toEqual([]);
        // Every case ran. A case is skipped only when it needs an op the options skip (the page skips none)
        // or a dtype the backend does not store (gpu.js stores both IR dtypes, float32 and int32, in every
        // mode), so a browser has no case it cannot run: none may be skipped, all must pass.
        expect(report.conformance.skipped, 'skipped conformance cases').toEqual([]);
        expect(report.conformance.total, 'the cases conformanceCases() defines').toBe(CASES);
        expect(report.conformance.passed).toBe(CASES);
        expect(report.parityFailures, 'wfm-micro parity').toEqual([]);
        expect(report.parity.length).toBeGreaterThanOrEqual(12);
        expect(report.fallbacks).toEqual([]);
        expect(report.crossOriginIsolated).toBe(true);
        if (mode === 'webgpu')
          expect(report.device.vendor ?? report.device.description, 'adapter info').toBeTruthy();
        else expect(report.device.renderer, 'GL renderer').toBeTruthy();
        expect(ctx.opened.errors.slice(before), 'console errors').toEqual([]);
      }, 600_000);
    }
  },
);
