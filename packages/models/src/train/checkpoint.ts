// The reference configuration JSON of a model (the `config` metadata of a checkpoint, snake_case keys as
// the PyTorch reference writes them, plus a WeightFormer's dynamic blocks and DynLinear / DynDWConv
// strategies), so a trained checkpoint loads in `loadModel`, `wf` and PyTorch as the same network.
import type { ModelConfig } from '../config.js';

/** The `config` metadata JSON of a model configuration, in the reference's snake_case keys. */
export function referenceConfigJson(cfg: ModelConfig): string {
  const out: Record<string, unknown> =
    cfg.arch === 'wfm-dit'
      ? {
          input_size: cfg.inputSize,
          patch_size: cfg.patchSize,
          in_channels: cfg.inChannels,
          hidden_size: cfg.hiddenSize,
          depth: cfg.depth,
          num_classes: cfg.numClasses,
          learn_sigma: cfg.learnSigma,
        }
      : {
          img_size: cfg.imgSize,
          patch_size: cfg.patchSize,
          in_chans: cfg.inChans,
          num_classes: cfg.numClasses,
          embed_dim: cfg.embedDim,
          depth: cfg.depth,
        };
  if (cfg.arch === 'vit') out.num_heads = cfg.numHeads;
  if (cfg.arch === 'wfm') {
    // the network's shape beyond the reference's keys, so loadModel rebuilds the same variant
    out.dynamic_blocks = cfg.dynamicBlocks;
    if (cfg.dynLinear !== undefined) out.dyn_linear = cfg.dynLinear;
    if (cfg.dynDWConv !== undefined) out.dyn_dwconv = cfg.dynDWConv;
  }
  if (cfg.mlpRatio !== 4) out.mlp_ratio = cfg.mlpRatio;
  return JSON.stringify(out);
}
