// `@wf/core/testing`: what every backend's test suite imports. The float64 reference interpreter (the
// oracle), comparison helpers implementing the project's error bound, seeded random tensors, and the vitest
// conformance suite `describeConformance`. Importing this subpath needs vitest (an optional peer dependency).

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
export { type ConformanceOptions, describeConformance, type MicroFixtures } from './conformance.js';
export {
  evaluateF64,
  type F64Data,
  missingReferenceOps,
  referenceOps,
  toF64,
} from './reference-kernels.js';
