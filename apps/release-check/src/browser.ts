// Launches the system Chromium (Debian's /usr/bin/chromium, never a downloaded one) headless through
// playwright-core. `CHROMIUM_PATH` overrides the executable.
import { existsSync } from 'node:fs';
import { chromiumLaunchOptions, chromiumPath } from '@wf/test-fixtures';
import { type Browser, chromium } from 'playwright-core';

/** The Chromium executable. */
export const CHROMIUM = chromiumPath;

/** Starts a headless Chromium; throws a clear error when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: install the Debian package "chromium"`);
  return chromium.launch(chromiumLaunchOptions());
}
