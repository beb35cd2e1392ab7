// Releasing: `changeset version` applies the pending changesets (on a temporary copy: the real
// .changeset/ and versions are never changed), and `pnpm -r publish --dry-run --no-git-checks` packs
// every published package against a stand-in registry on 127.0.0.1 that accepts no uploads, so the test
// proves both that publishing would go through and that nothing was published.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { copyForChangesets, pendingBumps } from '../src/changesets.js';
import { startFakeRegistry } from '../src/fake-registry.js';
import { run } from '../src/run.js';
import { publishedPackages, REPO_ROOT, readManifest } from '../src/workspace.js';

const packages = publishedPackages();

/** Hash of the real repository's release state (changesets and manifests), to prove it is untouched. */
function releaseState(): string {
  const h = createHash('sha256');
  const cs = join(REPO_ROOT, '.changeset');
  for (const f of readdirSync(cs).sort()) h.update(f).update(readFileSync(join(cs, f)));
  for (const p of packages) h.update(readFileSync(join(p.dir, 'package.json')));
  return h.digest('hex');
}

const bumpVersion = (v: string, bump: string) => {
  const [maj, min, pat] = v.split('-')[0].split('.').map(Number);
  return bump === 'major'
    ? `${maj + 1}.0.0`
    : bump === 'minor'
      ? `${maj}.${min + 1}.0`
      : `${maj}.${min}.${pat + 1}`;
};

describe('changesets', () => {
  test('changeset version applies the pending changesets (on a copy)', async () => {
    const before = releaseState();
    const copy = join(inject('workdir'), 'changesets');
    const dirs = copyForChangesets(REPO_ROOT, copy);
    const bumps = pendingBumps(join(copy, '.changeset'));
    const cli = join(REPO_ROOT, 'node_modules/@changesets/cli/bin.js');
    await run(process.execPath, [cli, 'version'], { cwd: copy, timeoutMs: 120_000 });

    const left = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(left, 'changesets left unapplied').toEqual([]);
    for (const p of packages) {
      const after = readManifest(join(copy, p.path));
      const bump = bumps.get(p.name);
      if (!bump) continue;
      // Linked @wf/* packages may move further together; at least the declared bump happens.
      const want = bumpVersion(p.manifest.version, bump);
      const cmp = after.version.localeCompare(want, undefined, { numeric: true });
      expect(
        cmp,
        `${p.name}: ${p.manifest.version} -> ${after.version}, wanted >= ${want}`,
      ).toBeGreaterThanOrEqual(0);
      expect(existsSync(join(copy, p.path, 'CHANGELOG.md')), `${p.name} CHANGELOG.md`).toBe(true);
      for (const [dep, range] of Object.entries(after.dependencies ?? {})) {
        if (dep.startsWith('@wf/')) expect(range, `${p.name} -> ${dep}`).toMatch(/^workspace:/);
      }
    }
    expect(dirs.length).toBeGreaterThanOrEqual(packages.length);
    // Private workspace packages (apps, docs, fixtures) are never published, so they are not versioned
    // either (no version bumps or CHANGELOG.md files for them).
    const privateBumped = dirs.filter((d) => {
      const m = readManifest(join(REPO_ROOT, d));
      return m.private && readManifest(join(copy, d)).version !== m.version;
    });
    expect(
      privateBumped,
      'private packages were versioned: set "privatePackages": { "version": false, "tag": false } in .changeset/config.json',
    ).toEqual([]);
    expect(releaseState(), 'the real .changeset/ and package.json files must not change').toBe(before);
  });
});

describe('publish', () => {
  test('pnpm -r publish --dry-run packs every published package and uploads nothing', async () => {
    const before = releaseState();
    const registry = await startFakeRegistry();
    try {
      const res = await run(
        'pnpm',
        ['-r', 'publish', '--dry-run', '--no-git-checks', '--registry', registry.url],
        {
          cwd: REPO_ROOT,
          timeoutMs: 240_000,
          env: {
            ...process.env,
            npm_config_registry: registry.url,
            'npm_config_@wf:registry': registry.url,
            npm_config_provenance: 'false',
          },
        },
      );
      const out = `${res.stdout}\n${res.stderr}`;
      for (const p of packages)
        expect(out, `${p.name} in the dry run`).toContain(`+ ${p.name}@${p.manifest.version}`);
      expect(out).not.toMatch(/\+ @wf\/(docs|bench|release-check|test-fixtures)@/);
      expect(
        registry.requests.filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD ')),
        'uploads',
      ).toEqual([]);
      for (const p of packages) {
        const asked = registry.requests.some((r) => decodeURIComponent(r).toLowerCase().includes(p.name));
        expect(asked, `${p.name} looked up on the stand-in registry`).toBe(true);
      }
    } finally {
      await registry.close();
    }
    expect(releaseState()).toBe(before);
    // No tarball left behind in the packages.
    for (const p of packages) expect(readdirSync(p.dir).filter((f) => f.endsWith('.tgz'))).toEqual([]);
  });
});
