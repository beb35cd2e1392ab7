// Model configurations: the three architectures' hyper-parameters, how they are resolved (explicit
// options, then an HF-style config.json, then safetensors metadata, then tensor shapes), and the exact
// list of weight names and shapes each configuration expects.
import {
  DYN_DWCONV_PARAMS,
  DYN_LINEAR_PARAMS,
  type DynDWConvStrategy,
  type DynLinearStrategy,
  fmtShape,
  type TensorData,
  WfError,
} from '@wf/core';

/** What the dynamic blocks' first MLP layer is: a DynLinear strategy, or `static` (a plain Linear). */
export type LinearStrategy = DynLinearStrategy | 'static';
/** What the dynamic blocks' depthwise conv is: a DynDWConv strategy, or `static` (a plain 3x3 depthwise). */
export type DWConvStrategy = DynDWConvStrategy | 'static';
/** The released model's strategies (SPEC sections 3 and 4). */
export const DEFAULT_LINEAR_STRATEGY: LinearStrategy = 'bilateral';
/** The released model's DynDWConv strategy. */
export const DEFAULT_DWCONV_STRATEGY: DWConvStrategy = 'adaptive';
/** Every value of `dynLinear`. */
export const LINEAR_STRATEGIES: readonly LinearStrategy[] = [
  'static',
  'gap',
  'linear',
  'nonlinear',
  'deep',
  'bilateral',
];
/** Every value of `dynDWConv`. */
export const DWCONV_STRATEGIES: readonly DWConvStrategy[] = ['static', 'gap', 'adaptive', 'ampdir', 'conv'];

/**
 * Checkpoint name suffix of a strategy parameter: `wfm0_weight` -> `wfm.0.weight`, `wfm_bias` -> `wfm.bias`,
 * `g_weight` -> `g.weight`, `a` -> `a` (so the bilateral and adaptive names are the reference's).
 */
export function strategyParamName(param: string): string {
  const m = /^([a-z]+?)(\d?)_(weight|bias)$/.exec(param);
  return m ? `${m[1]}${m[2] ? `.${m[2]}` : ''}.${m[3]}` : param;
}

/** Hidden width of the `deep` DynLinear generator for `cin` input channels. */
export const deepHidden = (cin: number): number => Math.max(1, Math.floor(cin / 4));

/** The architectures this package runs. */
export type Arch = 'wfm' | 'vit' | 'wfm-dit';

/** WeightFormer classifier (SPEC section 2). */
export interface WfmConfig {
  /** Architecture tag. */
  readonly arch: 'wfm';
  /** Native input side in pixels (the model also runs at any multiple of the patch size). */
  readonly imgSize: number;
  /** Patch side p in pixels (`patch_embed` is a p x p convolution with stride p). */
  readonly patchSize: number;
  /** Input channels (3 for RGB, 1 for MNIST). */
  readonly inChans: number;
  /** Classes of the `head` (1000 for ImageNet-1K). */
  readonly numClasses: number;
  /** Channels D of every token. */
  readonly embedDim: number;
  /** Number of blocks L. */
  readonly depth: number;
  /** Hidden width of each block's MLP as a multiple of D (4). */
  readonly mlpRatio: number;
  /** Indices of the dynamic blocks ((i + 2) % 3 == 0 in the reference). */
  readonly dynamicBlocks: readonly number[];
  /** The dynamic blocks' `linear1`: a DynLinear strategy or `static` (default `bilateral`, the reference). */
  readonly dynLinear?: LinearStrategy;
  /** The dynamic blocks' `dwc`: a DynDWConv strategy or `static` (default `adaptive`, the reference). */
  readonly dynDWConv?: DWConvStrategy;
}

/** Softmax-attention ViT / DeiT baseline (SPEC section 6). */
export interface VitConfig {
  /** Architecture tag. */
  readonly arch: 'vit';
  /** Native input side in pixels (other sizes resize the position table bicubically). */
  readonly imgSize: number;
  /** Patch side p in pixels. */
  readonly patchSize: number;
  /** Input channels (3 for RGB, 1 for MNIST). */
  readonly inChans: number;
  /** Classes of the `head`. */
  readonly numClasses: number;
  /** Channels D of every token. */
  readonly embedDim: number;
  /** Number of blocks. */
  readonly depth: number;
  /** Attention heads (not recoverable from the weights: from config or metadata). */
  readonly numHeads: number;
  /** Hidden width of each block's MLP as a multiple of D (4). */
  readonly mlpRatio: number;
}

/** WeightFormer diffusion backbone (SPEC section 7). */
export interface DitConfig {
  /** Architecture tag. */
  readonly arch: 'wfm-dit';
  /** Side of the input latents. */
  readonly inputSize: number;
  /** Patch side (2, 4 or 8 in the published sizes). */
  readonly patchSize: number;
  /** Channels of the input latents (4). */
  readonly inChannels: number;
  /** Channels D of every token (384 for S, 768 for B). */
  readonly hiddenSize: number;
  /** Number of blocks (15). */
  readonly depth: number;
  /** Class labels; label `numClasses` is the "no class" id of classifier-free guidance. */
  readonly numClasses: number;
  /** Whether the output also predicts the variance (output channels `2 * inChannels`). */
  readonly learnSigma: boolean;
  /** Hidden width of each block's MLP as a multiple of D (4). */
  readonly mlpRatio: number;
  /** Indices of the dynamic blocks ((i + 2) % 3 == 0 in the reference). */
  readonly dynamicBlocks: readonly number[];
}

/** Any model configuration. */
export type ModelConfig = WfmConfig | VitConfig | DitConfig;

/** A user-facing error about a model, its weights or its configuration. */
export class ModelError extends WfError {
  constructor(message: string) {
    super('E_MODEL', message);
  }
}

/** Loose configuration as it appears in config.json / metadata (snake_case or camelCase keys). */
export type ConfigSource = Readonly<Record<string, unknown>>;

/** The reference rule for dynamic blocks. */
export function referenceDynamicBlocks(depth: number): number[] {
  return Array.from({ length: depth }, (_, i) => i).filter((i) => (i + 2) % 3 === 0);
}

const KEYS: Record<string, string> = {
  img_size: 'imgSize',
  patch_size: 'patchSize',
  in_chans: 'inChans',
  num_classes: 'numClasses',
  embed_dim: 'embedDim',
  mlp_ratio: 'mlpRatio',
  num_heads: 'numHeads',
  heads: 'numHeads',
  input_size: 'inputSize',
  in_channels: 'inChannels',
  hidden_size: 'hiddenSize',
  learn_sigma: 'learnSigma',
  dynamic_blocks: 'dynamicBlocks',
  dyn_linear: 'dynLinear',
  dyn_dwconv: 'dynDWConv',
  dyn_dw_conv: 'dynDWConv',
  dynDwConv: 'dynDWConv',
  model_type: 'arch',
};

/** Normalizes keys to camelCase and values from strings where metadata stores numbers as text. */
export function normalizeConfig(src: ConfigSource | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!src) return out;
  for (const [k, v] of Object.entries(src)) {
    if (v === undefined || v === null) continue;
    out[KEYS[k] ?? k] = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  if (typeof out.learnSigma === 'string') out.learnSigma = out.learnSigma.toLowerCase() === 'true';
  return out;
}

type Shapes = ReadonlyMap<string, readonly number[]>;

function blockCount(shapes: Shapes): number {
  let depth = 0;
  for (const k of shapes.keys()) {
    const m = /^blocks\.(\d+)\./.exec(k);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  return depth;
}

/** Guesses the architecture from tensor names. */
export function detectArch(shapes: Shapes): Arch | undefined {
  if (shapes.has('x_embedder.proj.weight')) return 'wfm-dit';
  if (shapes.has('cls_token') || shapes.has('blocks.0.attn.qkv.weight')) return 'vit';
  if (shapes.has('patch_embed.proj.weight')) return 'wfm';
  return undefined;
}

/** Known DeiT sizes (embed dim -> heads), for checkpoints that carry no config. */
const DEIT_HEADS: Readonly<Record<number, number>> = { 192: 3, 384: 6, 768: 12 };

function need(shapes: Shapes, name: string): readonly number[] {
  const s = shapes.get(name);
  if (!s) throw new ModelError(`cannot infer the configuration: tensor "${name}" is missing`);
  return s;
}

/** Configuration inferred from tensor shapes alone (what a hub checkpoint with `{"format":"pt"}` allows). */
export function configFromShapes(arch: Arch, shapes: Shapes): Record<string, unknown> {
  const depth = blockCount(shapes);
  const dyn = Array.from({ length: depth }, (_, i) => i).filter(
    (i) =>
      shapes.has(`blocks.${i}.linear1.w`) ||
      shapes.has(`blocks.${i}.dwc.w`) ||
      (arch === 'wfm' && shapes.has(`blocks.${i}.norm1.weight`)),
  );
  if (arch === 'wfm-dit') {
    const [d, cin, p] = need(shapes, 'x_embedder.proj.weight');
    const tokens = need(shapes, 'pos_embed')[1];
    const cout = need(shapes, 'final_layer.linear.weight')[0] / (p * p);
    const hidden = shapes.get('blocks.0.linear2.weight')?.[1];
    return {
      inputSize: Math.round(Math.sqrt(tokens)) * p,
      patchSize: p,
      inChannels: cin,
      hiddenSize: d,
      depth,
      numClasses: need(shapes, 'y_embedder.embedding_table.weight')[0] - 1,
      learnSigma: cout === 2 * cin,
      mlpRatio: hidden ? hidden / d : 4,
      dynamicBlocks: dyn,
    };
  }
  const [d, cin, p] = need(shapes, 'patch_embed.proj.weight');
  const numClasses = need(shapes, 'head.weight')[0];
  if (arch === 'vit') {
    const tokens = need(shapes, 'pos_embed')[1] - 1;
    const hidden = shapes.get('blocks.0.mlp.fc1.weight')?.[0];
    const cfg: Record<string, unknown> = {
      imgSize: Math.round(Math.sqrt(tokens)) * p,
      patchSize: p,
      inChans: cin,
      numClasses,
      embedDim: d,
      depth,
      mlpRatio: hidden ? hidden / d : 4,
    };
    if (DEIT_HEADS[d]) cfg.numHeads = DEIT_HEADS[d];
    return cfg;
  }
  const hidden = shapes.get('blocks.0.linear2.weight')?.[1];
  const cfg: Record<string, unknown> = {
    imgSize: 224,
    patchSize: p,
    inChans: cin,
    numClasses,
    embedDim: d,
    depth,
    mlpRatio: hidden ? hidden / d : 4,
    dynamicBlocks: dyn,
  };
  if (dyn.length) Object.assign(cfg, strategiesFromShapes(shapes, `blocks.${dyn[0]}`, d));
  return cfg;
}

/**
 * The strategies a dynamic block's weights show: `bilateral`/`deep`/`static` and `adaptive`/`gap`/
 * `ampdir`/`conv`/`static` are told apart by their tensors; `gap`, `linear` and `nonlinear` DynLinear
 * share their tensors, so for those the metadata must say which (left undefined here).
 */
function strategiesFromShapes(shapes: Shapes, b: string, d: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (shapes.has(`${b}.linear1.w1`)) out.dynLinear = 'bilateral';
  else if (shapes.has(`${b}.linear1.g.weight`)) out.dynLinear = 'deep';
  else if (shapes.has(`${b}.linear1.weight`)) out.dynLinear = 'static';
  if (shapes.has(`${b}.dwc.weight`)) out.dynDWConv = 'static';
  else if (shapes.has(`${b}.dwc.amp.weight`)) out.dynDWConv = 'ampdir';
  else if (shapes.has(`${b}.dwc.kernel`)) out.dynDWConv = 'conv';
  else if (shapes.get(`${b}.dwc.wfm.2.weight`)?.[0] === 9 * d) out.dynDWConv = 'gap';
  else if (shapes.has(`${b}.dwc.w`)) out.dynDWConv = 'adaptive';
  return out;
}

function num(cfg: Record<string, unknown>, key: string, arch: Arch): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ModelError(`${arch} config: "${key}" must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Resolves a full configuration. `layers` are in priority order (explicit options first, then config.json,
 * then metadata); tensor shapes fill what none of them gives.
 */
export function resolveConfig(shapes: Shapes, layers: readonly (ConfigSource | undefined)[]): ModelConfig {
  const merged: Record<string, unknown> = {};
  for (const layer of [...layers].reverse()) Object.assign(merged, normalizeConfig(layer));
  const arch = (merged.arch as Arch | undefined) ?? detectArch(shapes);
  if (arch !== 'wfm' && arch !== 'vit' && arch !== 'wfm-dit') {
    throw new ModelError(
      arch
        ? `unknown arch "${String(arch)}" (use wfm, vit or wfm-dit)`
        : 'cannot tell the architecture from the tensor names; pass arch (wfm, vit or wfm-dit)',
    );
  }
  let inferred: Record<string, unknown>;
  try {
    inferred = configFromShapes(arch, shapes);
  } catch (e) {
    const seen = detectArch(shapes);
    const hint = seen && seen !== arch ? ` (these weights look like ${seen}, not ${arch})` : '';
    throw new ModelError(`${(e as Error).message}${hint}`);
  }
  const cfg: Record<string, unknown> = { ...inferred, ...merged, arch };
  if (arch === 'vit') {
    if (cfg.numHeads === undefined) {
      throw new ModelError(
        'vit: the number of attention heads is not recoverable from the weights; pass heads',
      );
    }
    const c: VitConfig = {
      arch,
      imgSize: num(cfg, 'imgSize', arch),
      patchSize: num(cfg, 'patchSize', arch),
      inChans: num(cfg, 'inChans', arch),
      numClasses: num(cfg, 'numClasses', arch),
      embedDim: num(cfg, 'embedDim', arch),
      depth: num(cfg, 'depth', arch),
      numHeads: num(cfg, 'numHeads', arch),
      mlpRatio: num(cfg, 'mlpRatio', arch),
    };
    if (c.embedDim % c.numHeads !== 0)
      throw new ModelError(`vit: embed dim ${c.embedDim} is not divisible by ${c.numHeads} heads`);
    return c;
  }
  const depth = num(cfg, 'depth', arch);
  const dynamicBlocks = Array.isArray(cfg.dynamicBlocks)
    ? (cfg.dynamicBlocks as number[])
    : referenceDynamicBlocks(depth);
  if (arch === 'wfm') {
    const dynLinear = (cfg.dynLinear as LinearStrategy | undefined) ?? DEFAULT_LINEAR_STRATEGY;
    const dynDWConv = (cfg.dynDWConv as DWConvStrategy | undefined) ?? DEFAULT_DWCONV_STRATEGY;
    if (!LINEAR_STRATEGIES.includes(dynLinear))
      throw new ModelError(
        `wfm config: unknown dyn_linear "${String(dynLinear)}" (use ${LINEAR_STRATEGIES.join(', ')})`,
      );
    if (!DWCONV_STRATEGIES.includes(dynDWConv))
      throw new ModelError(
        `wfm config: unknown dyn_dwconv "${String(dynDWConv)}" (use ${DWCONV_STRATEGIES.join(', ')})`,
      );
    const c: WfmConfig = {
      arch,
      imgSize: num(cfg, 'imgSize', arch),
      patchSize: num(cfg, 'patchSize', arch),
      inChans: num(cfg, 'inChans', arch),
      numClasses: num(cfg, 'numClasses', arch),
      embedDim: num(cfg, 'embedDim', arch),
      depth,
      mlpRatio: num(cfg, 'mlpRatio', arch),
      dynamicBlocks,
    };
    // the reference strategies are left implicit, so configs of the released models stay as they were
    return {
      ...c,
      ...(dynLinear !== DEFAULT_LINEAR_STRATEGY ? { dynLinear } : {}),
      ...(dynDWConv !== DEFAULT_DWCONV_STRATEGY ? { dynDWConv } : {}),
    };
  }
  return {
    arch,
    inputSize: num(cfg, 'inputSize', arch),
    patchSize: num(cfg, 'patchSize', arch),
    inChannels: num(cfg, 'inChannels', arch),
    hiddenSize: num(cfg, 'hiddenSize', arch),
    depth,
    numClasses: num(cfg, 'numClasses', arch),
    learnSigma: cfg.learnSigma === true,
    mlpRatio: num(cfg, 'mlpRatio', arch),
    dynamicBlocks,
  };
}

function wfmBlockWeights(
  out: Map<string, number[]>,
  prefix: string,
  d: number,
  hd: number,
  dynamic: boolean,
  strategies: { dynLinear?: LinearStrategy; dynDWConv?: DWConvStrategy } = {},
): void {
  const lin = dynamic ? (strategies.dynLinear ?? DEFAULT_LINEAR_STRATEGY) : 'static';
  const dwc = dynamic ? (strategies.dynDWConv ?? DEFAULT_DWCONV_STRATEGY) : 'static';
  if (dwc === 'static') {
    out.set(`${prefix}.dwc.weight`, [d, 1, 3, 3]);
    out.set(`${prefix}.dwc.bias`, [d]);
  } else {
    const spec = DYN_DWCONV_PARAMS[dwc];
    const shapes = spec.shapes(d);
    for (const [i, n] of spec.names.entries())
      out.set(`${prefix}.dwc.${strategyParamName(n)}`, [...shapes[i]!]);
  }
  if (lin === 'static') {
    out.set(`${prefix}.linear1.weight`, [hd, d]);
    out.set(`${prefix}.linear1.bias`, [hd]);
  } else {
    const spec = DYN_LINEAR_PARAMS[lin];
    const h = deepHidden(d);
    const shapes = spec.shapes(d, hd, [
      { shape: [d, hd], dtype: 'float32' },
      { shape: [hd], dtype: 'float32' },
      { shape: [h, d], dtype: 'float32' },
    ]);
    for (const [i, n] of spec.names.entries())
      out.set(`${prefix}.linear1.${strategyParamName(n)}`, [...shapes[i]!]);
  }
  out.set(`${prefix}.linear2.weight`, [d, hd]);
  out.set(`${prefix}.linear2.bias`, [d]);
}

/** Every weight a configuration needs, with its shape (PyTorch state_dict names). */
export function expectedWeights(cfg: ModelConfig): Map<string, number[]> {
  const w = new Map<string, number[]>();
  if (cfg.arch === 'wfm-dit') {
    const d = cfg.hiddenSize;
    const hd = Math.floor(d * cfg.mlpRatio);
    const p = cfg.patchSize;
    const cout = cfg.learnSigma ? 2 * cfg.inChannels : cfg.inChannels;
    const tokens = (cfg.inputSize / p) ** 2;
    w.set('x_embedder.proj.weight', [d, cfg.inChannels, p, p]);
    w.set('x_embedder.proj.bias', [d]);
    w.set('pos_embed', [1, tokens, d]);
    w.set('t_embedder.mlp.0.weight', [d, 256]);
    w.set('t_embedder.mlp.0.bias', [d]);
    w.set('t_embedder.mlp.2.weight', [d, d]);
    w.set('t_embedder.mlp.2.bias', [d]);
    w.set('y_embedder.embedding_table.weight', [cfg.numClasses + 1, d]);
    for (let i = 0; i < cfg.depth; i++) {
      w.set(`blocks.${i}.adaLN_modulation.1.weight`, [6 * d, d]);
      w.set(`blocks.${i}.adaLN_modulation.1.bias`, [6 * d]);
      wfmBlockWeights(w, `blocks.${i}`, d, hd, cfg.dynamicBlocks.includes(i));
    }
    w.set('final_layer.adaLN_modulation.1.weight', [2 * d, d]);
    w.set('final_layer.adaLN_modulation.1.bias', [2 * d]);
    w.set('final_layer.linear.weight', [p * p * cout, d]);
    w.set('final_layer.linear.bias', [p * p * cout]);
    return w;
  }
  const d = cfg.embedDim;
  const hd = Math.floor(d * cfg.mlpRatio);
  w.set('patch_embed.proj.weight', [d, cfg.inChans, cfg.patchSize, cfg.patchSize]);
  w.set('patch_embed.proj.bias', [d]);
  if (cfg.arch === 'vit') {
    w.set('cls_token', [1, 1, d]);
    w.set('pos_embed', [1, (cfg.imgSize / cfg.patchSize) ** 2 + 1, d]);
    for (let i = 0; i < cfg.depth; i++) {
      const b = `blocks.${i}`;
      for (const n of ['norm1', 'norm2']) {
        w.set(`${b}.${n}.weight`, [d]);
        w.set(`${b}.${n}.bias`, [d]);
      }
      w.set(`${b}.attn.qkv.weight`, [3 * d, d]);
      w.set(`${b}.attn.qkv.bias`, [3 * d]);
      w.set(`${b}.attn.proj.weight`, [d, d]);
      w.set(`${b}.attn.proj.bias`, [d]);
      w.set(`${b}.mlp.fc1.weight`, [hd, d]);
      w.set(`${b}.mlp.fc1.bias`, [hd]);
      w.set(`${b}.mlp.fc2.weight`, [d, hd]);
      w.set(`${b}.mlp.fc2.bias`, [d]);
    }
  } else {
    w.set('init_norm.weight', [d]);
    w.set('init_norm.bias', [d]);
    for (let i = 0; i < cfg.depth; i++) {
      const b = `blocks.${i}`;
      const dynamic = cfg.dynamicBlocks.includes(i);
      if (dynamic) {
        w.set(`${b}.norm1.weight`, [d]);
        w.set(`${b}.norm1.bias`, [d]);
      }
      w.set(`${b}.norm2.weight`, [d]);
      w.set(`${b}.norm2.bias`, [d]);
      wfmBlockWeights(w, b, d, hd, dynamic, cfg);
    }
  }
  w.set('norm.weight', [d]);
  w.set('norm.bias', [d]);
  w.set('head.weight', [cfg.numClasses, d]);
  w.set('head.bias', [cfg.numClasses]);
  return w;
}

/** Checks weights against a configuration; lists every missing, unexpected and mis-shaped tensor at once. */
export function checkWeights(cfg: ModelConfig, weights: ReadonlyMap<string, TensorData>): void {
  const want = expectedWeights(cfg);
  const missing = [...want.keys()].filter((k) => !weights.has(k));
  const unexpected = [...weights.keys()].filter((k) => !want.has(k));
  const misShaped: string[] = [];
  for (const [k, shape] of want) {
    const t = weights.get(k);
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      misShaped.push(`${k} is ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
    }
    if (t && t.dtype !== 'float32') misShaped.push(`${k} is ${t.dtype}, expected float32`);
  }
  if (missing.length || unexpected.length || misShaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${unexpected.join(', ')}`);
    if (misShaped.length) parts.push(`mis-shaped ${misShaped.length}: ${misShaped.join('; ')}`);
    throw new ModelError(
      `weights do not match the ${cfg.arch} config (${describeConfig(cfg)}): ${parts.join(' | ')}`,
    );
  }
}

/** Short description of a configuration, e.g. `D=192 depth=17 patch=16 classes=1000`. */
export function describeConfig(cfg: ModelConfig): string {
  if (cfg.arch === 'wfm-dit') {
    return `D=${cfg.hiddenSize} depth=${cfg.depth} patch=${cfg.patchSize} input=${cfg.inputSize} classes=${cfg.numClasses}`;
  }
  const heads = cfg.arch === 'vit' ? ` heads=${cfg.numHeads}` : '';
  const strat =
    cfg.arch === 'wfm' && (cfg.dynLinear || cfg.dynDWConv)
      ? ` dyn_linear=${cfg.dynLinear ?? DEFAULT_LINEAR_STRATEGY} dyn_dwconv=${cfg.dynDWConv ?? DEFAULT_DWCONV_STRATEGY}`
      : '';
  return `D=${cfg.embedDim} depth=${cfg.depth}${heads} patch=${cfg.patchSize} classes=${cfg.numClasses}${strat}`;
}

/**
 * safetensors metadata that lets `loadModel` rebuild a configuration exactly: `arch` and `config` (JSON,
 * snake_case keys as the reference's config; WeightFormer configs include `dynamic_blocks` and, when not
 * the reference's, `dyn_linear` / `dyn_dwconv`).
 */
export function configMetadata(cfg: ModelConfig): Record<string, string> {
  const snake: Record<string, string> = {};
  for (const [k, v] of Object.entries(KEYS)) if (!(v in snake)) snake[v] = k;
  snake.dynDWConv = 'dyn_dwconv';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (k !== 'arch' && v !== undefined) out[snake[k] ?? k] = v;
  return { arch: cfg.arch, config: JSON.stringify(out) };
}
