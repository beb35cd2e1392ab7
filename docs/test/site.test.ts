// The built site in Chromium: every page renders without a console error or an uncaught exception, and
// no internal link (page, asset or #anchor) is broken, crawling from the home page.
//
// Every page is loaded through the site's own client-side router (what following a link does: fetch the
// page's chunk, render it), which takes a fraction of a second per page. Full page loads with server-rendered
// HTML and hydration are done for every hand-written page, the API index and the first API page of each
// kind (class, interface, function, ...), whose markup the other API pages share.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collectErrors, launchChromium } from './support/browser';
import { builtPages, DIST } from './support/site';
import { type StaticServer, serveStatic } from './support/static-server';

let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveStatic(DIST);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** What rendering one page found. */
interface Visit {
  errors: string[];
  links: string[];
  ids: string[];
}

const visits = new Map<string, Visit>();

/** Links and element ids of the page as rendered. */
function scrape(page: Page): Promise<{ links: string[]; ids: string[] }> {
  return page.evaluate(() => ({
    links: [
      ...[...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
      ...[...document.querySelectorAll('link[href]')].map((l) => (l as HTMLLinkElement).href),
      ...[...document.querySelectorAll('script[src], img[src]')].map((s) => (s as HTMLImageElement).src),
    ],
    ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
  }));
}

async function waitForApp(page: Page, path: string): Promise<void> {
  await page.waitForFunction(
    () => !!(document.querySelector('#app') as { __vue_app__?: unknown } | null)?.__vue_app__,
    null,
    { timeout: 20_000 },
  );
  if (path === '/playground.html') {
    await page.waitForSelector('[data-testid=playground][data-state=ready][data-backends=done]', {
      timeout: 60_000,
    });
  }
}

/** A full load: server-rendered HTML, then hydration. */
async function fullLoad(path: string): Promise<string[]> {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  try {
    const res = await page.goto(`${server.origin}${path}`, { waitUntil: 'domcontentloaded' });
    if (res?.status() !== 200) errors.push(`HTTP ${res?.status()}`);
    await waitForApp(page, path);
    await page.waitForTimeout(50);
    return errors;
  } finally {
    await page.close();
  }
}

/** Renders `path` through the site's router in an already loaded page. */
async function routerVisit(page: Page, errors: string[], path: string): Promise<Visit> {
  const first = errors.length;
  const ok = await page.evaluate(async (to) => {
    const app = (document.querySelector('#app') as { __vue_app__?: { _context: { provides: object } } })
      .__vue_app__!;
    const provides = app._context.provides as Record<symbol, unknown>;
    const router = Object.getOwnPropertySymbols(provides)
      .map((s) => provides[s] as { go?: (to: string) => Promise<void>; route?: { path: string } })
      .find((v) => typeof v?.go === 'function' && v.route);
    if (!router?.go) return 'no router';
    await router.go(to);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    if (document.querySelector('.NotFound')) return 'rendered the 404 page';
    const at = router.route?.path ?? '';
    return at === to || `${at}index.html` === to ? 'ok' : `route is ${at}`;
  }, path);
  if (ok !== 'ok') errors.push(`router: ${ok}`);
  await waitForApp(page, path);
  const v = { errors: errors.slice(first), ...(await scrape(page)) };
  visits.set(path, v);
  return v;
}

/** Pages that get a full load (see the header): hand-written ones, API indexes, one API page per kind. */
function fullLoadPages(pages: readonly string[]): string[] {
  const seenKinds = new Set<string>();
  return pages.filter((p) => {
    if (!p.startsWith('/api/') || p === '/api/index.html') return true;
    const kind = /\/(classes|interfaces|functions|type-aliases|variables|enumerations|namespaces)\//.exec(
      p,
    )?.[1];
    if (!kind || seenKinds.has(kind)) return false;
    seenKinds.add(kind);
    return true;
  });
}

describe('built site', () => {
  test('has the guide, playground, benchmarks and API reference pages', () => {
    const pages = builtPages();
    for (const p of [
      '/index.html',
      '/guide/getting-started.html',
      '/guide/concepts.html',
      '/guide/backends.html',
      '/guide/models.html',
      '/guide/cli.html',
      '/guide/serving.html',
      '/guide/reliability.html',
      '/guide/gradients.html',
      '/guide/training.html',
      '/guide/receptive-fields.html',
      '/playground.html',
      '/benchmarks.html',
      '/api/index.html',
    ]) {
      expect(pages).toContain(p);
    }
    expect(pages.filter((p) => p.startsWith('/api/')).length).toBeGreaterThan(50);
  });

  test('hand-written pages, API indexes and one API page of each kind load and hydrate cleanly', async () => {
    const pages = fullLoadPages(builtPages().filter((p) => p !== '/404.html'));
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < pages.length) {
          const p = pages[next++];
          for (const e of await fullLoad(p)) failures.push(`${p}: ${e}`);
        }
      }),
    );
    expect(failures).toEqual([]);
  });

  test('every page renders without console errors, and no internal link is broken', async () => {
    const pages = builtPages().filter((p) => p !== '/404.html');
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${server.origin}/index.html`, { waitUntil: 'load' });
    await waitForApp(page, '/index.html');
    const status = new Map<string, number>();
    const check = async (path: string) => {
      if (!status.has(path))
        status.set(path, (await fetch(`${server.origin}${path}`, { method: 'HEAD' })).status);
      return status.get(path)!;
    };
    const seen = new Set(['/index.html']);
    const queue = ['/index.html'];
    const broken: string[] = [];
    const failures: string[] = [];
    const render = async (p: string) => {
      const v = visits.get(p) ?? (await routerVisit(page, errors, p));
      for (const e of v.errors) failures.push(`${p}: ${e}`);
      v.errors = [];
      return v;
    };
    while (queue.length) {
      const from = queue.shift()!;
      const v = await render(from);
      for (const href of v.links) {
        const url = new URL(href);
        if (url.origin !== server.origin) continue;
        let path = decodeURIComponent(url.pathname);
        if (path.endsWith('/')) path += 'index.html';
        if ((await check(path)) !== 200) {
          broken.push(`${from} -> ${href} (HTTP ${status.get(path)})`);
          continue;
        }
        if (!path.endsWith('.html')) continue;
        if (url.hash) {
          const id = decodeURIComponent(url.hash.slice(1));
          if (!(await render(path)).ids.includes(id)) broken.push(`${from} -> ${href} (no element #${id})`);
        }
        if (!seen.has(path)) {
          seen.add(path);
          queue.push(path);
        }
      }
    }
    // Pages no link leads to are rendered too.
    for (const p of pages.filter((x) => !seen.has(x))) await render(p);
    await page.close();
    expect(failures).toEqual([]);
    expect(broken).toEqual([]);
    expect(pages.filter((p) => !visits.has(p))).toEqual([]);
    expect(pages.filter((p) => !seen.has(p))).toEqual([]);
  });

  test('the Receptive fields page shows its figures (PNG decoded by the browser)', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.origin}/guide/receptive-fields.html`, { waitUntil: 'load' });
      const imgs = await page.evaluate(() =>
        [...document.querySelectorAll('.vp-doc img')].map((i) => ({
          src: (i as HTMLImageElement).src,
          width: (i as HTMLImageElement).naturalWidth,
        })),
      );
      expect(imgs.length).toBeGreaterThanOrEqual(2);
      for (const i of imgs) expect(i.width, i.src).toBeGreaterThan(100);
    } finally {
      await page.close();
    }
  });
});
