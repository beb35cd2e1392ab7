// Public API of @wf/core: the op table, tensors, parameters and graphs, compilation and eager execution,
// the cost model, the backend interface, safetensors I/O and typed errors.

export {
  cotangentName,
  differentiableNames,
  grad,
  gradName,
  parameterize,
  type TracedFn,
  type VjpGraphOptions,
  valueAndGrad,
  vjp,
  vjpGraph,
} from './autodiff/grad.js';
export {
  COMPOSITE_VJP_RULES,
  dilate,
  flip,
  padOrCrop,
  rotate180,
  sumTo,
  VJP_RULES,
  type VjpArgs,
  type VjpRule,
  type VjpSaves,
  vjpRule,
} from './autodiff/vjp-rules.js';
export * from './backend.js';
export { onBackendDispose } from './backend-dispose.js';
export * from './errors.js';
export {
  abortReason,
  type CompiledGraph,
  type CompileOptions,
  checkGraphInputs,
  checkRunOutputs,
  compile,
  missingKernels,
  type RunOptions,
  unimplementedPrimitives,
  YIELD_EVERY_MS,
} from './graph/compile.js';
export { type GraphCost, graphCost, type NodeCostEntry, opCost } from './graph/cost.js';
export { EagerSession, eager } from './graph/eager.js';
export { fuseActivations } from './graph/fuse.js';
export { formatGraph, type Graph, GraphBuilder, type GraphNode, trace } from './graph/graph.js';
export { eliminateDeadCode, fusedKernelFilter, type KeepComposite, lowerGraph } from './graph/lower.js';
export { type ResidentParameter, residentParameters } from './graph/parameter-storage.js';
export {
  DEFERRED_OUTSTANDING,
  type MemoryPlan,
  type PlanOptions,
  planMemory,
  type StorageKind,
} from './graph/plan.js';
export { type ReplayHooks, replayGraph, rewriteGraph, runGraph } from './graph/rewrite.js';
export { yieldToEventLoop } from './graph/yield.js';
export { describeNonFinite, findNonFinite, type NonFiniteTensor } from './io/non-finite.js';
export * from './io/safetensors.js';
export { DYN_DWCONV_PARAMS, DYN_LINEAR_PARAMS, type DynParamSpec } from './ir/dyn-params.js';
export { erf, sigmoid } from './ir/math.js';
export * from './ir/ops.js';
export { Parameter, parametersOf } from './ir/parameter.js';
export { seededRandom } from './ir/random.js';
export { adaptiveBin, broadcastShapes, convOut, normAxes, normAxis } from './ir/shape-utils.js';
export { type Context, Tensor } from './ir/tensor.js';
export * from './ir/types.js';
export { dynDWConvKernel } from './ops/dyn-dwconv.js';
export type { Conv2dOptions, DynDWConvParams, DynLinearParams, TensorLike } from './ops/functional.js';
export * as F from './ops/functional.js';
