// Tests of the PyTorch anchors: parsing rules, and the real file from ../shared (required in CI).
import { readFileSync } from 'node:fs';
import { sharedPath } from '@wf/test-fixtures';
import { describe, expect, it } from 'vitest';
import { ANCHORS_FILE, parseAnchors } from './anchors.js';

describe('anchors', () => {
  it('groups rows per network, device and threads, labelled as another machine', () => {
    const s = parseAnchors({
      cuda: 'NVIDIA H200',
      rows: [
        { scope: 'block', dev: 'cpu', threads: 2, model: 'vit-block', tokens: 784, ms_median: 6.4 },
        { scope: 'block', dev: 'cpu', threads: 2, model: 'vit-block', tokens: 196, ms_median: 1.4 },
        { scope: 'model', dev: 'cuda', threads: null, model: 'wfm-tiny', tokens: 196, ms_median: 6.8 },
        { scope: 'model', dev: 'cuda', threads: null, model: 'resnet', tokens: 196, ms_median: 1 },
      ],
    });
    expect(s.map((x) => [x.model, x.workload, x.device, x.threads, x.points.length])).toEqual([
      ['attn-block', 'blocks', 'cpu', 2, 2],
      ['wfm-tiny', 'models', 'cuda', null, 1],
    ]);
    expect(s[0].points[0].tokens).toBe(196);
    expect(s[0].label).toBe('PyTorch vit-block (CPU, 2 threads)');
    expect(s[1].label).toContain('NVIDIA H200');
    expect(s.every((x) => x.note === 'another machine: shape only')).toBe(true);
  });

  const file = sharedPath(ANCHORS_FILE);
  it.skipIf(!file)('reads the shared anchors file: blocks and models, GPU and CPU', () => {
    const s = parseAnchors(JSON.parse(readFileSync(file!, 'utf8')));
    const models = new Set(s.map((x) => x.model));
    expect([...models].sort()).toEqual(['attn-block', 'deit-tiny', 'wfm-block', 'wfm-tiny']);
    const cpu2 = s.find((x) => x.model === 'wfm-tiny' && x.device === 'cpu' && x.threads === 2)!;
    expect(cpu2.points.map((p) => p.tokens)).toEqual([196, 784, 1764, 3136]);
  });
});
