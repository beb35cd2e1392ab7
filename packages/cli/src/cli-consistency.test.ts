// The consistent CLI: several images and folders in batches (WebP too) at --res WxH, --json errors,
// --version, old spellings kept as aliases, warnings for options that do not apply, and `wf run` parity
// with the reference outputs of its input file without --output.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@wf/test-fixtures';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { main, VERSION } from './program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const micro = fixturePath('reference/wfm-micro.safetensors');
const io80 = fixturePath('reference/wfm-micro-80.io.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'wf-cli-many-'));
const a = join(dir, 'a.png');
const b = join(dir, 'b.jpg');
const c = join(dir, 'c.webp');

function rgba(w: number, h: number, seed: number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let i = 0; i < d.length; i++) d[i] = i % 4 === 3 ? 255 : (i * 7 + seed * 50) & 255;
  return d;
}

beforeAll(async () => {
  const png = new PNG({ width: 40, height: 30 });
  png.data = Buffer.from(rgba(40, 30, 1));
  writeFileSync(a, PNG.sync.write(png));
  writeFileSync(b, encodeJpeg({ width: 50, height: 60, data: rgba(50, 60, 2) }, 90).data);
  const enc = await import('@jsquash/webp/encode.js');
  const wasm = createRequire(import.meta.url).resolve('@jsquash/webp/codec/enc/webp_enc.wasm');
  await enc.init(await WebAssembly.compile(readFileSync(wasm)));
  const data = new Uint8ClampedArray(rgba(33, 21, 3));
  writeFileSync(
    c,
    new Uint8Array(await enc.default({ width: 33, height: 21, data } as ImageData, { lossless: 1 })),
  );
});

describe('wf classify', () => {
  it('--model <checkpoint> --res 160x224 a.png b.jpg c.webp --json prints three results', async () => {
    const r = await wf('classify', '--model', micro, '--res', '160x224', a, b, c, '--json');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(3);
    const results = r.out.map((l) => JSON.parse(l));
    expect(results.map((x) => x.source)).toEqual([a, b, c]);
    for (const x of results) expect(x.predictions).toHaveLength(5);
  });

  it('a folder in batches of 2 gives the same results as the files one by one; a broken file loses nothing', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    for (const f of [a, b, c]) writeFileSync(join(folder, f.split('/').pop()!), readFileSync(f));
    writeFileSync(join(folder, 'd.png'), 'not a png');
    const r = await wf('classify', '--model', micro, folder, '--batch', '2', '--top', '2', '--json');
    expect(r.code).toBe(1);
    const lines = r.out.map((l) => JSON.parse(l));
    // Four sources, then the command's own error (JSON too).
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.error && l.source)).toEqual([
      {
        source: join(folder, 'd.png'),
        error: { code: 'E_IMAGE', message: expect.stringMatching(/corrupt or truncated PNG|unsupported/) },
      },
    ]);
    const one = await wf('classify', '--model', micro, join(folder, 'c.webp'), '--top', '2', '--json');
    expect(lines.find((l) => l.source.endsWith('c.webp')).predictions).toEqual(
      JSON.parse(one.out[0]).predictions,
    );
    expect(lines[4].error.message).toMatch(/^1 of 4 images could not be classified/);
    expect(r.err).toEqual([]);
  });

  it('warns about options that do not apply', async () => {
    const r = await wf('classify', '--model', micro, a, '--heads', '3', '--top', '5000', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([
      'wf: warning: --heads applies to vit checkpoints only; ignored for this wfm checkpoint',
      "wf: warning: --top 5000 is more than the model's 10 classes; showing 10",
    ]);
    expect(JSON.parse(r.out[0]).predictions).toHaveLength(10);
  });
});

describe('the rest of the command line', () => {
  it('--version prints the package version', async () => {
    const r = await wf('--version');
    expect(r.code).toBe(0);
    expect(r.out).toEqual([VERSION]);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--json errors are one JSON line on stdout', async () => {
    const r = await wf('info', '--model', 'wfm-tinyy', '--json');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([]);
    expect(JSON.parse(r.out[0])).toEqual({
      error: {
        code: 'E_MODEL',
        message: expect.stringMatching(/^unknown model "wfm-tinyy": use a built-in model/),
      },
    });
    const p = await wf('classify', '--top', 'x', 'mnist:0', '--json');
    expect(p.code).toBe(2);
    expect(JSON.parse(p.out[0]).error.code).toBe('E_USAGE');
  });

  it('info takes --model (built-in names too) and --res WxH; the positional argument still works', async () => {
    const r = await wf('info', '--model', 'wfm-mnist', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]).labels.count).toBe(10);
    const w = await wf('info', micro, '--res', '80x64', '--json');
    expect(JSON.parse(w.out[0])).toMatchObject({ width: 80, height: 64, tokens: 80 });
  });

  it('run: --weights is an alias of --model; reference outputs in the input are checked without --output', async () => {
    const r = await wf('run', '--weights', micro, '--input', io80, '--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out[0]);
    expect(res.output).toBeUndefined();
    expect(res.parity.logits.maxRelError).toBeLessThanOrEqual(1e-4);
    expect(res.parity.features.maxRelError).toBeLessThanOrEqual(1e-4);
    const t = await wf('run', '--model', micro, '--input', io80);
    expect(t.out[1]).toMatch(/^parity with .*wfm-micro-80.io.safetensors: \w+ max abs \S+, rel \S+; \w+ max/);
    expect(t.out[1]).toMatch(/logits max abs/);
    expect(t.out[1]).toMatch(/features max abs/);
    const rand = await wf('run', '--model', micro, '--res', '48x32', '--json');
    expect(JSON.parse(rand.out[0]).tensors.logits).toEqual([1, 10]);
    const dit = await wf('run', '--model', micro, '--input', io80, '--cfg-scale', '2');
    expect(dit.err).toEqual([
      'wf: warning: --cfg-scale applies to wfm-dit checkpoints only; ignored for this wfm checkpoint',
    ]);
  });
});
