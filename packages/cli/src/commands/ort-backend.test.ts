// `wf run` and `wf classify` with `--backend ort` (onnxruntime-node running the whole graph): parity with
// the wfm-micro-80 fixture, the same top class as the cpu backend, and a one-line error for a bad mode.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, parseSafetensors } from '@wf/core';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { main } from '../program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('--backend ort', () => {
  it('wf run matches the wfm-micro-80 fixture', async () => {
    const output = join(mkdtempSync(join(tmpdir(), 'wf-ort-')), 'out.safetensors');
    const io = fixturePath('reference/wfm-micro-80.io.safetensors');
    const r = await wf(
      'run',
      '--weights',
      fixturePath('reference/wfm-micro.safetensors'),
      '--input',
      io,
      '--output',
      output,
      '--backend',
      'ort',
      '--threads',
      '1',
    );
    expect(r.err).toEqual([]);
    expect(r.out[0]).toContain('ort-node:cpu');
    const got = (await loadSafetensors(output)).tensor('logits');
    const ref = parseSafetensors(readFixture('reference/wfm-micro-80.io.safetensors')).tensor('logits');
    let err = 0;
    let mx = 0;
    ref.data.forEach((v, i) => {
      err = Math.max(err, Math.abs(got.data[i] - v));
      mx = Math.max(mx, Math.abs(v));
    });
    expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, mx));
  });

  it('wf classify gives the cpu backend top class and percentage', async () => {
    const ort = await wf('classify', 'mnist:0', '--backend', 'ort', '--top', '1', '--json');
    const cpu = await wf('classify', 'mnist:0', '--backend', 'cpu', '--top', '1', '--json');
    expect(ort.err).toEqual([]);
    const top = (r: { out: string[] }) =>
      (JSON.parse(r.out[0]) as { predictions: { index: number; probability: number }[] }).predictions[0];
    expect(top(ort).index).toBe(top(cpu).index);
    expect(top(ort).probability).toBeCloseTo(top(cpu).probability, 4);
  });

  it('rejects a malformed mode with one line', async () => {
    const r = await wf('classify', 'mnist:0', '--backend', 'ort:Bad Mode');
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/invalid ONNX Runtime mode/);
  });
});
