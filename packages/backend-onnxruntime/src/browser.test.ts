// The backend in a real browser: Debian's Chromium, headless through playwright-core, loads a page served
// on 127.0.0.1 with an esbuild bundle of the backend, onnxruntime-web (its .wasm files served beside the
// page) and the models package, and runs wfm-micro-80 through `model.run` on onnxruntime-web's wasm
// provider (and, with WF_ORT_BROWSER_WEBGPU=1, on the default providers: WebGPU first). Any console or page error
// fails the test. Outside CI a missing Chromium skips with the reason; with CI=true the test runs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceFixturesMount } from '@wf/test-fixtures/browser-page';
import { describeBrowserPage } from '@wf/test-fixtures/browser-suite';
import { expect, it } from 'vitest';
import type { PageReport } from './browser/page.js';

const here = dirname(fileURLToPath(import.meta.url));
const ortDist = dirname(
  createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
);

describeBrowserPage(
  'browser: Chromium (headless) runs wfm-micro on onnxruntime-web through the backend',
  {
    // An ordinary page (no COOP/COEP headers); onnxruntime-web's .wasm and .mjs files are served beside it.
    page: {
      entry: join(here, 'browser/page.ts'),
      external: ['onnxruntime-node'],
      title: 'wf ort',
      isolation: 'plain',
      mounts: [referenceFixturesMount, { prefix: 'ort/', dir: ortDist, pattern: /^[\w.-]+\.(wasm|mjs)$/ }],
    },
    open: { entry: 'runOrt', timeout: 30_000 },
  },
  (ctx) => {
    // onnxruntime-web's wasm provider, as in a browser without WebGPU. WebGPU (Dawn on SwiftShader here)
    // compiles a shader per kernel on the CPU and takes minutes on a loaded two-core machine, so it runs
    // only when asked for with WF_ORT_BROWSER_WEBGPU=1 (the backend's default providers, webgpu first).
    const cases: { label: string; providers?: string[] }[] = [{ label: 'wasm', providers: ['wasm'] }];
    if (process.env.WF_ORT_BROWSER_WEBGPU === '1') cases.push({ label: 'default providers (WebGPU first)' });
    for (const c of cases) {
      it(`${c.label}: wfm-micro-80 matches the fixture`, async () => {
        const report = (await ctx.opened.page.evaluate(
          (p) =>
            (globalThis as unknown as { runOrt: (p?: string[]) => Promise<unknown> }).runOrt(p ?? undefined),
          c.providers ?? null,
        )) as PageReport;
        console.log(
          `browser ort: ${report.backend}, max error ${report.err.toExponential(2)} (bound ${report.bound})`,
        );
        if (!c.providers) expect(report.backend).toBe(report.webgpu ? 'ort-web:webgpu+wasm' : 'ort-web:wasm');
        else expect(report.backend).toBe(`ort-web:${c.providers.join('+')}`);
        expect(report.err).toBeLessThanOrEqual(report.bound);
        expect(ctx.opened.errors).toEqual([]);
      }, 180_000);
    }
  },
);
