// The API reference covers every export: for each public entry point of each published @wf/* package,
// the TypeScript compiler lists the entry's exports (from its source, as tsconfig.api.json resolves it),
// and the built site must have that entry's module page linking each export to a page titled with its
// name. An export without a page, or a page without an export, fails.
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DOCS_ROOT, publicPackages } from '../.vitepress/api/packages';
import { DIST } from './support/site';
import { type StaticServer, serveStatic } from './support/static-server';

const entries = publicPackages().flatMap((p) => p.entries);

/** Export names of every entry, from one TypeScript program over the entry sources. */
function exportNames(): Map<string, string[]> {
  const configPath = join(DOCS_ROOT, 'tsconfig.api.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, DOCS_ROOT);
  const program = ts.createProgram({ rootNames: entries.map((e) => e.source), options: parsed.options });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const e of entries) {
    const file = program.getSourceFile(e.source);
    const symbol = file && checker.getSymbolAtLocation(file);
    if (!symbol) throw new Error(`cannot read the exports of ${e.specifier} (${e.source})`);
    out.set(
      e.specifier,
      checker
        .getExportsOfModule(symbol)
        .map((s) => s.getName())
        .sort(),
    );
  }
  return out;
}

let server: StaticServer;
let exported: Map<string, string[]>;

beforeAll(async () => {
  server = await serveStatic(DIST);
  exported = exportNames();
});

afterAll(async () => {
  await server?.close();
});

/** Decodes the few entities TypeDoc/VitePress put in link texts. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\u200b/g, '')
    .trim();

describe('API reference', () => {
  test('documents every public entry point of every published package', () => {
    expect(entries.map((e) => e.specifier)).toEqual(
      expect.arrayContaining([
        '@wf/core',
        '@wf/core/testing',
        '@wf/backend-cpu',
        '@wf/models',
        '@wf/models/node',
        '@wf/cli',
      ]),
    );
  });

  test.each(entries.map((e) => [e.specifier, e] as const))(
    '%s: a page for every export',
    async (specifier) => {
      const names = exported.get(specifier)!;
      expect(names.length).toBeGreaterThan(0);
      const modulePath = `/api/${specifier.replace(/^@wf\//, '')}/index.html`;
      const res = await fetch(`${server.origin}${modulePath}`);
      expect(res.status, `${modulePath} must exist`).toBe(200);
      const html = await res.text();
      const links = new Map<string, string>();
      const contentStart = html.indexOf('class="vp-doc');
      for (const m of html.slice(contentStart).matchAll(/<a [^>]*href="([^"#]+)"[^>]*>(.*?)<\/a>/g)) {
        links.set(text(m[2]), new URL(m[1], `${server.origin}${modulePath}`).pathname);
      }
      const missing = names.filter((n) => !links.has(n));
      expect(missing, `exports of ${specifier} without a link on ${modulePath}`).toEqual([]);
      const bad: string[] = [];
      for (const name of names) {
        let path = links.get(name)!;
        if (path.endsWith('/')) path += 'index.html';
        const page = await fetch(`${server.origin}${path}`);
        if (page.status !== 200) {
          bad.push(`${name}: ${path} HTTP ${page.status}`);
          continue;
        }
        const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(await page.text());
        if (!h1 || !text(h1[1]).includes(name)) bad.push(`${name}: ${path} has no title naming it`);
      }
      expect(bad).toEqual([]);
      // And no symbol page for something that is not exported.
      const symbolPages = [...links].filter(([, p]) =>
        /\/(classes|interfaces|functions|type-aliases|variables|enumerations|namespaces)\//.test(p),
      );
      const direct = symbolPages.filter(([, p]) => p.startsWith(modulePath.replace(/index\.html$/, '')));
      expect(direct.map(([n]) => n).filter((n) => !names.includes(n))).toEqual([]);
    },
  );
});
