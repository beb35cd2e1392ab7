// A stand-in npm registry on 127.0.0.1 for `pnpm publish --dry-run`: it answers every metadata request
// with 404 (nothing is published yet) and records every request, so a test can prove that nothing was
// uploaded (no PUT) and that the real registry was never contacted.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running fake registry. */
export interface FakeRegistry {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Every request as `METHOD /path`. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a fake registry on an ephemeral port. */
export async function startFakeRegistry(): Promise<FakeRegistry> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const uploading = req.method !== 'GET' && req.method !== 'HEAD';
      res.writeHead(uploading ? 403 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: uploading ? 'this registry accepts no uploads' : 'not found' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
