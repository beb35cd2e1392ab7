// Training in a real browser: Debian's Chromium, driven headless by playwright-core, loads an esbuild
// bundle of @wf/models and @wf/backend-cpu and trains WFM-MNIST's architecture for a few AdamW steps on one
// fixed batch; the loss must fall, with no console or page error. Outside CI a missing Chromium skips with
// the reason; with CI=true the test runs and fails.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBrowserPage } from '@wf/test-fixtures/browser-suite';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describeBrowserPage(
  'browser: Chromium trains wfm-mnist on the cpu backend',
  { page: { entry: join(here, 'browser/train-page.ts'), title: 'wf train' } },
  (ctx) => {
    it('the loss falls over 4 AdamW steps', async () => {
      const { page, errors } = await ctx.session.open({ entry: 'wfTrain' });
      const r = (await page.evaluate(() =>
        (globalThis as unknown as { wfTrain: (n: number) => Promise<unknown> }).wfTrain(4),
      )) as { losses: number[]; backend: string };
      console.log(`[browser train] ${r.backend}: losses ${r.losses.map((l) => l.toFixed(4)).join(' ')}`);
      expect(r.losses).toHaveLength(4);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(r.losses[3]).toBeLessThan(r.losses[0] - 0.05);
      expect(errors).toEqual([]);
    }, 300_000);
  },
);
