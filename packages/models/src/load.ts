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
} from '@wf/core';
import { type Arch, type ConfigSource, ModelError, resolveConfig } from './config.js';
import { type FetchOptions, fetchBytes, fetchOptionalJson, type LoadProgress } from './fetch.js';
import { WfModel } from './model.js';
import { variantConfig } from './variants.js';

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
  /** Abort a download: it stops at once, the config.json request too, and loading rejects. */
  signal?: AbortSignal;
  /** Longest wait in ms for a response or the next chunk (URL sources); see {@link FetchOptions.timeoutMs}. */
  timeoutMs?: number;
  /**
   * Download cache of URL sources (the Cache API in browsers; in Node a folder, `WF_CACHE_DIR` or
   * ~/.cache/weightformer): `true` (default) reuses a finished download, `'reload'` downloads again,
   * `false` bypasses the cache.
   */
  cache?: boolean | 'reload';
  /**
   * What to do with float weights holding NaN or +-Infinity: `'report'` (default) loads the model and lists
   * them in {@link WfModel.nonFiniteWeights} (empty when every weight is finite); `'error'` makes loading
   * throw a one-line ModelError naming the offending tensors.
   */
  nonFiniteWeights?: 'report' | 'error';
}

/** Where a checkpoint comes from. */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

function isUrl(s: string | URL): boolean {
  return s instanceof URL || /^(https?|file|data|blob):/i.test(s);
}

/** The config.json beside a checkpoint URL: undefined when missing, not JSON (an HTML page) or unreachable. */
async function fetchConfigBeside(
  url: string | URL,
  opts: LoadOptions,
  signal: AbortSignal,
): Promise<ConfigSource | undefined> {
  const beside = new URL('config.json', url).href;
  const got = await fetchOptionalJson(beside, { fetch: opts.fetch, signal, timeoutMs: opts.timeoutMs });
  return got && parseConfigJson(got.text, beside);
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
  return new WfModel(config, weights, st.metadata, nonFinite, opts.configJson ?? besideConfig);
}

/**
 * Loads a checkpoint: bytes, a file path (Node; reads `config.json` beside it if present) or a URL
 * (fetched with progress, a timeout and the download cache; `config.json` beside it is used when the server
 * has one). In a browser, a string is a URL, relative to the page.
 */
export async function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<WfModel> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    return modelFromSafetensors(parseSafetensors(source), opts);
  }
  // In a browser every string is a URL (relative ones resolve against the page); in Node, a file path.
  if (typeof source === 'string' && !isUrl(source) && !isNode() && typeof location !== 'undefined') {
    source = new URL(source, location.href);
  }
  if (isUrl(source) && !String(source).startsWith('file:')) {
    // One signal for both requests: when either fails (or the caller aborts), the other stops too.
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(opts.signal?.reason);
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const stopOnFailure = <T>(p: Promise<T>): Promise<T> =>
      p.catch((e: unknown) => {
        ctl.abort(e);
        throw e;
      });
    try {
      const [bytes, besideConfig] = await Promise.all([
        stopOnFailure(
          fetchBytes(source, {
            ...opts,
            signal: ctl.signal,
            cache: opts.cache ?? true,
            expect: 'a safetensors checkpoint',
          }),
        ),
        opts.configJson ? undefined : stopOnFailure(fetchConfigBeside(source, opts, ctl.signal)),
      ]);
      return modelFromSafetensors(parseSafetensors(bytes), opts, besideConfig);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
  const path =
    source instanceof URL ? decodeURIComponent(source.pathname) : String(source).replace(/^file:\/\//, '');
  const st = await readSafetensorsFile(path);
  return modelFromSafetensors(st, opts, await readConfigBeside(path));
}
