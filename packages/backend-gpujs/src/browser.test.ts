// The backend in a real browser: Debian's Chromium, driven headless by playwright-core, loads a page
// served on 127.0.0.1 (cross-origin isolated, so webasm could use threads) with an esbuild bundle of the
// backend, the framework-free conformance runner and the models package. The page runs the whole
// conformance suite and the wfm-micro parity in `webgl2` (ANGLE on SwiftShader) and `webgpu` (Dawn on
// SwiftShader) and reports which adapter ran. Every case must run and pass (none is skipped: a browser
// lacks no op or dtype of the suite); any console error or page error fails the test. Outside CI a missing
// Chromium skips with the reason; in CI (isCI of @wf/test-fixtures) the test runs and fails.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformanceCases } from '@wf/core/testing/runner';
import { chromiumLaunchOptions, chromiumPath, fixturesDir } from '@wf/test-fixtures';
import { build, type Plugin } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserReport } from './browser/page.js';
import { IN_CI, microFixtures } from './test-support.js';

const CHROMIUM = chromiumPath;
/** Number of conformance cases the page runs (the same definition, counted here). */
const CASES = conformanceCases({ fixtures: microFixtures() }).length;
const here = dirname(fileURLToPath(import.meta.url));
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

/**
 * Node built-ins that Node-only code paths of the bundled packages import (safetensors file loading,
 * @wf/models' tsup shims, Dawn lookup) resolve to an inert stub: the page never takes those paths.
 */
const nodeStub: Plugin = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(path|url|fs|fs\/promises|module|zlib)$/ }, (args) => ({
      path: args.path,
      namespace: 'node-stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      loader: 'js',
      contents: [
        'const unavailable = () => { throw new Error("Node built-ins are not available in the browser"); };',
        'export default {};',
        'export const fileURLToPath = () => "";',
        'export const pathToFileURL = () => ({ href: "" });',
        'export const dirname = () => "";',
        'export const join = () => "";',
        'export const createRequire = () => unavailable;',
        'export const readFile = unavailable;',
        'export const readFileSync = unavailable;',
        'export const inflateSync = unavailable;',
      ].join('\n'),
    }));
  },
};

/** Bundles the page script (backend + conformance runner + models) for the browser. */
async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, 'browser/page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    plugins: [nodeStub],
    external: ['gl', 'webgpu'],
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>wf gpujs</title><script type="module" src="/page.js"></script>';

function serve(script: string): Promise<Server> {
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (url.pathname === '/page.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (/^\/fixtures\/[\w.-]+\.safetensors$/.test(url.pathname)) {
      const file = join(fixturesDir, 'reference', url.pathname.slice('/fixtures/'.length));
      if (!existsSync(file)) res.writeHead(404, headers).end();
      else
        res
          .writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream' })
          .end(readFileSync(file));
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(204, headers).end();
    } else {
      res.writeHead(404, headers).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('browser: Chromium (headless) runs the conformance suite and wfm-micro parity', () => {
  if (missing && !IN_CI) {
    it.skip(`browser tests cannot run here: ${missing}`, () => {});
    return;
  }
  let server: Server;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await serve(await bundlePage());
    browser = await chromium.launch(chromiumLaunchOptions());
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => typeof (globalThis as { wfRun?: unknown }).wfRun === 'function', null, {
      timeout: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  for (const mode of ['webgl2', 'webgpu'] as const) {
    it(`${mode}: every conformance case and the wfm-micro parity pass`, async () => {
      const before = problems.length;
      const report = (await page.evaluate(
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
      expect(problems.slice(before), 'console errors').toEqual([]);
    }, 600_000);
  }
});
