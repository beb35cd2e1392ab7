// The backend conformance suite as vitest tests: `describeConformance(name, makeBackend, options)`
// registers every case of `conformanceCases` (conformance-cases.ts: each primitive of the op table against
// the float64 reference interpreter on many seeded random shapes, every composite fused and lowered,
// attention against its MLP reading, the wfm-micro DynLinear / DynDWConv fixtures, shape errors and the
// memory plan) under `describe('conformance: <name>')`, one `describe` per group. The same cases run
// without vitest through `runConformance` (`@wf/core/testing/runner`).
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { AnyBackend } from '../backend.js';
import {
  type ConformanceCase,
  type ConformanceOptions,
  conformanceCases,
  SLOW_TIMEOUT,
} from './conformance-cases.js';

export type { ConformanceOptions, MicroFixtures } from './conformance-cases.js';

/**
 * Registers the conformance suite for a backend as vitest tests (call it at the top level of a test file).
 * `makeBackend` runs once before the tests; the backend is disposed after them.
 */
export function describeConformance(
  name: string,
  makeBackend: () => AnyBackend | Promise<AnyBackend>,
  options: ConformanceOptions,
): void {
  let backend: AnyBackend | undefined;
  const be = (): AnyBackend => {
    if (!backend) throw new Error(`conformance ${name}: the backend was not created`);
    return backend;
  };
  const groups = new Map<string, ConformanceCase[]>();
  for (const c of conformanceCases(options)) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  const register = (c: ConformanceCase) => it(c.label, (ctx) => c.run(be(), ctx), c.timeout);

  describe(`conformance: ${name}`, () => {
    beforeAll(async () => {
      backend = await makeBackend();
    }, SLOW_TIMEOUT);
    afterAll(() => {
      backend?.dispose();
      backend = undefined;
    });
    for (const [group, cases] of groups) {
      if (group) describe(group, () => cases.forEach(register));
      else cases.forEach(register);
    }
  });
}
