// `@wf/core/testing`: what every backend's test suite imports. Everything of the framework-free runner
// (`@wf/core/testing/runner`: float64 oracle, comparison helpers, seeded random tensors, conformance cases)
// plus the vitest conformance suite `describeConformance`. Importing this subpath needs vitest (an optional
// peer dependency).

export { describeConformance } from './conformance.js';
export * from './runner.js';
