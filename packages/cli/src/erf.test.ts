// `wf erf` and `wf erf-figure`: the written ERF matches the reference fixture (erf, erf_norm within
// 1e-4 * max|ref|), the PNG is a real heatmap with a colour bar, MNIST digits and bad input give one-line
// errors; a small figure run writes the grid, the table and its JSON.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, parseSafetensors } from '@wf/core';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { main } from './program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'wf-erf-'));

describe('wf erf', () => {
  it('reproduces wfm-micro-64.erf from a safetensors of inputs, with a PNG heatmap', async () => {
    const output = join(dir, 'erf.safetensors');
    const png = join(dir, 'erf.png');
    const r = await wf(
      'erf',
      '--weights',
      fixturePath('reference/wfm-micro.safetensors'),
      '--images',
      fixturePath('grad/wfm-micro-64.erf.safetensors'),
      '--batch',
      '3',
      '--output',
      output,
      '--png',
      png,
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out[0]);
    expect(res.images).toBe(4);
    expect(res.size).toEqual([64, 64]);
    expect(res.area.p50).toBeLessThan(res.area.p90);
    const ref = parseSafetensors(readFixture('grad/wfm-micro-64.erf.safetensors'));
    const got = await loadSafetensors(output);
    for (const name of ['erf', 'erf_norm']) {
      const a = got.tensor(name).data;
      const b = ref.tensor(name).data;
      let err = 0;
      let mx = 0;
      for (let i = 0; i < b.length; i++) {
        err = Math.max(err, Math.abs(a[i] - b[i]));
        mx = Math.max(mx, Math.abs(b[i]));
      }
      expect(err, name).toBeLessThanOrEqual(1e-4 * mx);
    }
    const img = PNG.sync.read(readFileSync(png));
    expect(img.width).toBeGreaterThan(256);
    // many distinct colours: a heatmap, not a blank canvas
    const colours = new Set<number>();
    for (let i = 0; i < img.data.length; i += 4)
      colours.add((img.data[i] << 16) | (img.data[i + 1] << 8) | img.data[i + 2]);
    expect(colours.size).toBeGreaterThan(100);
  }, 60_000);

  it('runs the built-in model on MNIST digits at another resolution', async () => {
    const r = await wf(
      'erf',
      '--model',
      'wfm-mnist',
      '--images',
      'mnist:3',
      '--res',
      '48',
      '--output',
      join(dir, 'mnist.safetensors'),
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(JSON.parse(r.out[0]).size).toEqual([48, 48]);
  }, 60_000);

  it('reads a folder of PNG files', async () => {
    const imgDir = join(dir, 'imgs');
    mkdirSync(imgDir);
    for (const k of [0, 1]) {
      const png = new PNG({ width: 20, height: 20 });
      for (let i = 0; i < 400; i++) png.data.set([(i * (k + 3)) % 256, 0, 0, 255], i * 4);
      writeFileSync(join(imgDir, `d${k}.png`), PNG.sync.write(png));
    }
    writeFileSync(join(imgDir, 'notes.txt'), 'not an image');
    const r = await wf(
      'erf',
      '--model',
      'wfm-mnist',
      '--images',
      imgDir,
      '--output',
      join(dir, 'dir.safetensors'),
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(JSON.parse(r.out[0])).toMatchObject({ images: 2, size: [32, 32] });
  }, 60_000);

  it('says what is wrong in one line', async () => {
    const out = join(dir, 'x.safetensors');
    const both = await wf('erf', '--images', 'mnist:2', '--output', out);
    expect(both.code).toBe(1);
    expect(both.err).toEqual(['wf: give exactly one of --weights <file> and --model <name>']);
    const n = await wf('erf', '--model', 'wfm-mnist', '--images', 'mnist:0', '--output', out);
    expect(n.err[0]).toMatch(/N must be an integer from 1 to 2004/);
    const src = await wf('erf', '--model', 'wfm-mnist', '--images', '/nonexistent', '--output', out);
    expect(src.err[0]).toMatch(/not mnist\[:N\], a folder of PNG\/JPEG files, or a \.safetensors file/);
    const nam = await wf('erf', '--model', 'nope', '--images', 'mnist:1', '--output', out);
    expect(nam.err[0]).toMatch(/unknown model "nope"/);
    const noin = await wf(
      'erf',
      '--weights',
      fixturePath('reference/wfm-micro.safetensors'),
      '--images',
      fixturePath('reference/wfm-micro.safetensors'),
      '--output',
      out,
    );
    expect(noin.err[0]).toMatch(/has no tensor "inputs"/);
  }, 60_000);
});

describe('wf erf-figure', () => {
  it('draws a small grid (random init and a trained column) with the table', async () => {
    const outDir = join(dir, 'fig');
    const r = await wf(
      'erf-figure',
      '--out-dir',
      outDir,
      '--images',
      'mnist:1',
      '--columns',
      'static',
      'vit',
      'linear-bilateral',
      'dwconv-adaptive',
      '--accuracy-digits',
      '10',
      '--no-big',
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out[0]);
    expect(res.rows.map((x: { key: string }) => x.key)).toEqual([
      'static',
      'vit',
      'linear-bilateral',
      'dwconv-adaptive',
    ]);
    expect(res.rows[1].trained).toBe('builtin:vit-mnist');
    expect(res.rows[1].accuracy).toBeGreaterThanOrEqual(0.7);
    expect(res.rows[0].params).toBeLessThan(res.rows[2].params);
    // DL Bilat and DW Adapt are the same (released) network: same map, same trained checkpoint
    expect(res.rows[3].areaInit).toEqual(res.rows[2].areaInit);
    expect(res.rows[3].trained).toBe('builtin:wfm-mnist');
    expect(res.rows[3].accuracy).toBe(res.rows[2].accuracy);
    const table = readFileSync(join(outDir, 'erf-table.md'), 'utf8');
    expect(table.split('\n').filter((l) => l.startsWith('| ')).length).toBe(2 + 4);
    const img = PNG.sync.read(readFileSync(join(outDir, 'erf-figure3.png')));
    expect(img.width).toBeGreaterThan(4 * 96);
  }, 120_000);
});
