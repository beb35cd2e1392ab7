// Launches the system Chromium (Debian's /usr/bin/chromium; never a downloaded one) headless through
// playwright-core, with WebGPU and SwiftShader enabled so that the gpu.js modes a real browser offers are
// offered here too. `CHROMIUM_PATH` overrides the executable.
import { existsSync } from 'node:fs';
import { chromiumLaunchOptions, chromiumPath } from '@wf/test-fixtures';
import { type Browser, type ConsoleMessage, chromium, type Page } from 'playwright-core';

/** The Chromium executable the tests use. */
export const CHROMIUM = chromiumPath;

/** Starts a headless Chromium; throws a clear error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install the Debian package "chromium" (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch(chromiumLaunchOptions());
}

/** Console errors and uncaught exceptions of a page, collected from the moment this is called. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}
