// A throwaway copy of what `changeset version` reads and writes: the root manifest, the workspace file,
// `.changeset/` and every workspace package's package.json and CHANGELOG.md, with `node_modules` linked
// to the real one so the changelog generator resolves. The real repository is never touched.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Workspace package folders (relative) from pnpm-workspace.yaml's `packages:` globs (`dir/*` or `dir`). */
export function workspaceDirs(root: string): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\s*\n((?:\s+-\s*.+\n?)+)/m.exec(yaml)?.[1] ?? '';
  const globs = [...block.matchAll(/-\s*['"]?([^'"\n]+)['"]?/g)].map((m) => m[1].trim());
  const dirs: string[] = [];
  for (const g of globs) {
    if (g.endsWith('/*')) {
      const base = g.slice(0, -2);
      if (!existsSync(join(root, base))) continue;
      for (const d of readdirSync(join(root, base)).sort()) {
        if (existsSync(join(root, base, d, 'package.json'))) dirs.push(`${base}/${d}`);
      }
    } else if (existsSync(join(root, g, 'package.json'))) dirs.push(g);
  }
  return dirs;
}

/** Copies the changesets inputs of `root` into `dest`. */
export function copyForChangesets(root: string, dest: string): string[] {
  mkdirSync(dest, { recursive: true });
  for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, f), join(dest, f));
  cpSync(join(root, '.changeset'), join(dest, '.changeset'), { recursive: true });
  const dirs = workspaceDirs(root);
  for (const d of dirs) {
    mkdirSync(join(dest, d), { recursive: true });
    for (const f of ['package.json', 'CHANGELOG.md']) {
      if (existsSync(join(root, d, f))) cpSync(join(root, d, f), join(dest, d, f));
    }
  }
  symlinkSync(join(root, 'node_modules'), join(dest, 'node_modules'), 'dir');
  return dirs;
}

/** Package names and bump types declared by the pending changesets of `.changeset/`. */
export function pendingBumps(changesetDir: string): Map<string, string> {
  const bumps = new Map<string, string>();
  const order = ['patch', 'minor', 'major'];
  for (const f of readdirSync(changesetDir)) {
    if (!f.endsWith('.md') || f === 'README.md') continue;
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(changesetDir, f), 'utf8'))?.[1] ?? '';
    for (const m of front.matchAll(/^\s*['"]?([^'":]+)['"]?\s*:\s*(patch|minor|major)\s*$/gm)) {
      const prev = bumps.get(m[1]);
      if (!prev || order.indexOf(m[2]) > order.indexOf(prev)) bumps.set(m[1], m[2]);
    }
  }
  return bumps;
}
