// Vitest global setup of the publishing checks: packs every published package once into a temporary
// folder outside the workspace; the tests read the tarballs from there. The folder is removed afterwards
// unless WF_KEEP_RELEASE_FIXTURE=1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packPackage } from '../src/pack.js';
import { publishedPackages } from '../src/workspace.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Temporary folder outside the workspace. */
    workdir: string;
    /** Tarball path by package name. */
    tarballs: Record<string, string>;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const workdir = mkdtempSync(join(tmpdir(), 'wf-release-check-'));
  const tarballs: Record<string, string> = {};
  for (const pkg of publishedPackages())
    tarballs[pkg.name] = await packPackage(pkg, join(workdir, 'tarballs'));
  project.provide('workdir', workdir);
  project.provide('tarballs', tarballs);
  return () => {
    if (process.env.WF_KEEP_RELEASE_FIXTURE === '1') console.log(`release-check fixture kept in ${workdir}`);
    else rmSync(workdir, { recursive: true, force: true });
  };
}
