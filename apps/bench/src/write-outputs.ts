// Writes the three outputs of a run into one folder: results.json, results.md and index.html.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import type { BenchResults } from './schema.js';

/** Paths of the written files. */
export interface OutputFiles {
  json: string;
  markdown: string;
  html: string;
}

/** Writes `results.json`, `results.md` and `index.html` into `dir` (created if needed). */
export function writeOutputs(results: BenchResults, dir: string): OutputFiles {
  mkdirSync(dir, { recursive: true });
  const files = {
    json: join(dir, 'results.json'),
    markdown: join(dir, 'results.md'),
    html: join(dir, 'index.html'),
  };
  writeFileSync(files.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.markdown, renderMarkdown(results));
  writeFileSync(files.html, renderHtml(results));
  return files;
}
