// `pnpm preview`: serves the built site (.vitepress/dist) like `vitepress preview`, plus the COOP/COEP
// headers that make its pages cross-origin isolated, so the playground's cpu backend gets SharedArrayBuffer
// and runs WebAssembly SIMD on every core (`vitepress preview` cannot send headers). Honours WF_DOCS_BASE
// and PORT (default 4173).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentType, ISOLATION_HEADERS } from './static-files.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '.vitepress', 'dist');
const base = `/${(process.env.WF_DOCS_BASE ?? '/').replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
const port = Number(process.env.PORT ?? 4173);
if (!existsSync(join(root, 'index.html'))) {
  console.error(`docs preview: no built site in ${root}; run pnpm --filter docs build first`);
  process.exit(1);
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let path = decodeURIComponent(url.pathname);
  if (!path.startsWith(base)) path = '/404.html';
  else path = `/${path.slice(base.length)}`;
  if (path.endsWith('/')) path += 'index.html';
  let file = normalize(join(root, path));
  // clean URLs: /guide/cli -> /guide/cli.html
  if (!extname(file) && existsSync(`${file}.html`)) file = `${file}.html`;
  const ok = file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile();
  if (!ok) file = join(root, '404.html');
  res.writeHead(ok ? 200 : 404, {
    ...ISOLATION_HEADERS,
    'Content-Type': contentType(extname(file)),
    'Cache-Control': 'no-cache',
  });
  createReadStream(file).pipe(res);
}).listen(port, () =>
  console.log(`Built site served, cross-origin isolated, at http://localhost:${port}${base}`),
);
