#!/usr/bin/env node
// `pnpm test`: set-up (scripts/setup.mjs), then build, typecheck and every package's test suite through
// turbo, then Biome, then one line saying which tests skipped, why, and the command that would run them,
// and last, when tests failed, each failure with its first error lines (a log cut to its tail still says
// what broke). Under CI (any non-empty `CI` but "false"/"0") a skipped test fails the run: CI skips nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const REPORT_FILE = '.test-report.json'; // written by @wf/test-fixtures/skip-reporter in each package folder

/** Every workspace package folder (the globs of pnpm-workspace.yaml: packages/*, apps/*, docs). */
function packageDirs() {
  const dirs = [join(root, 'docs')];
  for (const parent of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, parent), { withFileTypes: true })) {
      if (d.isDirectory()) dirs.push(join(root, parent, d.name));
    }
  }
  return dirs.filter((d) => existsSync(join(d, 'package.json')));
}

/** Runs a command with inherited output and returns its exit status. */
function step(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  return r.status ?? 1;
}

/** What would make a skipped test run, from its reason. */
function remedy(reason) {
  if (/chromium|browser/i.test(reason)) return 'the system packages: `sudo node scripts/setup.mjs`';
  if (/headless ?gl|\bgl\b|xvfb|display/i.test(reason)) return 'the gl addon: `sudo node scripts/setup.mjs`';
  if (/shared|fixture/i.test(reason)) return 'the shared fixtures: put them at ../shared or set WF_SHARED';
  return '`CI=true pnpm test` (turns the skip into a failure that says why)';
}

/** Every package's report of its last test run: `{ package, skipped, failed }`. */
function reports(dirs) {
  return dirs
    .map((d) => join(d, REPORT_FILE))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')));
}

/** One line: each package's skipped tests with the first reason and what would run them. */
function skipSummary(runs) {
  const groups = new Map();
  let total = 0;
  for (const { package: pkg, skipped } of runs) {
    for (const s of skipped) {
      total++;
      const reason = String(s.reason).slice(0, 100);
      const key = `${pkg}\u0000${remedy(reason)}`;
      const g = groups.get(key) ?? { pkg, reason, n: 0, fix: remedy(reason) };
      g.n++;
      groups.set(key, g);
    }
  }
  if (total === 0) return { total, line: 'Skipped tests: none.' };
  const parts = [...groups.values()].map((g) => `${g.pkg} ${g.n} (${g.reason}; needs ${g.fix})`);
  return { total, line: `Skipped tests: ${total}: ${parts.join('; ')}.` };
}

/** The failed tests of every package, each with its first error lines; empty when none failed. */
function failureSummary(runs) {
  const lines = [];
  for (const { package: pkg, failed = [] } of runs) {
    for (const f of failed) {
      lines.push(`FAILED ${pkg} ${f.file ? `${relative(root, f.file)} > ` : ''}${f.name}`);
      for (const e of f.errors.slice(0, 2)) lines.push(...e.split('\n').map((l) => `    ${l}`));
    }
  }
  return lines;
}

const dirs = packageDirs();
for (const d of dirs) rmSync(join(d, REPORT_FILE), { force: true });

let status = step(process.execPath, [join(root, 'scripts', 'setup.mjs')]);
if (status === 0) {
  const turbo = step('pnpm', [
    'exec',
    'turbo',
    'run',
    'build',
    'typecheck',
    'test',
    '--continue',
    '--output-logs=new-only',
  ]);
  const lint = step('pnpm', ['exec', 'biome', 'check', '.']);
  status = turbo || lint;
  const runs = reports(dirs);
  const { total, line } = skipSummary(runs);
  console.log(`\n${line}`);
  if (ci && total > 0) {
    console.error('CI is set and tests skipped: in CI every test must run.');
    status ||= 1;
  }
  const failures = failureSummary(runs);
  if (failures.length > 0)
    console.log(
      `\nFailed tests: ${failures.filter((l) => l.startsWith('FAILED')).length}\n${failures.join('\n')}`,
    );
}
process.exit(status);
