// The pipeline in Chromium, bundled as an app would bundle it: a checkpoint URL (its download cached in the
// Cache API: a second pipeline does not download again, and the server's missing config.json is no error),
// images given as a URL, a Blob and an ImageBitmap decoded by the browser, with the same classes as in Node.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '@wf/backend-cpu';
import { imageClassifier, type Prediction } from '@wf/models';
import { fixturePath } from '@wf/test-fixtures';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { collectErrors, launchChromium } from './support/browser';
import { type StaticServer, serveStatic } from './support/static-server';

const DOCS = dirname(dirname(fileURLToPath(import.meta.url)));
let www: string;
let server: StaticServer;
let browser: Browser;
const W = 50;
const H = 38;
const pixels = new Uint8Array(W * H * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 13 + (i >> 6) * 7) & 255));

beforeAll(async () => {
  www = mkdtempSync(join(tmpdir(), 'wf-pipeline-browser-'));
  await build({
    stdin: {
      contents:
        "import { imageClassifier } from '@wf/models'; import { createCpuBackend } from '@wf/backend-cpu'; Object.assign(globalThis, { wf: { imageClassifier, createCpuBackend } });",
      resolveDir: DOCS,
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    external: ['node:*'],
    outfile: join(www, 'bundle.js'),
    logLevel: 'error',
  });
  writeFileSync(join(www, 'index.html'), '<!doctype html><script type="module" src="/bundle.js"></script>');
  copyFileSync(fixturePath('reference/wfm-micro.safetensors'), join(www, 'wfm-micro.safetensors'));
  const png = new PNG({ width: W, height: H });
  png.data = Buffer.from(pixels);
  writeFileSync(join(www, 'a.png'), PNG.sync.write(png));
  server = await serveStatic(www);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (www) rmSync(www, { recursive: true, force: true });
});

test('imageClassifier in a browser: URL, Blob and ImageBitmap inputs, cached download, same classes as Node', async () => {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => 'wf' in globalThis);
  const got = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the bundle's global
    const wf = (globalThis as any).wf;
    const backend = wf.createCpuBackend();
    const first = await wf.imageClassifier('/wfm-micro.safetensors', { backend });
    const blob = await (await fetch('/a.png')).blob();
    const byUrl = await first('/a.png', { topK: 3 });
    const byBlob = await first(blob, { topK: 3 });
    const byBitmap = await first(await createImageBitmap(blob), { topK: 3 });
    const again = await wf.imageClassifier('/wfm-micro.safetensors', { backend });
    const fromCache = await again(blob, { topK: 3 });
    return { byUrl, byBlob, byBitmap, fromCache, size: first.inputSize };
  });
  await page.close();
  // Chromium logs every 404 (the favicon, the config.json probe) as a console error; nothing else may fail.
  expect(errors.filter((e) => !/status of 404 .*\/(favicon\.ico|config\.json)\)$/.test(e))).toEqual([]);
  const node = await imageClassifier(fixturePath('reference/wfm-micro.safetensors'), {
    backend: createCpuBackend(),
  });
  const want = (await node({ width: W, height: H, data: pixels }, { topK: 3 })) as Prediction[];
  await node.dispose();
  for (const r of [got.byUrl, got.byBlob, got.byBitmap, got.fromCache] as Prediction[][]) {
    expect(r.map((p) => p.index)).toEqual(want.map((p) => p.index));
    for (const [i, p] of r.entries()) expect(p.probability).toBeCloseTo(want[i].probability, 4);
  }
  expect(got.size).toEqual({ width: 64, height: 64 });
  // One download of the weights for two pipelines (Cache API); the 404 config.json probe was no error.
  expect(server.requests.filter((r) => r.path === '/wfm-micro.safetensors')).toHaveLength(1);
  expect(server.requests.some((r) => r.path === '/config.json' && r.status === 404)).toBe(true);
});
