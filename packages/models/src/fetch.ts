// Downloads that hold up: a timeout on the response and on every pause between chunks, an AbortSignal, one-
// line errors naming the URL and the bytes received (refused, dropped, stalled, HTTP errors, HTML pages where
// a file was expected), nothing left running after a failure, and a cache of finished downloads (the Cache
// API in browsers, a folder in Node: WF_CACHE_DIR, else $XDG_CACHE_HOME/weightformer or
// ~/.cache/weightformer).
import { WfError } from '@wf/core';

/** Download progress: bytes received so far and the total when the server says it. */
export interface LoadProgress {
  /** Bytes received so far. */
  loaded: number;
  /** Total bytes, when the server sends a `content-length`. */
  total?: number;
  /** True when the bytes come from the download cache. */
  cached?: boolean;
}

/** Options of {@link fetchBytes}. */
export interface FetchOptions {
  /** Download progress callback. */
  onProgress?: (p: LoadProgress) => void;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Abort the download: it stops at once and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Longest wait, in milliseconds, for the response and then for each next chunk of the body: a server
   * that stalls longer fails with an error naming the bytes received. Default {@link DEFAULT_TIMEOUT_MS}.
   */
  timeoutMs?: number;
  /**
   * The download cache: `true` (default for checkpoints) reads a finished earlier download and stores new
   * ones; `'reload'` downloads again and stores; `false` bypasses it.
   */
  cache?: boolean | 'reload';
}

/** Default of {@link FetchOptions.timeoutMs}: 30 seconds without a byte. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Thrown for a download that failed: the message names the URL and, once the body started, the bytes. */
export class FetchError extends WfError {
  /** The URL. */
  readonly url: string;
  /** Bytes received before the failure. */
  readonly received: number;
  /**
   * @param url - The URL.
   * @param reason - What went wrong.
   * @param received - Bytes received.
   * @param options - The cause.
   */
  constructor(url: string, reason: string, received = 0, options?: { cause?: unknown }) {
    super('E_IO', `cannot fetch ${url}: ${reason}`, options);
    this.url = url;
    this.received = received;
  }
}

function bytesText(n: number, total?: number): string {
  const f = (v: number) => v.toLocaleString('en-US');
  return total === undefined ? `${f(n)} bytes` : `${f(n)} of ${f(total)} bytes`;
}

/** The reason a fetch rejected, in words: the network error code of the cause when there is one. */
function networkReason(e: unknown): string {
  let c: unknown = e;
  for (let i = 0; i < 4 && c; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
      const words: Record<string, string> = {
        ECONNREFUSED: 'connection refused',
        ECONNRESET: 'connection reset',
        ENOTFOUND: 'host not found',
        EAI_AGAIN: 'host not found (DNS lookup failed)',
        ETIMEDOUT: 'connection timed out',
        EHOSTUNREACH: 'host unreachable',
        UND_ERR_SOCKET: 'the connection closed',
      };
      return `${words[code] ?? (c as Error).message ?? code} (${code})`;
    }
    c = (c as { cause?: unknown }).cause;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return msg === 'terminated' ? 'the connection closed' : msg;
}

/** Rejects after `ms` unless cleared; the timer never keeps Node alive. */
function timer(ms: number, onTimeout: () => void): { clear: () => void; reset: () => void } {
  let t: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    t = setTimeout(onTimeout, ms);
    (t as { unref?: () => void }).unref?.();
  };
  start();
  return {
    clear: () => clearTimeout(t),
    reset: () => {
      clearTimeout(t);
      start();
    },
  };
}

/** The signal's abort reason as an error (a DOMException AbortError when it gave none). */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** Options of the internal fetch: whether an HTML page is an acceptable reply. */
interface RawFetchOptions extends FetchOptions {
  /** What is expected, for the error message of an HTML reply (`a checkpoint`); HTML allowed when unset. */
  expect?: string;
}

/**
 * Fetches `url` into bytes with the timeout, abort and error rules above (no cache).
 */
async function download(url: string, opts: RawFetchOptions): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0))
    throw new WfError('E_ARGUMENT', `timeoutMs must be a positive number, got ${timeoutMs}`);
  if (opts.signal?.aborted) throw abortReason(opts.signal);
  const ctl = new AbortController();
  let failure: unknown;
  const fail = (e: unknown) => {
    failure ??= e;
    ctl.abort(e);
  };
  const onAbort = () => fail(abortReason(opts.signal!));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let loaded = 0;
  let total: number | undefined;
  const stall = timer(timeoutMs, () =>
    fail(
      new FetchError(
        url,
        loaded === 0 && total === undefined
          ? `no response within ${timeoutMs / 1000} s`
          : `the server stalled: no data for ${timeoutMs / 1000} s after ${bytesText(loaded, total)}`,
        loaded,
      ),
    ),
  );
  try {
    let res: Response;
    try {
      res = await f(url, { signal: ctl.signal });
    } catch (e) {
      if (failure) throw failure;
      throw new FetchError(url, networkReason(e), 0, { cause: e });
    }
    if (!res.ok) {
      void res.body?.cancel().catch(() => {});
      throw new FetchError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const type = res.headers.get('content-type') ?? '';
    if (opts.expect && /^text\/html\b/i.test(type)) {
      void res.body?.cancel().catch(() => {});
      throw new FetchError(
        url,
        `the server answered with an HTML page (content-type ${type.split(';')[0]}), not ${opts.expect}; check the URL`,
      );
    }
    const header = res.headers.get('content-length');
    total = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
    stall.reset();
    if (!res.body) {
      const buf = new Uint8Array(await res.arrayBuffer());
      opts.onProgress?.({ loaded: buf.length, total: buf.length });
      return buf;
    }
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    try {
      for (;;) {
        let step: ReadableStreamReadResult<Uint8Array>;
        try {
          step = await reader.read();
        } catch (e) {
          if (failure) throw failure;
          throw new FetchError(url, `${networkReason(e)} after ${bytesText(loaded, total)}`, loaded, {
            cause: e,
          });
        }
        if (step.done) break;
        stall.reset();
        chunks.push(step.value);
        loaded += step.value.length;
        opts.onProgress?.({ loaded, total });
      }
    } finally {
      if (failure) void reader.cancel(failure).catch(() => {});
    }
    if (total !== undefined && loaded !== total) {
      throw new FetchError(url, `the connection closed after ${bytesText(loaded, total)}`, loaded);
    }
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } catch (e) {
    // Whatever failed, nothing of this download goes on.
    ctl.abort(e);
    throw e;
  } finally {
    stall.clear();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cache

const CACHE_NAME = 'weightformer-v1';

/** The Node cache folder: WF_CACHE_DIR, else $XDG_CACHE_HOME/weightformer, else ~/.cache/weightformer. */
export async function cacheDir(): Promise<string | undefined> {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const env = process.env;
  if (env.WF_CACHE_DIR) return env.WF_CACHE_DIR;
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'weightformer');
}

async function cacheFile(url: string): Promise<string | undefined> {
  const dir = await cacheDir();
  if (!dir) return undefined;
  const { createHash } = await import('node:crypto');
  const { join } = await import('node:path');
  const name =
    url
      .replace(/[?#].*$/, '')
      .split('/')
      .pop()
      ?.replace(/[^\w.-]/g, '_')
      .slice(-60) || 'file';
  return join(dir, `${createHash('sha256').update(url).digest('hex').slice(0, 16)}-${name}`);
}

async function cacheGet(url: string): Promise<Uint8Array | undefined> {
  try {
    if (typeof caches !== 'undefined') {
      const hit = await (await caches.open(CACHE_NAME)).match(url);
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    }
    const file = await cacheFile(url);
    if (!file) return undefined;
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(file));
  } catch {
    return undefined;
  }
}

/** Stores a finished download; a cache that cannot be written is skipped (the download still succeeds). */
async function cachePut(url: string, bytes: Uint8Array): Promise<void> {
  try {
    if (typeof caches !== 'undefined') {
      await (await caches.open(CACHE_NAME)).put(url, new Response(bytes as Uint8Array<ArrayBuffer>));
      return;
    }
    const file = await cacheFile(url);
    if (!file) return;
    const { mkdir, rename, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(file), { recursive: true });
    // Written aside, then renamed: a crash never leaves a partial file under the cache name.
    const tmp = `${file}.${process.pid}.part`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch {
    // best effort
  }
}

/**
 * Fetches a URL into bytes, reporting progress, with a timeout on every pause and one-line errors naming
 * the URL and the bytes received (see {@link FetchOptions}). `cache` is off unless asked for here.
 *
 * @throws {FetchError} refused, dropped or stalled connections, HTTP errors; the signal's reason on abort.
 */
export async function fetchBytes(
  url: string | URL,
  opts: FetchOptions & { expect?: string } = {},
): Promise<Uint8Array> {
  const href = String(url);
  const cache = opts.cache ?? false;
  if (cache === true) {
    const hit = await cacheGet(href);
    if (hit) {
      opts.onProgress?.({ loaded: hit.length, total: hit.length, cached: true });
      return hit;
    }
  }
  const bytes = await download(href, opts);
  if (cache) await cachePut(href, bytes);
  return bytes;
}

/**
 * Fetches a small optional JSON file (a config.json beside a checkpoint): undefined when it is missing
 * (any HTTP error), is not JSON (an HTML page from a server that answers every path), or cannot be fetched;
 * aborted with `signal`.
 */
export async function fetchOptionalJson(
  url: string,
  opts: Pick<FetchOptions, 'fetch' | 'signal' | 'timeoutMs'>,
): Promise<{ text: string } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await download(url, opts);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    return undefined;
  }
  const text = new TextDecoder().decode(bytes);
  const t = text.trimStart();
  return t.startsWith('{') ? { text } : undefined;
}
