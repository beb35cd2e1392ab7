// `wf grad` on the gradient fixtures: the written gradients of the input and of every trainable parameter
// match PyTorch within max|g - ref| <= 1e-4 * max|ref|, and a file without a cotangent fails in one line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, parseSafetensors } from '@wf/core';
import { fixturePath, readFixture } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { main } from './program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'wf-grad-'));

describe('wf grad', () => {
  for (const [run, weights] of [
    ['wfm-micro-64', 'wfm-micro'],
    ['wfm-dit-micro-16', 'wfm-dit-micro-16'],
  ]) {
    it(`reproduces ${run}.grad (output, input and parameter gradients)`, async () => {
      const output = join(dir, `${run}.safetensors`);
      const r = await wf(
        'grad',
        '--weights',
        fixturePath(`reference/${weights}.safetensors`),
        '--input',
        fixturePath(`grad/${run}.grad.safetensors`),
        '--output',
        output,
        '--repeat',
        '2',
        '--json',
      );
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out[0]).timing.runs).toBe(2);
      const ref = parseSafetensors(readFixture(`grad/${run}.grad.safetensors`));
      const got = await loadSafetensors(output);
      const want = ref.names().filter((n) => n.startsWith('grad.') || n === 'logits' || n === 'output');
      expect(got.names().sort()).toEqual(want.sort());
      for (const name of want) {
        const a = got.tensor(name).data;
        const b = ref.tensor(name).data;
        let err = 0;
        let mx = 0;
        for (let i = 0; i < b.length; i++) {
          err = Math.max(err, Math.abs(a[i] - b[i]));
          mx = Math.max(mx, Math.abs(b[i]));
        }
        expect(err, name).toBeLessThanOrEqual(1e-4 * (name.startsWith('grad.') ? mx : Math.max(1, mx)));
      }
    }, 60_000);
  }

  it('names the missing cotangent in one line', async () => {
    const r = await wf(
      'grad',
      '--weights',
      fixturePath('reference/wfm-micro.safetensors'),
      '--input',
      fixturePath('reference/wfm-micro-64.io.safetensors'),
      '--output',
      join(dir, 'x.safetensors'),
    );
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/no tensor "cotangent"/);
  });
});
