// The fast CPU path in a real browser: Debian's Chromium (headless, playwright-core) loads an esbuild
// bundle of the backend from 127.0.0.1 twice: on a cross-origin isolated page (COOP/COEP headers, so
// SharedArrayBuffer and worker threads) and on an ordinary page (no headers, as most sites are served).
// Both must run WebAssembly SIMD (two threads, one thread), say so in `runtime()`, agree with the plain
// kernels and with each other bit for bit; the ordinary page logs the one-time notice on how to get
// threads. Outside CI a missing Chromium skips with the reason; with CI=true the test runs and fails.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBrowserPage } from '@wf/test-fixtures/browser-suite';
import { beforeAll, expect, it } from 'vitest';
import type { CpuPageReport } from './browser/page.js';
import { THREADS_NOTICE } from './cpu-backend.js';

const here = dirname(fileURLToPath(import.meta.url));

describeBrowserPage(
  'Chromium: WebAssembly SIMD on an isolated and on an ordinary page',
  {
    // the page under /isolated/ (COOP/COEP on every response) and /plain/ (without)
    page: { entry: join(here, 'browser/page.ts'), title: 'wf cpu', isolation: 'both', webgpu: false },
  },
  (ctx) => {
    const reports: Record<string, { report: CpuPageReport; console: string[] }> = {};

    beforeAll(async () => {
      for (const kind of ['isolated', 'plain'] as const) {
        const { page, lines } = await ctx.session.open({ entry: 'wfCpu' }, kind);
        const report = (await page.evaluate(() =>
          (globalThis as unknown as { wfCpu: () => Promise<unknown> }).wfCpu(),
        )) as CpuPageReport;
        reports[kind] = { report, console: lines };
        await page.close();
      }
    }, 120_000);

    it('isolated page: wasm-simd on two threads (worker pool used), no notice', () => {
      const { report, console: lines } = reports.isolated;
      expect(report.crossOriginIsolated).toBe(true);
      expect(report.runtime).toMatchObject({ engine: 'wasm-simd', threads: 2, sharedMemory: true });
      expect(report.runtime.summary).toBe('wasm-simd x2');
      expect(report.poolJobs).toBeGreaterThan(0);
      expect(lines.filter((l) => !l.startsWith('debug'))).toEqual([]);
    });

    it('ordinary page: wasm-simd on one thread, says why, logs how to get threads once', () => {
      const { report, console: lines } = reports.plain;
      expect(report.crossOriginIsolated).toBe(false);
      expect(report.runtime).toMatchObject({ engine: 'wasm-simd', threads: 1, sharedMemory: false });
      expect(report.runtime.summary).toBe('wasm-simd x1: page not cross-origin isolated');
      expect(lines).toEqual([`info: ${THREADS_NOTICE}`]);
    });

    it('both pages agree with the plain kernels and with each other, bit for bit across pages', () => {
      for (const kind of ['isolated', 'plain']) {
        const { report } = reports[kind];
        expect(report.maxAbsErr, kind).toBeLessThanOrEqual(2e-5 * Math.max(1, report.maxAbs));
        expect(report.repeatable, kind).toBe(true);
      }
      expect(reports.plain.report.head).toEqual(reports.isolated.report.head);
    });
  },
);
