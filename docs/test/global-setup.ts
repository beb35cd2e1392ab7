// Vitest global setup: make sure the built site exists and is current before any browser test runs.
import { ensureBuilt } from './support/site';

export default function setup(): void {
  const { built, ms } = ensureBuilt();
  if (built) console.log(`docs: built the site for the tests in ${(ms / 1000).toFixed(1)} s`);
}
