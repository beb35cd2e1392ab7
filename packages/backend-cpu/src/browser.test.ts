// The fast CPU path in a real browser: Debian's Chromium (headless, playwright-core) loads an esbuild
// bundle of the backend from 127.0.0.1 twice: on a cross-origin isolated page (COOP/COEP headers, so
// SharedArrayBuffer and worker threads) and on an ordinary page (no headers, as most sites are served).
// Both must run WebAssembly SIMD (two threads, one thread), say so in `runtime()`, agree with the plain
// kernels and with each other bit for bit; the ordinary page logs the one-time notice on how to get
// threads. Outside CI a missing Chromium skips with the reason; with CI=true the test runs and fails.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions, chromiumPath } from '@wf/test-fixtures';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuPageReport } from './browser/page.js';
import { THREADS_NOTICE } from './cpu-backend.js';

const IN_CI = process.env.CI === 'true';
const here = dirname(fileURLToPath(import.meta.url));
const missing = existsSync(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath} (apt-get install chromium)`;

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>wf cpu</title><script type="module" src="page.js"></script>';

/** Serves the page under /isolated/ (with COOP/COEP on every response) and /plain/ (without). */
async function serve(script: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const [, kind, file] = url.pathname.split('/');
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (kind === 'isolated') {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    } else if (kind !== 'plain') {
      res.writeHead(404).end();
      return;
    }
    if (file === '' || file === 'index.html')
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (file === 'page.js')
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    else res.writeHead(404, headers).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('Chromium: WebAssembly SIMD on an isolated and on an ordinary page', () => {
  if (missing && !IN_CI) {
    it.skip(`browser tests cannot run here: ${missing}`, () => {});
    return;
  }
  let server: Server;
  let browser: Browser;
  const reports: Record<string, { report: CpuPageReport; console: string[] }> = {};

  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(here, 'browser/page.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'error',
    });
    server = await serve(out.outputFiles[0].text);
    browser = await chromium.launch(chromiumLaunchOptions({ webgpu: false }));
    const { port } = server.address() as AddressInfo;
    for (const kind of ['isolated', 'plain']) {
      const page = await browser.newPage();
      const lines: string[] = [];
      page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
      await page.goto(`http://127.0.0.1:${port}/${kind}/`);
      await page.waitForFunction(() => typeof (globalThis as { wfCpu?: unknown }).wfCpu === 'function');
      const report = (await page.evaluate(() =>
        (globalThis as unknown as { wfCpu: () => Promise<unknown> }).wfCpu(),
      )) as CpuPageReport;
      reports[kind] = { report, console: lines };
      await page.close();
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

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
});
