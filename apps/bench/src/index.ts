// Programmatic entry of @wf/bench: run the benchmark in-process, write its outputs, check its structure.

export { type BenchConfig, type BenchProgress, estimateBytes, runBench } from './bench.js';
export { type Crossover, crossover, crossoverBelow } from './crossover.js';
export { CHECK_LIMITS, CHECK_RANGE, deriveChecks } from './derive.js';
export { type CurvePoint, fitLogLog, type LogLogFit } from './fit.js';
export { interleaveOrder, type RepPolicy, repsFor, warmupOrder } from './interleave.js';
export { PLANS, type Plan } from './options.js';
export { buildProgram, type Io, main, summaryLines } from './program.js';
export { renderHtml } from './report-html.js';
export { renderMarkdown } from './report-md.js';
export * from './schema.js';
export { type OutputFiles, writeOutputs } from './write-outputs.js';
