// `@wf/core/testing`: what every backend's test suite imports. The float64 reference interpreter (the
// oracle), comparison helpers implementing the project's error bound, seeded random tensors, and the vitest
// conformance suite `describeConformance` (and its framework-free runner, also at `@wf/core/testing/runner`).
// Importing this subpath needs vitest (an optional peer dependency).

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
  toleranceBound,
  withinTolerance,
} from './compare.js';
export { describeConformance } from './conformance.js';
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
export {
  evaluateF64,
  type F64Data,
  missingReferenceOps,
  referenceOps,
  toF64,
} from './reference-kernels.js';
