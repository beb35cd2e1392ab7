// Loading from the web against a local server that drops, stalls, refuses and answers HTML: one-line
// errors naming the URL and the bytes received, a timeout, AbortSignal, a config.json probe that tolerates
// HTML and 404, nothing left running after a failure, and the download cache.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchBytes } from './fetch.js';
import { loadImageFile } from './image/decode-node.js';
import { loadModel } from './load.js';
import { imageClassifier } from './pipeline.js';

const MICRO = new URL('../../test-fixtures/reference/wfm-micro.safetensors', import.meta.url).pathname;
let weights: Buffer;
let pngBytes: Buffer;
let server: Server;
let base: string;
const hits = new Map<string, number>();
/** Requests whose connection the client closed before the reply ended, by path. */
const closedEarly = new Set<string>();
const HTML = '<!doctype html><html><body>app</body></html>';

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  res.on('close', () => {
    if (!res.writableFinished) closedEarly.add(path);
  });
  const [, kind, file] = path.split('/');
  const sendWeights = () => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': weights.length });
    res.end(weights);
  };
  if (kind === 'ok') {
    if (file === 'model.safetensors') {
      sendWeights();
      return;
    }
    res.writeHead(404).end('not found');
    return;
  }
  if (kind === 'spa') {
    // A dev server or app host: every unknown path is the app's HTML page, with status 200.
    if (file === 'model.safetensors') {
      sendWeights();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(HTML);
    return;
  }
  if (kind === 'html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
    return;
  }
  if (kind === 'drop' || kind === 'stall') {
    if (file === 'config.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': weights.length });
    res.write(weights.subarray(0, 1000));
    if (kind === 'drop') setTimeout(() => req.socket.destroy(), 20);
    return; // stall: never another byte
  }
  if (kind === 'img') {
    res.writeHead(200, { 'content-type': 'image/png' }).end(pngBytes);
    return;
  }
  if (kind === 'fail') {
    // The weights fail at once while config.json stalls: the probe must not go on.
    if (file === 'config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      return;
    }
    res.writeHead(500).end();
    return;
  }
  res.writeHead(404).end();
}

beforeAll(async () => {
  weights = await readFile(MICRO);
  const png = new PNG({ width: 20, height: 12 });
  png.data = Buffer.alloc(20 * 12 * 4, 200);
  pngBytes = PNG.sync.write(png);
  server = createServer(route);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.WF_CACHE_DIR = await mkdtemp(join(tmpdir(), 'wf-cache-'));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

describe('loadModel from a URL', () => {
  test('a server answering every path with HTML: the config.json probe is skipped, the checkpoint loads', async () => {
    const m = await loadModel(`${base}/spa/model.safetensors`, { cache: false });
    expect(m.parameterCount).toBeGreaterThan(0);
    expect(m.configJson).toBeUndefined();
  });

  test('a 404 config.json is no error', async () => {
    const m = await loadModel(`${base}/ok/model.safetensors`, { cache: false });
    expect(m.config.arch).toBe('wfm');
  });

  test('HTML where the checkpoint should be: one line naming the URL', async () => {
    const url = `${base}/html/model.safetensors`;
    await expect(loadModel(url, { cache: false })).rejects.toThrow(
      `cannot fetch ${url}: the server answered with an HTML page (content-type text/html), not a safetensors checkpoint; check the URL`,
    );
  });

  test('a dropped connection names the URL and the bytes received', async () => {
    const url = `${base}/drop/model.safetensors`;
    const err = await loadModel(url, { cache: false }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(
      new RegExp(
        `^cannot fetch ${url}: the connection closed.* after 1,000 of ${weights.length.toLocaleString('en-US')} bytes$`,
      ),
    );
  });

  test('a stalled server times out with the bytes received, and the request is closed', async () => {
    const url = `${base}/stall/model.safetensors`;
    await expect(loadModel(url, { cache: false, timeoutMs: 200 })).rejects.toThrow(
      `cannot fetch ${url}: the server stalled: no data for 0.2 s after 1,000 of ${weights.length.toLocaleString('en-US')} bytes`,
    );
    expect(await waitFor(() => closedEarly.has('/stall/model.safetensors'))).toBe(true);
  });

  test('a refused connection keeps its cause', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const url = `http://127.0.0.1:${port}/model.safetensors`;
    await expect(loadModel(url, { cache: false })).rejects.toThrow(
      `cannot fetch ${url}: connection refused (ECONNREFUSED)`,
    );
  });

  test('an abort stops the download at once with the signal reason', async () => {
    closedEarly.clear();
    const ctl = new AbortController();
    const p = loadModel(`${base}/stall/model.safetensors`, { cache: false, signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('user cancelled')), 50);
    await expect(p).rejects.toThrow('user cancelled');
    expect(await waitFor(() => closedEarly.has('/stall/model.safetensors'))).toBe(true);
  });

  test('no download left running after a failure: the config.json request is closed too', async () => {
    await expect(loadModel(`${base}/fail/model.safetensors`, { cache: false })).rejects.toThrow(/HTTP 500/);
    expect(await waitFor(() => closedEarly.has('/fail/config.json'))).toBe(true);
  });

  test('the cache (WF_CACHE_DIR) serves a second load; cache: false bypasses it', async () => {
    const url = `${base}/ok/model.safetensors`;
    const before = hits.get('/ok/model.safetensors') ?? 0;
    const progress: boolean[] = [];
    await loadModel(url, { onProgress: (p) => progress.push(!!p.cached) });
    await loadModel(url, { onProgress: (p) => progress.push(!!p.cached) });
    expect(hits.get('/ok/model.safetensors')).toBe(before + 1);
    expect(progress.at(-1)).toBe(true);
    expect((await readdir(process.env.WF_CACHE_DIR!)).some((f) => f.endsWith('-model.safetensors'))).toBe(
      true,
    );
    await loadModel(url, { cache: false });
    expect(hits.get('/ok/model.safetensors')).toBe(before + 2);
    await loadModel(url, { cache: 'reload' });
    expect(hits.get('/ok/model.safetensors')).toBe(before + 3);
  });
});

test('fetchBytes: HTTP errors name the status; a bad timeout is refused', async () => {
  await expect(fetchBytes(`${base}/nothing`)).rejects.toThrow(
    `cannot fetch ${base}/nothing: HTTP 404 Not Found`,
  );
  await expect(fetchBytes(`${base}/ok/model.safetensors`, { timeoutMs: 0 })).rejects.toThrow(
    /timeoutMs must be/,
  );
});

describe('images from URLs', () => {
  test('loadImageFile and the pipeline take URLs; a page that is no image names the URL', async () => {
    const img = await loadImageFile(`${base}/img/a.png`);
    expect([img.width, img.height]).toEqual([20, 12]);
    const classify = await imageClassifier(MICRO, { cache: false });
    const [fromUrl, fromPixels] = await classify([`${base}/img/a.png`, img], { topK: 2 });
    expect(fromUrl).toEqual(fromPixels);
    await classify.dispose();
    await expect(loadImageFile(`${base}/html/x.png`)).rejects.toThrow(
      `${base}/html/x.png: unsupported image format (expected PNG, JPEG, WebP, GIF or BMP)`,
    );
  });
});
