// Every plan builder of the backend, keyed by op: all primitives of the op table plus the fused
// composites (linear, affine, gelu, relu, sigmoid, mean, l2norm, softmax, layer_norm, silu, dyn_linear, dyn_dwconv).
import type { CompositeOp } from '@wf/core';
import type { PlanBuilder, PlanBuilders } from '../plan.js';
import { convPlans } from './conv.js';
import { dynamicPlans } from './dynamic.js';
import { elementwisePlans } from './elementwise.js';
import { linalgPlans } from './linalg.js';
import { movementPlans } from './movement.js';
import { reducePlans } from './reduce.js';

/**
 * Plan builders by op name, each typed by its op. `satisfies PlanBuilders`: the backend does not compile
 * without a builder for every primitive; the exact keys stay, so the fused composites are known.
 */
export const PLAN_BUILDERS = {
  ...elementwisePlans,
  ...movementPlans,
  ...reducePlans,
  ...linalgPlans,
  ...convPlans,
  ...dynamicPlans,
} satisfies PlanBuilders;

/** The ops this backend has plan builders (so kernels) for: every primitive and the fused composites. */
export type GpujsOp = keyof typeof PLAN_BUILDERS;

/**
 * `PLAN_BUILDERS` as a mapped type, so that indexing it with a generic op `K` gives a `PlanBuilder<K>` that
 * takes the application's `OpSpec<K>` (indexing the literal's type would give a union of builders).
 */
export const PLAN_BUILDER_TABLE: { readonly [K in GpujsOp]: PlanBuilder<K> } = PLAN_BUILDERS;

/** The composites this backend fuses (the rest run as their lowerings). */
export const FUSED_COMPOSITES: readonly (GpujsOp & CompositeOp)[] = [
  'linear',
  'affine',
  'gelu',
  'relu',
  'sigmoid',
  'mean',
  'l2norm',
  'softmax',
  'layer_norm',
  'silu',
  'dyn_linear',
  'dyn_dwconv',
];
