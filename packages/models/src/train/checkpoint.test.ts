// The `config` metadata a training checkpoint carries rebuilds the same network: every ablation variant
// (DynLinear / DynDWConv strategy, static) and the dynamic blocks survive a save-and-resolve round trip.
import { describe, expect, it } from 'vitest';
import {
  DWCONV_STRATEGIES,
  expectedWeights,
  LINEAR_STRATEGIES,
  resolveConfig,
  type WfmConfig,
} from '../config.js';
import { loadBuiltinModel } from '../node.js';
import { referenceConfigJson } from './checkpoint.js';

// the built-in wfm-mnist's configuration (reference dynamic blocks [1, 4])
const BASE = (await loadBuiltinModel('wfm-mnist')).config as WfmConfig;

describe('referenceConfigJson', () => {
  it.each(LINEAR_STRATEGIES.flatMap((l) => DWCONV_STRATEGIES.map((d) => [l, d] as const)))(
    'dyn_linear %s, dyn_dwconv %s: resolves back to the same config from shapes + metadata',
    (dynLinear, dynDWConv) => {
      const cfg: WfmConfig = { ...BASE, dynLinear, dynDWConv };
      const shapes = new Map([...expectedWeights(cfg)].map(([k, s]) => [k, s]));
      // as loadModel reads a checkpoint: the metadata's config JSON, with its arch
      const back = resolveConfig(shapes, [{ ...JSON.parse(referenceConfigJson(cfg)), arch: 'wfm' }]);
      expect(back).toMatchObject({ arch: 'wfm', dynamicBlocks: [1, 4] });
      expect(expectedWeights(back)).toEqual(expectedWeights(cfg));
      expect((back as WfmConfig).dynLinear ?? 'bilateral').toBe(dynLinear);
      expect((back as WfmConfig).dynDWConv ?? 'adaptive').toBe(dynDWConv);
    },
  );
});
