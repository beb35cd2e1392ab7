// Training in a real browser: Debian's Chromium, driven headless by playwright-core, loads an esbuild
// bundle of @wf/models and @wf/backend-cpu and trains WFM-MNIST's architecture for a few AdamW steps on one
// fixed batch; the loss must fall, with no console or page error. Outside CI a missing Chromium skips with
// the reason; with CI=true the test runs and fails.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumLaunchOptions, chromiumPath } from '@wf/test-fixtures';
import { build, type Plugin } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI } from './test-support.js';

const here = dirname(fileURLToPath(import.meta.url));
const missing = existsSync(chromiumPath)
  ? undefined
  : `no Chromium at ${chromiumPath} (apt-get install chromium)`;

const nodeStub: Plugin = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: /^(node:)?(path|url|fs|fs\/promises|module|zlib|os|worker_threads)$/ }, (args) => ({
      path: args.path,
      namespace: 'node-stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({
      loader: 'js',
      contents: [
        'const unavailable = () => { throw new Error("Node built-ins are not available in the browser"); };',
        'export default {};',
        'export const fileURLToPath = () => "";',
        'export const dirname = () => "";',
        'export const join = () => "";',
        'export const createRequire = () => unavailable;',
        'export const readFile = unavailable;',
        'export const readFileSync = unavailable;',
        'export const cpus = () => [];',
        'export const isMainThread = true;',
        'export const Worker = undefined;',
      ].join('\n'),
    }));
  },
};

describe('browser: Chromium trains wfm-mnist on the cpu backend', () => {
  if (missing && !IN_CI) {
    it.skip(`browser tests cannot run here: ${missing}`, () => {});
    return;
  }
  let server: Server;
  let browser: Browser;
  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(here, 'browser/train-page.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      plugins: [nodeStub],
      logLevel: 'error',
    });
    const script = out.outputFiles[0].text;
    server = createServer((req, res) => {
      const h = {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      };
      if (req.url === '/page.js') res.writeHead(200, { ...h, 'Content-Type': 'text/javascript' }).end(script);
      else if (req.url === '/')
        res
          .writeHead(200, { ...h, 'Content-Type': 'text/html' })
          .end('<!doctype html><script type="module" src="/page.js"></script>');
      else if (req.url === '/favicon.ico') res.writeHead(204, h).end();
      else res.writeHead(404, h).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    browser = await chromium.launch(chromiumLaunchOptions());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('the loss falls over 4 AdamW steps', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => typeof (globalThis as { wfTrain?: unknown }).wfTrain === 'function');
    const r = (await page.evaluate(() =>
      (globalThis as unknown as { wfTrain: (n: number) => Promise<unknown> }).wfTrain(4),
    )) as { losses: number[]; backend: string };
    console.log(`[browser train] ${r.backend}: losses ${r.losses.map((l) => l.toFixed(4)).join(' ')}`);
    expect(r.losses).toHaveLength(4);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses[3]).toBeLessThan(r.losses[0] - 0.05);
    expect(problems).toEqual([]);
  }, 300_000);
});
