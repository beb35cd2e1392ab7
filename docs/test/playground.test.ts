// The playground in Chromium: a test draws known MNIST test digits with the mouse (every row's bright
// pixels as short strokes) and both built-in models must classify each correctly, on every backend the
// page offers in this browser (cpu always; the gpu.js modes when the build bundled @wf/backend-gpujs and
// Chromium can run them).
import { loadMnistDigits, mnistTestSplit } from '@wf/models/node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findGpujsEntry } from '../.vitepress/backends-plugin';
import { collectErrors, launchChromium } from './support/browser';
import { digitStrokes, drawStrokes } from './support/mnist-strokes';
import { DIST } from './support/site';
import { type StaticServer, serveStatic } from './support/static-server';

/** Positions in the MNIST test split of the digits drawn on every backend (a 4 and a 7). */
const TEST_POSITIONS = [850, 1450];

let server: StaticServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  server = await serveStatic(DIST);
  browser = await launchChromium();
  page = await browser.newPage();
  errors = collectErrors(page);
  await page.goto(`${server.origin}/playground.html`);
  await page.waitForSelector('[data-testid=playground][data-state=ready][data-backends=done]', {
    timeout: 60_000,
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The backend picker's options. */
function options(): Promise<{ id: string; available: boolean; note: string }[]> {
  return page.locator('[data-testid=backend] option').evaluateAll((os) =>
    os.map((o) => ({
      id: (o as HTMLOptionElement).value,
      available: !(o as HTMLOptionElement).disabled,
      note: o.getAttribute('title') ?? '',
    })),
  );
}

/** Waits until both models have classified the current drawing on `backend`; returns their predictions. */
async function predictions(backend: string): Promise<Record<string, string>> {
  await page.waitForFunction(
    (id) => {
      const root = document.querySelector('[data-testid=playground]') as HTMLElement;
      const results = [...document.querySelectorAll('[data-testid^=result-]')] as HTMLElement[];
      return (
        root.dataset.busy === 'false' &&
        results.length === 2 &&
        results.every((r) => r.dataset.seq === root.dataset.seq && r.dataset.backend === id)
      );
    },
    backend,
    { timeout: 90_000 },
  );
  return page
    .locator('[data-testid^=result-]')
    .evaluateAll((rs) =>
      Object.fromEntries(
        rs.map((r) => [r.getAttribute('data-testid')!.slice(7), (r as HTMLElement).dataset.prediction!]),
      ),
    );
}

describe('playground', () => {
  test('offers the cpu backend, and the gpu.js modes when the package is built', async () => {
    const opts = await options();
    expect(opts.find((o) => o.id === 'cpu')?.available).toBe(true);
    const bundled = await page.getAttribute('[data-testid=playground]', 'data-gpujs');
    if (findGpujsEntry()) {
      // @wf/backend-gpujs is built: the site must have bundled it, and Chromium always runs WebAssembly.
      expect(bundled, 'rebuild the docs after building @wf/backend-gpujs').toBe('bundled');
      expect(opts.find((o) => o.id === 'gpujs:webasm')?.available, JSON.stringify(opts)).toBe(true);
    } else {
      expect(bundled).toBe('absent');
    }
    console.log(
      `playground backends: ${opts.map((o) => `${o.id}=${o.available ? 'yes' : `no (${o.note})`}`).join(', ')}`,
    );
  });

  test('the cpu choice says what runs: one thread on an ordinary server, every core when isolated', async () => {
    const label = (p: Page) => p.locator('[data-testid=backend] option[value=cpu]').textContent();
    expect(await label(page)).toBe('cpu: WebAssembly SIMD, one thread (page not cross-origin isolated)');
    // as served by `vitepress dev` and `pnpm preview` (COOP/COEP headers)
    const isolated = await serveStatic(DIST, { isolated: true });
    const p = await browser.newPage();
    try {
      const problems = collectErrors(p);
      await p.goto(`${isolated.origin}/playground.html`);
      await p.waitForSelector('[data-testid=playground][data-state=ready][data-backends=done]', {
        timeout: 60_000,
      });
      const cores = await p.evaluate(() => navigator.hardwareConcurrency);
      expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await label(p)).toBe(
        cores > 1 ? `cpu: WebAssembly SIMD, ${cores} threads` : 'cpu: WebAssembly SIMD, one thread',
      );
      expect(problems).toEqual([]);
    } finally {
      await p.close();
      await isolated.close();
    }
  });

  test('classifies digits drawn with the mouse, on every backend the browser offers', async () => {
    const digits = loadMnistDigits();
    const split = mnistTestSplit();
    const samples = TEST_POSITIONS.map((k) => ({
      label: String(split.labels[k]),
      strokes: digitStrokes(digits.images[split.indices[k]]),
    }));
    const backends = (await options()).filter((o) => o.available).map((o) => o.id);
    const wrong: string[] = [];
    for (const backend of backends) {
      await page.selectOption('[data-testid=backend]', backend);
      for (const s of samples) {
        await page.click('[data-testid=clear]');
        await drawStrokes(page, '[data-testid=canvas]', s.strokes);
        const got = await predictions(backend);
        for (const [model, p] of Object.entries(got)) {
          if (p !== s.label) wrong.push(`${backend} ${model}: drew a ${s.label}, got ${p}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(errors).toEqual([]);
  });
});
