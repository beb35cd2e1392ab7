// A vitest reporter that records every skipped test, so `pnpm test` can end with one line saying what
// was skipped, why, and the command that would run it (nothing skips silently). Each run writes
// `.skips.json` in the package folder (a turbo output of `test`, so a cached run restores it too);
// scripts/test.mjs reads them all after the run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where a run's skipped tests are written, relative to the package folder vitest runs in. */
export const SKIPS_FILE = '.skips.json';

/** Records skipped tests of one vitest run as `{ package, skipped: [{ file, name, reason }] }`. */
export class SkipReporter {
  /** @param {ReadonlyArray<import('vitest/node').TestModule>} testModules */
  onTestRunEnd(testModules) {
    const skipped = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        skipped.push({ file: mod.moduleId, name: test.fullName, reason: result.note ?? test.name });
      }
    }
    let name = 'unknown';
    try {
      name = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')).name ?? name;
    } catch {
      // a run outside a package folder keeps 'unknown'
    }
    writeFileSync(SKIPS_FILE, JSON.stringify({ package: name, skipped }));
  }
}

/** The reporters every package's vitest config uses: vitest's default one plus {@link SkipReporter}. */
export const testReporters = ['default', new SkipReporter()];
