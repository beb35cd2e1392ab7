// WeightFormer configs with each DynLinear / DynDWConv strategy (and `static`): the weights they expect,
// a save -> load round trip that rebuilds the same network from the checkpoint metadata alone (and from
// shapes where they tell the strategy apart), and an input gradient (ERF) through each.
import { createCpuBackend } from '@wf/backend-cpu';
import type { TensorData } from '@wf/core';
import { describe, expect, it } from 'vitest';
import {
  configMetadata,
  DWCONV_STRATEGIES,
  type DWConvStrategy,
  expectedWeights,
  LINEAR_STRATEGIES,
  type LinearStrategy,
  type WfmConfig,
} from './config.js';
import { erf } from './erf.js';
import { loadModel } from './load.js';
import { serializeModel } from './save.js';
import { randomModel } from './variants.js';

const base: WfmConfig = {
  arch: 'wfm',
  imgSize: 16,
  patchSize: 4,
  inChans: 1,
  numClasses: 3,
  embedDim: 16,
  depth: 2,
  mlpRatio: 4,
  dynamicBlocks: [1],
};

const CASES: { dynLinear: LinearStrategy; dynDWConv: DWConvStrategy }[] = [
  ...LINEAR_STRATEGIES.map((dynLinear) => ({ dynLinear, dynDWConv: 'adaptive' as DWConvStrategy })),
  ...DWCONV_STRATEGIES.filter((s) => s !== 'adaptive').map((dynDWConv) => ({
    dynLinear: 'bilateral' as LinearStrategy,
    dynDWConv,
  })),
];

const input: TensorData = {
  dtype: 'float32',
  shape: [2, 1, 16, 16],
  data: Float32Array.from({ length: 512 }, (_, i) => Math.cos(i * 0.21)),
};

describe('WeightFormer strategies', () => {
  it('the reference strategies stay implicit in the config and metadata', () => {
    const m = randomModel(base);
    expect(m.config).not.toHaveProperty('dynLinear');
    expect(JSON.parse(configMetadata(m.config).config)).not.toHaveProperty('dyn_linear');
  });

  it.each(CASES)('dyn_linear $dynLinear, dyn_dwconv $dynDWConv: save, load, run, erf', async (s) => {
    const cfg: WfmConfig = { ...base, ...s };
    const names = [...expectedWeights(cfg).keys()].filter((n) => n.startsWith('blocks.1.'));
    if (s.dynLinear === 'static') expect(names).toContain('blocks.1.linear1.weight');
    if (s.dynDWConv === 'static') expect(names).toContain('blocks.1.dwc.weight');
    if (s.dynDWConv === 'ampdir') expect(names).toContain('blocks.1.dwc.amp.weight');
    const model = randomModel(cfg, { seed: 3 });
    const loaded = await loadModel(serializeModel(model));
    const want = { ...cfg } as Record<string, unknown>;
    if (s.dynLinear === 'bilateral') delete want.dynLinear;
    if (s.dynDWConv === 'adaptive') delete want.dynDWConv;
    expect(loaded.config).toEqual(want);
    const backend = createCpuBackend({ kernels: 'plain' });
    try {
      const a = await model.run(backend, input);
      const b = await loaded.run(backend, input);
      expect([...b.logits.data]).toEqual([...a.logits.data]);
      const r = await erf(loaded, input, { backend });
      expect(r.erf.shape).toEqual([16, 16]);
      expect(Math.max(...r.erf.data)).toBeGreaterThan(0);
    } finally {
      backend.dispose();
      await model.dispose();
      await loaded.dispose();
    }
  });

  it('rejects an unknown strategy in one line', async () => {
    const bytes = serializeModel(randomModel(base), {
      config: JSON.stringify({ ...JSON.parse(configMetadata(base).config), dyn_linear: 'magic' }),
    });
    await expect(loadModel(bytes)).rejects.toThrow(/unknown dyn_linear "magic"/);
  });
});
