// How every command opens the model named by --model: a built-in name, a variant name (an error pointing to
// --variant), a path or a URL (downloaded with a progress bar on a terminal, and cached), plus the warnings
// for options that do not apply to the model that was loaded.
import { type Arch, loadModel, resolveModelSource, type WfModel } from '@wf/models';
import { type CommandContext, downloadProgress } from './context.js';

/** The model options a command may have. */
export interface ModelSpec {
  /** `--model`. */
  model: string;
  /** `--variant`. */
  variant?: string;
  /** `--arch`. */
  arch?: Arch;
  /** `--heads`. */
  heads?: number;
  /** `--no-progress` makes this false. */
  progress?: boolean;
}

/** Loads the model of `spec` (see the file comment). */
export async function openModel(spec: ModelSpec, ctx: CommandContext): Promise<WfModel> {
  const source = await resolveModelSource(spec.model);
  const bar = downloadProgress(ctx, `downloading ${spec.model}`, spec.progress !== false);
  try {
    return await loadModel(source, {
      arch: spec.arch,
      heads: spec.heads,
      variant: spec.variant,
      onProgress: bar.onProgress,
    });
  } finally {
    bar.done();
  }
}

/** Warns about `--heads` on a model that is not a ViT (the only one that needs it). */
export function warnInapplicable(
  ctx: CommandContext,
  model: WfModel,
  spec: { heads?: number; cfgScale?: number },
): void {
  const arch = model.config.arch;
  if (spec.heads !== undefined && arch !== 'vit') {
    ctx.warn(`--heads applies to vit checkpoints only; ignored for this ${arch} checkpoint`);
  }
  if (spec.cfgScale !== undefined && arch !== 'wfm-dit') {
    ctx.warn(`--cfg-scale applies to wfm-dit checkpoints only; ignored for this ${arch} checkpoint`);
  }
}
