// The vitest side of the browser checks (browser-page.js is the side without vitest, which `pnpm bench
// --browser` uses at run time): a `describe` block that, outside CI, skips with the reason where Chromium is
// missing (in CI it runs and fails: nothing may skip there), starts the page and Chromium before its tests,
// optionally opens the page once, and closes everything after them.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { chromiumMissing, startBrowserPage } from './browser-page.js';
import { isCI } from './index.js';

/**
 * Declares `describe(title)` of a browser check. Outside CI ({@link isCI}), where Chromium is missing, the
 * block holds one skipped test `browser tests cannot run here: <reason>` instead. Otherwise a `beforeAll`
 * (`setupTimeout` ms, default 120 000) starts the session ({@link startBrowserPage} with `page`) and, with
 * `open`, opens the page once ({@link openPage}); an `afterAll` closes the session. `body(ctx)` declares the
 * tests (and any further hooks, which run after the set-up); `ctx.session` and `ctx.opened` are set once
 * the set-up has run.
 */
export function describeBrowserPage(title, { page, open, setupTimeout = 120_000 }, body) {
  describe(title, () => {
    const missing = chromiumMissing();
    if (missing && !isCI()) {
      it.skip(`browser tests cannot run here: ${missing}`, () => {});
      return;
    }
    const ctx = { session: undefined, opened: undefined };
    beforeAll(async () => {
      ctx.session = await startBrowserPage(page);
      if (open) ctx.opened = await ctx.session.open(open);
    }, setupTimeout);
    afterAll(async () => {
      await ctx.session?.close();
    });
    body(ctx);
  });
}
