// Test helper: a small, internally consistent results object built from synthetic power-law timings
// (WeightFormer ~ N, attention ~ N^2) through the real derivation code. Not part of the public API.
import { deriveChecks, deriveCrossovers, deriveFits, deriveRatios, deriveThroughput } from './derive.js';
import { type AnalyticCurve, type BenchResults, type ModelId, type Row, SCHEMA_ID } from './schema.js';
import { MODELS, pxOfTokens } from './workloads.js';

/** A synthetic row: latency `ms`, three samples around it. */
export function sampleRow(
  model: ModelId,
  engine: string,
  tokens: number,
  ms: number,
  extra: Partial<Row> = {},
): Row {
  const spec = MODELS[model];
  const purpose = extra.purpose ?? 'sweep';
  const batch = extra.batch ?? 1;
  const flops = (spec.family === 'wfm' ? 8e5 * tokens : 6e5 * tokens + 300 * tokens * tokens) * batch;
  return {
    id: `${purpose}/${model}/${engine}/N${tokens}/b${batch}`,
    purpose,
    workload: spec.workload,
    model,
    family: spec.family,
    engine,
    kind: engine.startsWith('ort-') ? 'peer' : 'ours',
    tokens,
    px: spec.workload === 'models' ? pxOfTokens(tokens) : null,
    batch,
    threads: 2,
    group: 0,
    warmupMs: [ms * 1.2],
    samplesMs: [ms * 1.05, ms, ms * 0.98],
    cpuSamplesMs: [ms * 2.1, ms * 2, ms * 1.96],
    cpuMedianMs: ms * 2,
    runs: 3,
    medianMs: ms,
    minMs: ms * 0.98,
    maxMs: ms * 1.05,
    flops,
    gflopsPerSecond: flops / (ms * 1e6),
    memory: {
      rssPeakBytes: 3e8,
      rssBytes: 2.9e8,
      heapUsedBytes: 5e7,
      arrayBuffersBytes: 1e7,
      externalBytes: 1.2e7,
      planPeakBytes: engine.startsWith('ort-') ? null : 1e6 * tokens,
      prepareRssBytes: 1e6,
      runRssBytes: 1e5,
    },
    ...extra,
  };
}

/** Synthetic results over the quick sizes on `cpu` and `ort-node`. */
export function sampleResults(): BenchResults {
  const rows: Row[] = [];
  const wfm = (n: number) => 0.02 * n;
  const attn = (n: number) => 2e-5 * n * n + 0.01 * n;
  for (const engine of ['cpu', 'ort-node']) {
    for (const n of [196, 784, 3136, 12544]) {
      rows.push(sampleRow('wfm-block', engine, n, wfm(n)), sampleRow('attn-block', engine, n, attn(n)));
    }
    for (const n of [196, 784]) {
      rows.push(
        sampleRow('wfm-tiny', engine, n, 17 * wfm(n)),
        sampleRow('deit-tiny', engine, n, 12 * attn(n)),
      );
    }
  }
  rows.push(
    sampleRow('wfm-tiny', 'cpu', 196, 60, { purpose: 'throughput' }),
    sampleRow('wfm-tiny', 'cpu', 196, 300, { purpose: 'throughput', batch: 8 }),
  );
  const analytic: AnalyticCurve[] = (['wfm-block', 'attn-block', 'wfm-tiny', 'deit-tiny'] as ModelId[]).map(
    (model) => {
      const family = MODELS[model].family;
      const points = [196, 784, 3136, 12544, 50176, 1048576].map((tokens) => ({
        tokens,
        px: MODELS[model].workload === 'models' ? pxOfTokens(tokens) : null,
        flops: family === 'wfm' ? 8e5 * tokens : 6e5 * tokens + 300 * tokens * tokens,
        bytes: 1e3 * tokens,
      }));
      return { workload: MODELS[model].workload, model, points, slope: family === 'wfm' ? 1 : 1.9 };
    },
  );
  const fits = deriveFits(rows);
  const crossovers = deriveCrossovers(rows, analytic);
  return {
    schema: SCHEMA_ID,
    createdAt: '2026-01-01T00:00:00.000Z',
    mode: 'quick',
    durationMs: 1234,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      node: 'v20.0.0',
      v8: '11',
      platform: 'linux',
      arch: 'x64',
      totalMemBytes: 2 ** 34,
      label: 'Test CPU, 2 cores, 16 GiB, Node v20.0.0 (linux-x64)',
    },
    config: {
      threads: 2,
      engines: ['cpu', 'ort-node'],
      engineInfo: [
        { name: 'cpu', kind: 'ours', threads: 2, detail: 'fast, test' },
        { name: 'ort-node', kind: 'peer', threads: 2, detail: 'onnxruntime-node 1.30.0' },
      ],
      models: ['wfm-block', 'attn-block', 'wfm-tiny', 'deit-tiny'],
      blockTokens: [196, 784, 3136, 12544],
      modelPx: [224, 448],
      policy: { warmup: 1, targetMs: 1500, minReps: 1, maxReps: 5 },
      memoryBudgetBytes: 2 ** 33,
      gcExposed: true,
      sharedDir: null,
    },
    workloads: [
      {
        id: 'blocks',
        title: 'Blocks <test>',
        models: ['wfm-block', 'attn-block'],
        tokens: [196, 784, 3136, 12544],
      },
      { id: 'models', title: 'Models & co', models: ['wfm-tiny', 'deit-tiny'], tokens: [196, 784] },
    ],
    rows,
    fits,
    crossovers,
    analytic,
    ratios: deriveRatios(rows, ['cpu']),
    throughput: deriveThroughput(rows),
    steadyMemory: [],
    anchors: [
      {
        label: 'PyTorch wfm-dynblock (CPU, 2 threads)',
        note: 'another machine: shape only',
        source: 'anchors/pytorch-h200-timings.json',
        device: 'cpu',
        threads: 2,
        workload: 'blocks',
        model: 'wfm-block',
        points: [
          { tokens: 196, ms: 2.27 },
          { tokens: 784, ms: 5.2 },
        ],
      },
    ],
    checks: deriveChecks(fits, crossovers, 'cpu'),
    skipped: [{ what: 'gpujs', reason: 'not installed' }],
    phases: [{ name: 'blocks', ms: 1000 }],
  };
}
