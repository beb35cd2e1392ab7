// What the built site is served with, shared by `pnpm preview` (scripts/preview.mjs) and the tests' static
// server (test/support/static-server.ts): the content type of each file ending the site uses, and the
// COOP/COEP headers that make its pages cross-origin isolated (as .vitepress/config.ts sends them in dev).

/** Content type by file ending (`extname`); anything else is served as `application/octet-stream`. */
export const CONTENT_TYPES = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
});

/** The content type of a file with ending `ext` (as `extname` gives it). */
export function contentType(ext) {
  return Object.hasOwn(CONTENT_TYPES, ext) ? CONTENT_TYPES[ext] : 'application/octet-stream';
}

/** COOP/COEP: the headers that make a page cross-origin isolated (SharedArrayBuffer, threads). */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
});
