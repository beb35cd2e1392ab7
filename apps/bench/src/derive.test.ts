// Unit tests of the derived figures: slopes per network and engine, crossovers, ratio rows, checks.
import { describe, expect, it } from 'vitest';
import { deriveChecks, deriveCrossovers, deriveFits, deriveRatios } from './derive.js';
import { sampleResults, sampleRow } from './sample-results.js';

describe('derived figures', () => {
  const r = sampleResults();

  it('fits every network on every engine, over all sizes and over the check range', () => {
    const f = (model: string, range: string) =>
      r.fits.find((x) => x.engine === 'cpu' && x.model === model && x.range === range);
    expect(f('wfm-block', 'check')!.slope).toBeCloseTo(1, 6);
    expect(f('wfm-block', 'check')!.slopeMin).toBeCloseTo(1, 6);
    expect(f('attn-block', 'check')!.slope).toBeGreaterThan(1.6);
    expect(f('attn-block', 'all')!.points).toBe(4);
    expect(f('wfm-tiny', 'check')).toBeUndefined(); // models are not measured at 12544 tokens here
    expect(r.fits.filter((x) => x.engine === 'ort-node').length).toBeGreaterThan(0);
  });

  it('finds the crossover per workload and engine, and on the cost model', () => {
    const c = r.crossovers.find((x) => x.engine === 'cpu' && x.workload === 'blocks')!;
    // 0.02 n = 2e-5 n^2 + 0.01 n  <=>  n = 500, interpolated between 196 and 784 on log-log axes.
    expect(c.status).toBe('interpolated');
    expect(c.tokens!).toBeGreaterThan(196);
    expect(c.tokens!).toBeLessThan(784);
    expect(c.min.status).toBe('interpolated');
    // The cost model's FLOPs (sample: 8e5 n for WeightFormer, 6e5 n + 300 n^2 for attention) cross at
    // n = 2e5 / 300 = 667; log-log interpolation between the curve's points 196 and 784 lands near it.
    const model = r.crossovers.filter((x) => x.engine === 'cost-model');
    expect(model.map((x) => x.workload).sort()).toEqual(['blocks', 'models']);
    for (const m of model) {
      expect(m.status).toBe('interpolated');
      expect(m.tokens!).toBeGreaterThan(550);
      expect(m.tokens!).toBeLessThan(700);
      expect([m.fromTokens, m.toTokens]).toEqual([196, 1048576]);
      const { min, cpu, ...own } = m;
      for (const same of [min, cpu]) {
        expect(same).toEqual({
          status: own.status,
          tokens: own.tokens,
          fromTokens: own.fromTokens,
          toTokens: own.toTokens,
        });
      }
    }
  });

  it('has the issue 6 rows, with a reason where they were not measured', () => {
    const ids = r.ratios.filter((x) => x.id.startsWith('issue6/cpu/')).map((x) => x.id);
    expect(ids).toEqual([
      'issue6/cpu/wfm-tiny-224-vs-ort-web',
      'issue6/cpu/wfm-tiny-224-vs-ort-node',
      'issue6/cpu/wfm-tiny-896-vs-deit-tiny-896',
      'issue6/cpu/wfm-tiny-224-batch-throughput',
    ]);
    const web = r.ratios.find((x) => x.id === 'issue6/cpu/wfm-tiny-224-vs-ort-web')!;
    expect(web.ratio).toBeNull();
    expect(web.note).toMatch(/not measured/);
    const node = r.ratios.find((x) => x.id === 'issue6/cpu/wfm-tiny-224-vs-ort-node')!;
    expect(node.ratio).toBeCloseTo(1, 12); // the same synthetic timings on both engines
    const thr = r.ratios.find((x) => x.id === 'issue6/cpu/wfm-tiny-224-batch-throughput')!;
    expect(thr.ratio).toBeCloseTo((8 / 300) * 60, 12);
    expect(r.throughput[0]).toMatchObject({ engine: 'cpu', batch: 8, speedup: expect.closeTo(1.6, 9) });
  });

  it('targets: met, missed, or null without a ratio', () => {
    const rows = [
      sampleRow('wfm-tiny', 'cpu', 196, 50),
      sampleRow('wfm-tiny', 'ort-web', 196, 60),
      sampleRow('wfm-tiny', 'cpu', 3136, 400),
      sampleRow('deit-tiny', 'cpu', 3136, 1000),
    ];
    const ratios = deriveRatios(rows, ['cpu']);
    const get = (id: string) => ratios.find((x) => x.id === id)!;
    expect(get('issue6/cpu/wfm-tiny-224-vs-ort-web')).toMatchObject({ ratio: 50 / 60, met: true });
    expect(get('issue6/cpu/wfm-tiny-896-vs-deit-tiny-896')).toMatchObject({ ratio: 0.4, met: false });
    expect(get('issue6/cpu/wfm-tiny-224-vs-ort-node')).toMatchObject({ ratio: null, met: null });
    // issue 15's stricter Node target on the same ratio: 50 / 60 > 0.6
    expect(get('issue15/cpu/wfm-tiny-224-vs-ort-web')).toMatchObject({
      ratio: 50 / 60,
      met: false,
      target: { op: '<=', value: 0.6, source: 'issue 15' },
    });
    expect(get('issue15/cpu/wfm-tiny-224-vs-ort-node')).toMatchObject({ ratio: null, met: null });
    expect(
      deriveRatios(
        [sampleRow('wfm-tiny', 'cpu', 196, 30), sampleRow('wfm-tiny', 'ort-web', 196, 60)],
        ['cpu'],
      ).find((x) => x.id === 'issue15/cpu/wfm-tiny-224-vs-ort-web'),
    ).toMatchObject({ ratio: 0.5, met: true });
    expect(ratios.find((x) => x.id === 'cpu/models/N3136/attn-over-wfm')!.ratio).toBe(2.5);
    expect(ratios.find((x) => x.id === 'cpu/wfm-tiny/N196/over-ort-web')!.ratio).toBe(50 / 60);
  });

  it('checks issue 5 on the min latencies by default, and on medians when asked', () => {
    expect(r.checks.map((c) => [c.name, c.pass, c.stat])).toEqual([
      ['WeightFormer block slope', true, 'min'],
      ['attention block slope', true, 'min'],
      ['block crossover (tokens)', true, 'min'],
    ]);
    // Noise on one run of WeightFormer at 12544 tokens moves the median, not the min.
    const rows = r.rows.map((x) =>
      x.model === 'wfm-block' && x.engine === 'cpu' && x.tokens === 12544
        ? { ...x, medianMs: x.medianMs * 3, maxMs: x.medianMs * 5 }
        : x,
    );
    const fits = deriveFits(rows);
    const cross = deriveCrossovers(rows, r.analytic);
    expect(deriveChecks(fits, cross, 'cpu')[0].pass).toBe(true);
    expect(deriveChecks(fits, cross, 'cpu', 'median')[0].pass).toBe(false);
  });

  it('passes the attention check on cpu time when either cpu time or min latency shows the slope', () => {
    const fits = r.fits.map((f) =>
      f.engine === 'cpu' && f.model === 'attn-block' && f.range === 'check' ? { ...f, slopeCpu: 1.59 } : f,
    );
    const attn = (fs: typeof fits) => deriveChecks(fs, r.crossovers, 'cpu', 'cpu')[1];
    expect(attn(fits)).toMatchObject({ name: 'attention block slope', value: 1.59, pass: true });
    const linear = fits.map((f) =>
      f.engine === 'cpu' && f.model === 'attn-block' && f.range === 'check' ? { ...f, slopeMin: 1.1 } : f,
    );
    expect(attn(linear).pass).toBe(false);
  });

  it('fails the checks when a size is missing', () => {
    const rows = r.rows.filter((x) => x.tokens !== 12544);
    const checks = deriveChecks(deriveFits(rows), deriveCrossovers(rows, []), 'cpu');
    expect(checks[0]).toMatchObject({ pass: false, value: null });
    expect(checks[0].note).toMatch(/not measured/);
    expect(checks[2].pass).toBe(true); // the crossover is still measured below 3136
  });
});
