// Types of browser-suite.js: the vitest `describe` block of a browser check.
import type { BrowserPageOptions, BrowserPageSession, OpenedPage, OpenPageOptions } from './browser-page.js';

/** What the tests of {@link describeBrowserPage} read once its set-up has run. */
export interface BrowserSuiteContext {
  session: BrowserPageSession;
  /** The page opened once before the tests (with the `open` option). */
  opened: OpenedPage;
}

/** Options of {@link describeBrowserPage}. */
export interface BrowserSuiteOptions {
  /** The page, served and opened in Chromium (see startBrowserPage). */
  page: BrowserPageOptions;
  /** Open the page once before the tests, waiting for this entry (see openPage). */
  open?: OpenPageOptions;
  /** Timeout of the set-up, in ms (default 120 000). */
  setupTimeout?: number;
}

/**
 * `describe(title)` of a browser check: skips with the reason outside CI where Chromium is missing (runs,
 * and fails, in CI); starts the page and Chromium before the tests (opening the page with `open`) and
 * closes them after. `body(ctx)` declares the tests.
 */
export declare function describeBrowserPage(
  title: string,
  options: BrowserSuiteOptions,
  body: (ctx: BrowserSuiteContext) => void,
): void;
