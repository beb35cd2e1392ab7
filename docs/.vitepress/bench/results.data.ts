// VitePress data loader for the Benchmarks page: reads the bench's results.json at build time (the copy
// in public/bench made by the config, from apps/bench/results/ or WF_BENCH_RESULTS) and summarizes it.
// Without a results file the page says so; nothing is made up.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineLoader } from 'vitepress';
import { DOCS_ROOT, REPO_ROOT } from '../api/packages';
import { benchResultsPath } from '../site-assets';
import { type BenchSummary, summarizeBench } from './summary';

declare const data: BenchSummary;

export { data };

export default defineLoader({
  watch: [join(DOCS_ROOT, 'public/bench/results.json')],
  load(): BenchSummary {
    const copy = join(DOCS_ROOT, 'public/bench/results.json');
    const shown = relative(REPO_ROOT, benchResultsPath());
    if (!existsSync(copy)) return { status: 'missing', path: shown };
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(copy, 'utf8'));
    } catch (e) {
      return { status: 'invalid', path: shown, problems: [`not JSON: ${(e as Error).message}`] };
    }
    return summarizeBench(raw, shown);
  },
});
