// Tests of the command line: usage errors exit 2 with one line; a tiny real run writes the three files
// and `--check` fails when the sizes the checks need were not measured.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, resolveOutDir } from './program.js';
import { validateResults } from './schema.js';

async function bench(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'bench', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('bench command line', () => {
  it('rejects bad options with one line and exit code 2', async () => {
    for (const args of [
      ['--tokens', '200'],
      ['--model', 'resnet'],
      ['--backend', 'tfjs'],
      ['--bogus'],
      ['--threads', '0'],
    ]) {
      const r = await bench(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.length).toBeGreaterThan(0);
    }
    expect((await bench('--help')).code).toBe(0);
  });

  it('resolves --out against the current folder, default apps/bench/results', () => {
    expect(resolveOutDir(undefined)).toMatch(/apps[/\\]bench[/\\]results$/);
    expect(resolveOutDir('/tmp/x')).toBe('/tmp/x');
  });

  it('runs a tiny bench, writes results.json, results.md and index.html; --check fails without 12544 tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-bench-cli-'));
    const r = await bench(
      '--quick',
      '--backend',
      'cpu',
      '--model',
      'blocks',
      '--tokens',
      '196,784',
      '--no-extras',
      '--no-progress',
      '--check',
      '--out',
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/check\(s\) failed/);
    for (const f of ['results.json', 'results.md', 'index.html']) expect(existsSync(join(dir, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(validateResults(json)).toEqual([]);
    expect(json.rows.map((x: { id: string }) => x.id).sort()).toEqual([
      'sweep/attn-block/cpu/N196/b1',
      'sweep/attn-block/cpu/N784/b1',
      'sweep/wfm-block/cpu/N196/b1',
      'sweep/wfm-block/cpu/N784/b1',
    ]);
    expect(r.out.join('\n')).toContain('crossover blocks');
  }, 120_000);
});
