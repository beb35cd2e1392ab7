// A vitest reporter that records every skipped and every failed test, so `pnpm test` can end with what was
// skipped (why, and the command that would run it: nothing skips silently) and, when something failed,
// each failure's test and first error lines: the last thing printed, so a log that keeps only its tail
// (a CI summary) still says what broke. Each run writes `.test-report.json` in the package folder (a turbo
// output of `test`, so a cached run restores it too); scripts/test.mjs reads them all after the run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

/** Where a run's report is written, relative to the package folder vitest runs in. */
export const REPORT_FILE = '.test-report.json';

/** The first lines of an error's message (ANSI colours removed), at most 600 characters. */
function brief(error) {
  const text = stripVTControlCharacters(String(error?.message ?? error ?? 'unknown error'));
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(0, 8).join('\n').slice(0, 600);
}

/**
 * Records one vitest run as `{ package, skipped: [{ file, name, reason }], failed: [{ file, name, errors }] }`.
 * Failures are failed tests, errors of a suite or module outside its tests (a failed `beforeAll`, a file that
 * does not load) and unhandled errors.
 */
export class SkipReporter {
  /**
   * @param {ReadonlyArray<import('vitest/node').TestModule>} testModules
   * @param {ReadonlyArray<{ message?: string }>} [unhandledErrors]
   */
  onTestRunEnd(testModules, unhandledErrors = []) {
    const skipped = [];
    const failed = [];
    for (const mod of testModules) {
      const own = mod.errors();
      if (own.length > 0) failed.push({ file: mod.moduleId, name: '(file)', errors: own.map(brief) });
      for (const suite of mod.children.allSuites()) {
        const errs = suite.errors();
        if (errs.length > 0)
          failed.push({ file: mod.moduleId, name: suite.fullName, errors: errs.map(brief) });
      }
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'skipped') {
          skipped.push({ file: mod.moduleId, name: test.fullName, reason: result.note ?? test.name });
        } else if (result.state === 'failed') {
          failed.push({ file: mod.moduleId, name: test.fullName, errors: (result.errors ?? []).map(brief) });
        }
      }
    }
    for (const e of unhandledErrors) failed.push({ file: '', name: '(unhandled error)', errors: [brief(e)] });
    let name = 'unknown';
    try {
      name = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).name ?? name;
    } catch {
      // a run outside a package folder keeps 'unknown'
    }
    writeFileSync(REPORT_FILE, JSON.stringify({ package: name, skipped, failed }));
  }
}

/** The reporters every package's vitest config uses: vitest's default one plus {@link SkipReporter}. */
export const testReporters = ['default', new SkipReporter()];
