// The Benchmarks page's reading of results.json (no browser): missing and malformed files give a note,
// a well-formed one gives one latency series per network and engine (sweep rows, batch 1), the cost
// model's curves and the tables. The numbers below are a synthetic test input, never shown on the site.
import { describe, expect, test } from 'vitest';
import { summarizeBench } from '../.vitepress/bench/summary';

const row = (model: string, family: string, engine: string, tokens: number, ms: number, extra = {}) => ({
  id: `sweep/${model}/${engine}/N${tokens}/b1`,
  purpose: 'sweep',
  workload: 'blocks',
  model,
  family,
  engine,
  tokens,
  batch: 1,
  medianMs: ms,
  minMs: ms * 0.9,
  maxMs: ms * 1.1,
  ...extra,
});

const sample = {
  schema: 'wf-bench/1',
  createdAt: '2026-01-01T00:00:00Z',
  mode: 'quick',
  durationMs: 12_000,
  machine: { cpu: 'Test CPU', cores: 2, node: 'v20', label: 'Test CPU, 2 cores, 8 GiB, Node v20' },
  config: { threads: 2 },
  workloads: [{ id: 'blocks', title: 'One block', models: ['wfm-block', 'attn-block'], tokens: [196, 784] }],
  rows: [
    row('wfm-block', 'wfm', 'cpu', 784, 4),
    row('wfm-block', 'wfm', 'cpu', 196, 1),
    row('attn-block', 'attn', 'cpu', 196, 1),
    row('attn-block', 'attn', 'cpu', 784, 16),
    row('wfm-block', 'wfm', 'cpu', 196, 3, { id: 'throughput/x', purpose: 'throughput', batch: 4 }),
  ],
  fits: [
    {
      workload: 'blocks',
      model: 'wfm-block',
      engine: 'cpu',
      range: 'all',
      slope: 1,
      r2: 1,
      fromTokens: 196,
      toTokens: 784,
    },
  ],
  crossovers: [{ workload: 'blocks', engine: 'cpu', status: 'below-range', tokens: null }],
  analytic: [
    {
      workload: 'blocks',
      model: 'wfm-block',
      points: [
        { tokens: 196, flops: 1e6 },
        { tokens: 784, flops: 4e6 },
      ],
    },
  ],
  ratios: [],
  throughput: [],
  steadyMemory: [],
  anchors: [],
  checks: [{ name: 'slope', engine: 'cpu', value: 1, op: '<=', limit: 1.3, pass: true }],
  skipped: [],
};

describe('bench summary', () => {
  test('a well-formed file: series, curves, tables and the machine', () => {
    const s = summarizeBench(sample, 'apps/bench/results/results.json');
    if (s.status !== 'ok') throw new Error(`expected ok, got ${s.status}`);
    expect(s.machine).toBe('Test CPU, 2 cores, 8 GiB, Node v20');
    expect(s.threads).toBe(2);
    const [w] = s.workloads;
    expect(w.title).toBe('One block');
    expect(w.latency.map((x) => [x.label, x.points.map((p) => [p.x, p.y])])).toEqual([
      [
        'wfm-block · cpu',
        [
          [196, 1],
          [784, 4],
        ],
      ],
      [
        'attn-block · cpu',
        [
          [196, 1],
          [784, 16],
        ],
      ],
    ]);
    expect(w.flops).toHaveLength(1);
    expect(s.fits[0].slope).toBe('1');
    expect(s.crossovers[0].tokens).toBe('–');
    expect(s.checks[0].pass).toBe('pass');
    expect(s.browser).toEqual([]);
  });

  test('the browser section (pnpm bench --browser): one row per page and engine, and the ratios', () => {
    const browser = {
      rows: [
        {
          page: 'isolated',
          engine: 'cpu',
          detail: 'wasm-simd x2',
          threads: 2,
          medianMs: 45.2,
          maxAbsErr: 9.5e-7,
        },
        {
          page: 'plain',
          engine: 'cpu',
          detail: 'wasm-simd x1: page not cross-origin isolated',
          threads: 1,
          medianMs: 61,
          maxAbsErr: 9.5e-7,
        },
      ],
      ratios: [
        { label: 'plain page: cpu / ort-web', ratio: 0.65, target: { op: '<=', value: 0.6 }, met: false },
      ],
    };
    const s = summarizeBench({ ...sample, browser }, 'results.json');
    if (s.status !== 'ok') throw new Error(s.status);
    expect(s.browser.map((r) => [r.page, r['what runs'], r['median ms']])).toEqual([
      ['cross-origin isolated', 'wasm-simd x2', '45.2'],
      ['ordinary (no COOP/COEP)', 'wasm-simd x1: page not cross-origin isolated', '61'],
    ]);
    expect(s.browserRatios).toEqual([
      { ratio: 'plain page: cpu / ort-web', value: '0.65', target: '<= 0.6', met: 'no' },
    ]);
  });

  test('a file of another format or not an object is reported, not drawn', () => {
    expect(summarizeBench({ ...sample, schema: 'other/1' }, 'x').status).toBe('invalid');
    expect(summarizeBench([], 'x').status).toBe('invalid');
    expect(summarizeBench({ schema: 'wf-bench/1' }, 'x')).toMatchObject({ status: 'invalid' });
  });
});
