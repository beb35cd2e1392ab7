// Static checks of a published package's manifest and folder: `exports` with `types` first in every
// condition object and every target present, `files`, `sideEffects`, `engines`, license, README,
// repository, public access, and the files `main`/`module`/`types`/`bin` point to. Returns problems as
// sentences that say what to change.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from './workspace.js';

/** Licenses the project publishes under. */
const LICENSES = new Set(['MIT']);

type Target = string | null | { [condition: string]: Target } | Target[];

/** Walks an `exports` value; `at` is the JSON path, e.g. `exports["."].import`. */
function walkExports(value: Target, at: string, visit: (at: string, value: Target) => void): void {
  visit(at, value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) walkExports(v, `${at}[${JSON.stringify(k)}]`, visit);
  }
}

/** Whether `file` (relative, `./dist/x.js`) is inside one of the `files` entries. */
function covered(file: string, files: readonly string[]): boolean {
  const f = file.replace(/^\.\//, '');
  return files.some((entry) => {
    const e = entry.replace(/^\.\//, '').replace(/\/$/, '');
    return f === e || f.startsWith(`${e}/`);
  });
}

/**
 * Problems with a package that is about to be published. `dir` must hold the built package (dist/), so
 * that every path the manifest names can be checked.
 */
export function checkManifest(m: Manifest, dir: string, path: string): string[] {
  const problems: string[] = [];
  const files = Array.isArray(m.files) ? m.files : [];
  const fileExists = (p: string) => existsSync(join(dir, p));

  if (!/^@wf\/[a-z0-9-]+$/.test(m.name)) problems.push(`name "${m.name}" is not @wf/<kebab-case>`);
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(m.version ?? ''))
    problems.push(`version "${m.version}" is not semver`);
  if (!m.description) problems.push('add a "description"');
  if (m.type !== 'module') problems.push('set "type": "module" (the dist files are ESM .js / CJS .cjs)');

  // exports
  if (!m.exports || typeof m.exports !== 'object') {
    problems.push('add an "exports" map');
  } else {
    const exp = m.exports as Record<string, Target>;
    if (!('.' in exp)) problems.push('"exports" has no "." entry');
    if (!('./package.json' in exp)) problems.push('add "./package.json": "./package.json" to "exports"');
    walkExports(exp as Target, 'exports', (at, v) => {
      if (typeof v === 'string') {
        if (!v.startsWith('./')) problems.push(`${at} = "${v}" must start with "./"`);
        else if (!fileExists(v)) problems.push(`${at} points to ${v}, which does not exist (build first?)`);
        else if (v !== './package.json' && !covered(v, files))
          problems.push(`${at} = ${v} is not in "files"`);
        return;
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) return;
      const keys = Object.keys(v);
      if (keys.includes('types') && keys[0] !== 'types') {
        problems.push(`${at}: "types" must be the first condition (found ${keys.join(', ')})`);
      }
      if (keys.includes('default') && keys.at(-1) !== 'default') {
        problems.push(`${at}: "default" must be the last condition`);
      }
      const isConditions = keys.every((k) => !k.startsWith('.'));
      if (isConditions && !keys.includes('types')) {
        const leaf = (x: Target) => typeof x === 'string' && /\.(c|m)?js$/.test(x);
        for (const k of ['import', 'require', 'default'] as const) {
          const t = v[k];
          if (typeof t === 'string' && leaf(t)) {
            problems.push(
              `${at}["${k}"]: give it { "types": ..., "default": "${t}" } so TypeScript finds its types`,
            );
          }
        }
      }
      for (const k of ['import', 'require'] as const) {
        const t = v[k];
        if (t && typeof t === 'object' && !Array.isArray(t) && !('types' in t)) {
          problems.push(`${at}["${k}"] has no "types" condition`);
        }
        if (t && typeof t === 'object' && !Array.isArray(t) && typeof t.types === 'string') {
          const types = t.types;
          const wantCjs = k === 'require';
          if (wantCjs && !types.endsWith('.d.cts'))
            problems.push(`${at}["require"].types should be a .d.cts file`);
          if (!wantCjs && m.type === 'module' && types.endsWith('.d.cts')) {
            problems.push(`${at}["import"].types should be a .d.ts file`);
          }
        }
      }
    });
  }

  // fields pointing to files
  for (const field of ['main', 'module', 'types'] as const) {
    const v = m[field];
    if (v && !fileExists(v)) problems.push(`"${field}": ${v} does not exist`);
  }
  const bins = typeof m.bin === 'string' ? { [m.name]: m.bin } : (m.bin ?? {});
  for (const [name, file] of Object.entries(bins)) {
    if (!fileExists(file)) problems.push(`bin "${name}": ${file} does not exist`);
    else if (!readFileSync(join(dir, file), 'utf8').startsWith('#!')) {
      problems.push(`bin "${name}": ${file} needs a "#!/usr/bin/env node" line`);
    } else if (!covered(file, files)) problems.push(`bin "${name}": ${file} is not in "files"`);
  }

  // files, sideEffects, engines
  if (!Array.isArray(m.files) || m.files.length === 0)
    problems.push('add "files" (e.g. ["dist", "README.md"])');
  else if (!files.some((f) => f.replace(/^\.\//, '').startsWith('dist')))
    problems.push('"files" must include "dist"');
  if (m.sideEffects === undefined)
    problems.push('declare "sideEffects" (false, or the files that have side effects)');
  if (!m.engines?.node) problems.push('add "engines": { "node": ">=20" }');
  else if (!/^>=\s*\d+/.test(m.engines.node))
    problems.push(`"engines.node" "${m.engines.node}" should be a ">=N" range`);

  // license, README, repository, access
  if (!m.license) problems.push('add "license": "MIT"');
  else if (!LICENSES.has(m.license)) problems.push(`license "${m.license}" is not the project's (MIT)`);
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) problems.push('add a README.md (npm shows it as the package page)');
  else {
    const text = readFileSync(readme, 'utf8');
    if (text.trim().length < 200)
      problems.push('README.md is too short to say what the package is and how to use it');
    if (!text.includes(m.name)) problems.push(`README.md does not name the package (${m.name})`);
  }
  const repo = typeof m.repository === 'string' ? { url: m.repository } : m.repository;
  if (!repo?.url) {
    problems.push(
      `add "repository": { "type": "git", "url": "git+https://github.com/<owner>/<repo>.git", "directory": "${path}" }`,
    );
  } else if (typeof m.repository === 'object' && m.repository.directory !== path) {
    problems.push(`set "repository.directory" to "${path}"`);
  }
  if (m.publishConfig?.access !== 'public')
    problems.push('set "publishConfig": { "access": "public" } (scoped package)');
  for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
    if (range.startsWith('file:') || range.startsWith('link:'))
      problems.push(`dependency ${dep} uses "${range}"`);
  }
  return problems;
}
