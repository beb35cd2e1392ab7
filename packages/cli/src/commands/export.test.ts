// `wf export`: the ONNX file and the Triton model repository it writes (decoded back with the ONNX schema),
// atomic writes (no temporary files left, a failed export leaves the old files), and one-line errors.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel } from '@wf/onnx';
import { fixturePath } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { main } from '../program.js';

async function wf(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'wf', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const micro = fixturePath('reference/wfm-micro.safetensors');
type Decoded = {
  opset_import: { version: number }[];
  graph: { input: { name: string }[]; output: { name: string }[]; node: unknown[] };
};

describe('wf export', () => {
  it('writes an ONNX model and a Triton repository entry with wf run tensor names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-export-'));
    const r = await wf(
      'export',
      '--weights',
      micro,
      '--res',
      '80',
      '--onnx',
      join(dir, 'micro.onnx'),
      '--opset',
      '17',
      '--triton',
      join(dir, 'repo'),
      '--name',
      'micro',
      '--max-batch-size',
      '4',
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/opset 17, \d+ nodes, input \[batch,3,80,80\] -> logits \[batch,10\]/);
    const m = decodeModel(readFileSync(join(dir, 'micro.onnx'))) as Decoded;
    expect(m.opset_import[0].version).toBe(17);
    expect(m.graph.input.map((v) => v.name)).toEqual(['input']);
    expect(m.graph.output.map((v) => v.name)).toEqual(['logits']);
    const config = readFileSync(join(dir, 'repo/micro/config.pbtxt'), 'utf8');
    expect(config).toContain('name: "micro"');
    expect(config).toContain('max_batch_size: 4');
    expect(config).toContain('dims: [ 3, 80, 80 ]');
    expect(readFileSync(join(dir, 'repo/micro/1/model.onnx'))).toEqual(readFileSync(join(dir, 'micro.onnx')));
    // Nothing temporary left behind.
    expect(readdirSync(dir).sort()).toEqual(['micro.onnx', 'repo']);
    expect(readdirSync(join(dir, 'repo'))).toEqual(['micro']);
  });

  it('writes the weights as external data with --external-data, and features with --features', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-export-'));
    const r = await wf(
      'export',
      '--weights',
      micro,
      '--onnx',
      join(dir, 'm.onnx'),
      '--external-data',
      '--features',
      '--json',
    );
    expect(r.err).toEqual([]);
    const res = JSON.parse(r.out[0]) as { outputs: { name: string }[]; files: string[] };
    expect(res.outputs.map((o) => o.name)).toEqual(['logits', 'features']);
    expect(readdirSync(dir).sort()).toEqual(['m.onnx', 'm.onnx.data']);
    expect(readFileSync(join(dir, 'm.onnx.data')).byteLength).toBeGreaterThan(
      readFileSync(join(dir, 'm.onnx')).byteLength,
    );
  });

  it('fails with one line and leaves existing files alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-export-'));
    const target = join(dir, 'keep.onnx');
    writeFileSync(target, 'old');
    const cases: [string[], RegExp][] = [
      [['--weights', micro, '--res', '60', '--onnx', target], /multiple of the patch size 8/],
      [['--weights', micro], /nothing to write/],
      [['--weights', micro, '--model', 'wfm-mnist', '--onnx', target], /not both/],
      [['--model', 'nope', '--onnx', target], /unknown --model "nope"/],
      [['--weights', micro, '--onnx', target, '--opset', '12'], /--opset 12 is not supported/],
      [['--weights', micro, '--triton', dir, '--name', '../x'], /plain folder name/],
      [['--weights', join(dir, 'missing.safetensors'), '--onnx', target], /missing\.safetensors/],
    ];
    for (const [args, msg] of cases) {
      const r = await wf('export', ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err.length, args.join(' ')).toBe(1);
      expect(r.err[0]).toMatch(msg);
    }
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['keep.onnx']);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
