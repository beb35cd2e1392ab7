// Every plan builder of the backend, keyed by op: all primitives of the op table plus the fused
// composites (linear, affine, gelu, silu, dyn_linear, dyn_dwconv).
import type { PlanBuilder } from '../plan.js';
import { convPlans } from './conv.js';
import { dynamicPlans } from './dynamic.js';
import { elementwisePlans } from './elementwise.js';
import { linalgPlans } from './linalg.js';
import { movementPlans } from './movement.js';
import { reducePlans } from './reduce.js';

/** Plan builders by op name. */
export const PLAN_BUILDERS: Readonly<Record<string, PlanBuilder<never>>> = {
  ...elementwisePlans,
  ...movementPlans,
  ...reducePlans,
  ...linalgPlans,
  ...convPlans,
  ...dynamicPlans,
};

/** The composites this backend fuses (the rest run as their lowerings). */
export const FUSED_COMPOSITES: readonly string[] = [
  'linear',
  'affine',
  'gelu',
  'silu',
  'dyn_linear',
  'dyn_dwconv',
];
