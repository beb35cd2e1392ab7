// Loading checkpoints: from safetensors bytes, a file path (Node), or a URL fetched with progress. The
// configuration comes from, in order: explicit options, an HF-style config.json beside the weights,
// safetensors metadata, and tensor shapes.
import {
  describeNonFinite,
  findNonFinite,
  type ParsedSafetensors,
  parseSafetensors,
  readSafetensorsFile,
  type TensorData,
  WfError,
} from '@wf/core';
import { type Arch, type ConfigSource, ModelError, resolveConfig } from './config.js';
import { WfModel } from './model.js';
import { variantConfig } from './variants.js';

/** Download progress: bytes received so far and the total when the server says it. */
export interface LoadProgress {
  /** Bytes received so far. */
  loaded: number;
  /** Total bytes, when the server sends a `content-length`. */
  total?: number;
}

/** Options of `loadModel`. */
export interface LoadOptions {
  /** Architecture, when it should not be detected from the weights. */
  arch?: Arch;
  /** Attention heads (ViT); not recoverable from the weights. */
  heads?: number;
  /** A named variant (e.g. `deit-tiny`) whose configuration fills what the checkpoint does not say. */
  variant?: string;
  /** Any other configuration key (snake_case or camelCase), highest priority. */
  config?: ConfigSource;
  /** A config.json object to use instead of looking for one beside the weights. */
  configJson?: ConfigSource;
  /** Download progress callback (URL sources). */
  onProgress?: (p: LoadProgress) => void;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Abort a download. */
  signal?: AbortSignal;
  /**
   * What to do with float weights holding NaN or +-Infinity: `'report'` (default) loads the model and lists
   * them in {@link WfModel.nonFiniteWeights} (empty when every weight is finite); `'error'` makes loading
   * throw a one-line ModelError naming the offending tensors.
   */
  nonFiniteWeights?: 'report' | 'error';
}

/** Where a checkpoint comes from. */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

function isUrl(s: string | URL): boolean {
  return s instanceof URL || /^(https?|file|data|blob):/i.test(s);
}

/** Fetches a URL into bytes, reporting progress; HTTP errors become one-line WfErrors. */
export async function fetchBytes(url: string | URL, opts: LoadOptions = {}): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await f(url, { signal: opts.signal });
  } catch (e) {
    throw new WfError('E_IO', `cannot fetch ${String(url)}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new WfError('E_IO', `cannot fetch ${String(url)}: HTTP ${res.status} ${res.statusText}`);
  const totalHeader = res.headers.get('content-length');
  const total = totalHeader ? Number(totalHeader) : undefined;
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    opts.onProgress?.({ loaded: buf.length, total: buf.length });
    return buf;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    opts.onProgress?.({ loaded, total });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function fetchConfigBeside(url: string | URL, opts: LoadOptions): Promise<ConfigSource | undefined> {
  const beside = new URL('config.json', url);
  try {
    const res = await (opts.fetch ?? globalThis.fetch)(beside, { signal: opts.signal });
    if (!res.ok) return undefined;
    return parseConfigJson(await res.text(), beside.href);
  } catch (e) {
    if (e instanceof WfError) throw e;
    return undefined;
  }
}

/** Parses a config.json text; invalid JSON is an error naming the file. */
export function parseConfigJson(text: string, where: string): ConfigSource {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as ConfigSource;
  } catch (e) {
    throw new ModelError(`invalid config file ${where}: ${(e as Error).message}`);
  }
}

/** Reads a config.json next to a weights file in Node, if there is one. */
async function readConfigBeside(path: string): Promise<ConfigSource | undefined> {
  const fs = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const cfgPath = join(dirname(path), 'config.json');
  let text: string;
  try {
    text = await fs.readFile(cfgPath, 'utf8');
  } catch {
    return undefined;
  }
  return parseConfigJson(text, cfgPath);
}

/** Builds a model from parsed safetensors and configuration layers. */
export function modelFromSafetensors(
  st: ParsedSafetensors,
  opts: LoadOptions = {},
  besideConfig?: ConfigSource,
): WfModel {
  const policy = opts.nonFiniteWeights ?? 'report';
  if (policy !== 'report' && policy !== 'error') {
    throw new ModelError(`nonFiniteWeights must be 'report' or 'error', got ${JSON.stringify(policy)}`);
  }
  const weights = new Map<string, TensorData>();
  for (const name of st.names()) weights.set(name, st.tensor(name));
  const nonFinite = findNonFinite(weights);
  if (policy === 'error' && nonFinite.length > 0) {
    const tensors =
      nonFinite.length === 1 ? '1 weight tensor holds' : `${nonFinite.length} weight tensors hold`;
    throw new ModelError(
      `${tensors} NaN/Inf values: ${describeNonFinite(nonFinite)} (nonFiniteWeights: 'report' loads them anyway)`,
    );
  }
  const shapes = new Map([...weights].map(([k, v]) => [k, v.shape]));
  const explicit: Record<string, unknown> = { ...(opts.config ?? {}) };
  if (opts.arch) explicit.arch = opts.arch;
  if (opts.heads !== undefined) explicit.numHeads = opts.heads;
  let metaConfig: ConfigSource | undefined;
  if (st.metadata.config) metaConfig = parseConfigJson(st.metadata.config, 'safetensors metadata "config"');
  const meta = { ...(metaConfig ?? {}), ...(st.metadata.arch ? { arch: st.metadata.arch } : {}) };
  const layers = [explicit, opts.configJson ?? besideConfig, meta];
  if (opts.variant) layers.push(variantConfig(opts.variant) as unknown as ConfigSource);
  const config = resolveConfig(shapes, layers);
  return new WfModel(config, weights, st.metadata, nonFinite);
}

/**
 * Loads a checkpoint: bytes, a file path (Node; reads `config.json` beside it if present) or a URL
 * (fetched with progress; `config.json` beside it is used when the server has one).
 */
export async function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<WfModel> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    return modelFromSafetensors(parseSafetensors(source), opts);
  }
  if (isUrl(source) && !String(source).startsWith('file:')) {
    const [bytes, besideConfig] = await Promise.all([
      fetchBytes(source, opts),
      opts.configJson ? Promise.resolve(undefined) : fetchConfigBeside(source, opts),
    ]);
    return modelFromSafetensors(parseSafetensors(bytes), opts, besideConfig);
  }
  const path =
    source instanceof URL ? decodeURIComponent(source.pathname) : String(source).replace(/^file:\/\//, '');
  const st = await readSafetensorsFile(path);
  return modelFromSafetensors(st, opts, await readConfigBeside(path));
}
