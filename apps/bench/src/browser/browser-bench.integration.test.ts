// `pnpm bench --browser --quick` in CI: the browser bench's quick variant (ours cpu and onnxruntime-web
// wasm, WFM-T 224 px, an isolated and an ordinary page) in headless Chromium, checked for what issue 15
// asks: each engine says what runs (threads on the isolated page, one thread and why on the ordinary
// one), every output matches the float64 reference, times and ratios are recorded. With CI=true nothing
// skips: Chromium and the shared files must be there.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../bench.js';
import { summaryLines } from '../program.js';
import { validateResults } from '../schema.js';
import { findSharedDir } from '../shared-dir.js';
import { writeOutputs } from '../write-outputs.js';
import { type BrowserResults, browserUnavailable } from './run-browser.js';

const CI = process.env.CI === 'true';
const shared = findSharedDir();
const why = browserUnavailable(shared);
if (CI && why) throw new Error(`CI=true but the browser bench cannot run: ${why}`);

describe.skipIf(!!why)('bench --browser --quick (headless Chromium)', () => {
  let r: BrowserResults;

  it('runs ours and onnxruntime-web on both pages with matching outputs', async () => {
    // = pnpm bench --browser --quick --no-node --threads 2, with fewer rounds
    const results = await runBench({
      mode: 'quick',
      node: false,
      threads: 2,
      browser: { rounds: 2, block: 2 },
    });
    const dir = mkdtempSync(join(tmpdir(), 'wf-bench-browser-'));
    writeOutputs(results, dir);
    console.log(summaryLines(results).join('\n'));
    expect(validateResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')))).toEqual([]);
    expect(readFileSync(join(dir, 'results.md'), 'utf8')).toContain('## In the browser: WFM-T 224 px');
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toContain('In the browser: WFM-T 224 px');
    r = results.browser!;
    expect(r.pages.map((p) => [p.kind, p.crossOriginIsolated])).toEqual([
      ['isolated', true],
      ['plain', false],
    ]);
    expect(r.skipped).toEqual([]);
    for (const page of ['isolated', 'plain'] as const)
      for (const engine of ['cpu', 'ort-web']) {
        const row = r.rows.find((x) => x.page === page && x.engine === engine);
        expect(row, `${page} ${engine}`).toBeDefined();
        expect(row!.runs).toBe(4);
        expect(row!.top1, `${page} ${engine}`).toBe(true);
        expect(row!.maxAbsErr, `${page} ${engine}`).toBeLessThanOrEqual(1e-3 * Math.max(1, row!.refMaxAbs));
      }
  }, 300_000);

  it('says what runs: threads on the isolated page, one thread and why on the ordinary one', () => {
    const row = (page: string, engine: string) => r.rows.find((x) => x.page === page && x.engine === engine)!;
    expect(row('isolated', 'cpu')).toMatchObject({ threads: 2, detail: 'wasm-simd x2' });
    expect(row('plain', 'cpu')).toMatchObject({
      threads: 1,
      detail: 'wasm-simd x1: page not cross-origin isolated',
    });
    expect(row('isolated', 'ort-web').threads).toBe(2);
    expect(row('plain', 'ort-web').threads).toBe(1);
    const plain = r.pages.find((p) => p.kind === 'plain')!;
    expect(plain.console.filter((l) => l.includes('not cross-origin isolated')).length).toBe(1);
    expect(r.ratios.filter((x) => x.target).map((x) => x.page)).toEqual(['isolated', 'plain']);
  });
});
