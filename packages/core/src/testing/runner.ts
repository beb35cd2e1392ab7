// `@wf/core/testing/runner`: the conformance suite without a test framework, for browser pages and
// scripts. `runConformance(backend, options)` runs every case and reports what failed; the comparison
// helpers and the float64 reference interpreter come along. Unlike `@wf/core/testing` it never imports
// vitest.

export {
  expectClose,
  maxAbs,
  maxAbsDiff,
  type NumericTensor,
  type RandomRange,
  type Rng,
  randomInt,
  randomTensor,
  rng,
  seedOf,
  type ToleranceScale,
  toleranceBound,
  withinTolerance,
} from './compare.js';
export {
  type CaseContext,
  type ConformanceCase,
  type ConformanceOptions,
  type ConformanceReport,
  conformanceCases,
  type MicroFixtures,
  type RunConformanceOptions,
  runConformance,
} from './conformance-cases.js';
export { evaluateF64, type F64Data, missingReferenceOps, referenceOps, toF64 } from './reference-kernels.js';
