// A tiny static file server (node:http) for the built site: serves a folder on 127.0.0.1 with the
// content types the site needs, `index.html` for folders, and 404 for everything else. Records every
// request so tests can check what was fetched.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { contentType, ISOLATION_HEADERS } from '../../scripts/static-files.mjs';

/** A running server. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  /** Paths requested so far, with their status. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * Serves `root` on an ephemeral port of 127.0.0.1; `isolated`: with the COOP/COEP headers that make pages
 * cross-origin isolated (as `pnpm preview` and `vitepress dev` send them).
 */
export async function serveStatic(root: string, { isolated = false } = {}): Promise<StaticServer> {
  const extra: Record<string, string> = isolated ? { ...ISOLATION_HEADERS } : {};
  const requests: StaticServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path = decodeURIComponent(url.pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    const ok = file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile();
    const status = ok ? 200 : 404;
    requests.push({ path: url.pathname, status });
    if (!ok) {
      res.writeHead(404, { ...extra, 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      ...extra,
      'content-type': contentType(extname(file)),
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
