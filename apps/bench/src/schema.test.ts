// Unit tests of the results validator on a consistent synthetic results object and broken variants.
import { describe, expect, it } from 'vitest';
import { sampleResults } from './sample-results.js';
import { validateResults } from './schema.js';

describe('validateResults', () => {
  it('accepts a consistent results object, also after a JSON round trip', () => {
    const r = sampleResults();
    expect(validateResults(r)).toEqual([]);
    expect(validateResults(JSON.parse(JSON.stringify(r)))).toEqual([]);
  });

  it('rejects the wrong schema, missing sections and non-objects', () => {
    expect(validateResults(null)).toEqual(['results: not an object']);
    expect(validateResults({ ...sampleResults(), schema: 'wf-bench/0' })[0]).toMatch(/schema/);
    const { fits: _, ...noFits } = sampleResults();
    expect(validateResults(noFits)).toContain('fits: not an array');
  });

  it('finds inconsistent rows and dangling ratio references', () => {
    const r = sampleResults();
    r.rows[1] = { ...r.rows[1], id: r.rows[0].id };
    r.rows[2] = { ...r.rows[2], medianMs: r.rows[2].maxMs * 2 };
    r.rows[3] = { ...r.rows[3], samplesMs: [] };
    r.ratios[0] = { ...r.ratios[0], numerator: 'no/such/row' };
    r.crossovers[0] = { ...r.crossovers[0], status: 'interpolated', tokens: null };
    const errs = validateResults(r);
    expect(errs.some((e) => e.includes('duplicate'))).toBe(true);
    expect(errs.some((e) => e.includes('min <= median <= max'))).toBe(true);
    expect(errs.some((e) => e.includes('samplesMs'))).toBe(true);
    expect(errs.some((e) => e.includes('unknown row no/such/row'))).toBe(true);
    expect(errs.some((e) => e.startsWith('crossovers[0]'))).toBe(true);
  });
});
