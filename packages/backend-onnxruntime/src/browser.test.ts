// The backend in a real browser: Debian's Chromium, headless through playwright-core, loads a page served
// on 127.0.0.1 with an esbuild bundle of the backend, onnxruntime-web (its .wasm files served beside the
// page) and the models package, and runs wfm-micro-80 through `model.run` on onnxruntime-web's wasm
// provider (and, with WF_ORT_BROWSER_WEBGPU=1, on the default providers: WebGPU first). Any console or page error
// fails the test. Outside CI a missing Chromium skips with the reason; with CI=true the test runs.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions, chromiumPath, fixturesDir, IN_CI } from '@wf/test-fixtures';
import { build, type Plugin } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageReport } from './browser/page.js';

const here = dirname(fileURLToPath(import.meta.url));
const missing = existsSync(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
const ortDist = dirname(
  createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
);

/** Node built-ins imported by Node-only paths of the bundled packages resolve to an inert stub. */
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

async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, 'browser/page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    plugins: [nodeStub],
    external: ['onnxruntime-node'],
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>wf ort</title><script type="module" src="/page.js"></script>';

function serve(script: string): Promise<Server> {
  const server = createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-store' };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = (path: string, type: string) => {
      if (!existsSync(path)) res.writeHead(404, headers).end();
      else res.writeHead(200, { ...headers, 'Content-Type': type }).end(readFileSync(path));
    };
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (url.pathname === '/page.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (/^\/fixtures\/[\w.-]+\.safetensors$/.test(url.pathname)) {
      file(
        join(fixturesDir, 'reference', url.pathname.slice('/fixtures/'.length)),
        'application/octet-stream',
      );
    } else if (/^\/ort\/[\w.-]+\.(wasm|mjs)$/.test(url.pathname)) {
      const name = url.pathname.slice('/ort/'.length);
      file(
        join(ortDist, name),
        name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8',
      );
    } else {
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404, headers).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('browser: Chromium (headless) runs wfm-micro on onnxruntime-web through the backend', () => {
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
    await page.waitForFunction(
      () => typeof (globalThis as { runOrt?: unknown }).runOrt === 'function',
      null,
      {
        timeout: 30_000,
      },
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  // onnxruntime-web's wasm provider, as in a browser without WebGPU. WebGPU (Dawn on SwiftShader here)
  // compiles a shader per kernel on the CPU and takes minutes on a loaded two-core machine, so it runs
  // only when asked for with WF_ORT_BROWSER_WEBGPU=1 (the backend's default providers, webgpu first).
  const cases: { label: string; providers?: string[] }[] = [{ label: 'wasm', providers: ['wasm'] }];
  if (process.env.WF_ORT_BROWSER_WEBGPU === '1') cases.push({ label: 'default providers (WebGPU first)' });
  for (const c of cases) {
    it(`${c.label}: wfm-micro-80 matches the fixture`, async () => {
      const report = (await page.evaluate(
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
      expect(problems).toEqual([]);
    }, 180_000);
  }
});
