// The scaffolding every browser check shares (the backends' Chromium tests and `pnpm bench --browser`):
// bundle a page script with esbuild (Node built-ins stubbed), serve it on 127.0.0.1 (cross-origin isolated
// with COOP/COEP, ordinary, or both side by side under /isolated/ and /plain/), open it in the system
// Chromium through playwright-core, record the page's console and errors, and wait until the page script
// has installed its entry point on `globalThis`. esbuild and playwright-core load on first use only, so a
// program that imports this module without driving a browser never loads them.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromiumLaunchOptions, chromiumPath, fixturesDir } from './index.js';

/**
 * Why the browser checks cannot run here (no Chromium at {@link chromiumPath}), or `undefined` when they can.
 * Callers skip with this reason outside CI and run (and fail) in CI.
 */
export function chromiumMissing() {
  return existsSync(chromiumPath) ? undefined : `no Chromium at ${chromiumPath} (apt-get install chromium)`;
}

/** Node built-ins that Node-only code paths of the bundled packages import (and the page never takes). */
const NODE_BUILTINS = /^(node:)?(path|url|fs|fs\/promises|module|zlib|os|worker_threads)$/;

/** The stub module every {@link NODE_BUILTINS} import resolves to: each export inert or throwing. */
const NODE_STUB = [
  'const unavailable = () => { throw new Error("Node built-ins are not available in the browser"); };',
  'export default {};',
  'export const fileURLToPath = () => "";',
  'export const pathToFileURL = () => ({ href: "" });',
  'export const dirname = () => "";',
  'export const join = () => "";',
  'export const createRequire = () => unavailable;',
  'export const readFile = unavailable;',
  'export const readFileSync = unavailable;',
  'export const inflateSync = unavailable;',
  'export const cpus = () => [];',
  'export const isMainThread = true;',
  'export const Worker = undefined;',
].join('\n');

/**
 * esbuild plugin: Node built-ins (`path`, `url`, `fs`, `fs/promises`, `module`, `zlib`, `os`,
 * `worker_threads`, with or without `node:`) resolve to an inert stub.
 */
export const nodeBuiltinsStub = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: NODE_BUILTINS }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ loader: 'js', contents: NODE_STUB }));
  },
};

/** Bundles the page script `entry` for the browser (ESM, es2022, one file in memory) and returns its code. */
export async function bundlePage(entry, { external = [] } = {}) {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    plugins: [nodeBuiltinsStub],
    external,
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

/** The COOP/COEP headers that make a page cross-origin isolated (SharedArrayBuffer, threads). */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});

/** Content type of a served file by its ending. */
function contentType(name) {
  if (name.endsWith('.wasm')) return 'application/wasm';
  if (name.endsWith('.js') || name.endsWith('.mjs')) return 'text/javascript; charset=utf-8';
  return 'application/octet-stream';
}

/** The mount that serves `fixtures/<name>.safetensors` from the fixtures copied into the repository. */
export const referenceFixturesMount = Object.freeze({
  prefix: 'fixtures/',
  dir: join(fixturesDir, 'reference'),
  pattern: /^[\w.-]+\.safetensors$/,
});

/** The file a mount serves at `rest` (a path below the page's folder), or undefined. */
function mountedFile(mounts, rest) {
  for (const m of mounts) {
    if (!rest.startsWith(m.prefix)) continue;
    const name = rest.slice(m.prefix.length);
    if (m.files) {
      if (Object.hasOwn(m.files, name)) return m.files[name];
    } else if (m.pattern.test(name)) return join(m.dir, name);
  }
  return undefined;
}

/**
 * Serves a page on an ephemeral port of 127.0.0.1: `index.html` (which loads `page.js` as a module),
 * `page.js` (`script`) and the files of `mounts`, with `Cache-Control: no-store` on every response.
 * `isolation`: `'isolated'` serves the page at `/` with {@link ISOLATION_HEADERS} on every response,
 * `'plain'` at `/` without them, `'both'` under `/isolated/` (with) and `/plain/` (without).
 * `/favicon.ico` answers 204, anything else 404; a mounted file that does not exist answers 404.
 */
export async function servePage(script, { title = 'wf', isolation = 'isolated', mounts = [] } = {}) {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="page.js"></script>`;
  const cache = new Map();
  const read = (path) => {
    let b = cache.get(path);
    if (!b) {
      b = readFileSync(path);
      cache.set(path, b);
    }
    return b;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = { 'Cache-Control': 'no-store' };
    let rest = url.pathname.slice(1);
    if (isolation === 'both') {
      const [kind, ...tail] = rest.split('/');
      if (kind !== 'isolated' && kind !== 'plain') {
        res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404, headers).end();
        return;
      }
      if (kind === 'isolated') Object.assign(headers, ISOLATION_HEADERS);
      rest = tail.join('/');
    } else if (isolation === 'isolated') Object.assign(headers, ISOLATION_HEADERS);
    const send = (type, body) => res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
    const file = mountedFile(mounts, rest);
    if (rest === '' || rest === 'index.html') send('text/html; charset=utf-8', html);
    else if (rest === 'page.js') send('text/javascript; charset=utf-8', script);
    else if (file !== undefined && existsSync(file)) send(contentType(file), read(file));
    else res.writeHead(rest === 'favicon.ico' ? 204 : 404, headers).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    server,
    origin,
    url: (kind) => (kind ? `${origin}/${kind}/` : `${origin}/`),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Opens `url` in a new page of `browser`, recording its console and errors from the start, and waits until
 * `globalThis[entry]` has the type `entryType` (the page script has loaded) or `timeout` ms pass.
 * `lines`: every console message as `<type>: <text>`, uncaught errors as `pageerror: <message>` and a crash
 * as `crash: ...`. `errors`: the console errors as `console error: <text>`, uncaught errors as
 * `page error: <message>` and a crash; a passing browser check expects none.
 */
export async function openPage(browser, url, { entry, entryType = 'function', timeout = 30_000 }) {
  const page = await browser.newPage();
  const lines = [];
  const errors = [];
  page.on('console', (m) => {
    lines.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    lines.push(`pageerror: ${e.message}`);
    errors.push(`page error: ${e.message}`);
  });
  page.on('crash', () => {
    const line = 'crash: the page crashed (renderer gone; out of memory?)';
    lines.push(line);
    errors.push(line);
  });
  await page.goto(url);
  await page.waitForFunction(([name, type]) => typeof globalThis[name] === type, [entry, entryType], {
    timeout,
  });
  return { page, lines, errors };
}

/**
 * The whole set-up of a browser check: bundles `entry` ({@link bundlePage}), serves it ({@link servePage}),
 * launches the system Chromium ({@link chromiumLaunchOptions}; `webgpu` as there) and returns the running
 * session: `open` opens a page ({@link openPage}) at `/` or, with `isolation: 'both'`, at `/<kind>/`;
 * `close` closes the browser and the server. When set-up fails, what it had started is closed again.
 */
export async function startBrowserPage({ entry, external, title, isolation, mounts, webgpu = true }) {
  const served = await servePage(await bundlePage(entry, { external }), { title, isolation, mounts });
  let browser;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch(chromiumLaunchOptions({ webgpu }));
  } catch (e) {
    await served.close();
    throw e;
  }
  return {
    browser,
    url: served.url,
    open: (options, kind) => openPage(browser, served.url(kind), options),
    close: async () => {
      await browser.close();
      await served.close();
    },
  };
}
