// VitePress configuration of the WeightFormer.js site. Loading it first regenerates the API reference
// from the packages' TSDoc (failing on an undocumented export) and copies the playground's checkpoints and
// the bench results into public/; the sidebar of the API reference comes from TypeDoc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DefaultTheme, defineConfig } from 'vitepress';
// COOP/COEP: make the site's pages cross-origin isolated (every resource of the site is same-origin).
import { ISOLATION_HEADERS } from '../scripts/static-files.mjs';
import { generateApi } from './api/generate-api';
import { DOCS_ROOT } from './api/packages';
import { wfBackends } from './backends-plugin';
import { copySiteAssets } from './site-assets';

await generateApi();
copySiteAssets();

// The API sidebar lists the modules only: each module's page indexes its symbols. (Listing all ~300
// symbols in every page's sidebar makes each API page several times heavier to load and hydrate.)
const apiModules = (
  JSON.parse(readFileSync(join(DOCS_ROOT, 'api/typedoc-sidebar.json'), 'utf8')) as DefaultTheme.SidebarItem[]
).map(({ text, link }) => ({ text, link }));

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guide',
    items: [
      { text: 'Getting started', link: '/guide/getting-started' },
      { text: 'Concepts', link: '/guide/concepts' },
      { text: 'Choosing a backend', link: '/guide/backends' },
      { text: 'Models and checkpoints', link: '/guide/models' },
      { text: 'The wf command', link: '/guide/cli' },
      { text: 'Gradients', link: '/guide/gradients' },
      { text: 'Training and fine-tuning', link: '/guide/training' },
      { text: 'Receptive fields', link: '/guide/receptive-fields' },
      { text: 'Serving at scale', link: '/guide/serving' },
      { text: 'Reliability', link: '/guide/reliability' },
    ],
  },
  {
    text: 'Try and measure',
    items: [
      { text: 'Playground', link: '/playground' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
  },
  { text: 'API reference', link: '/api/' },
];

const base = process.env.WF_DOCS_BASE ?? '/';

export default defineConfig({
  title: 'WeightFormer.js',
  description: 'Linear-time global visual modeling in JavaScript, on the backend each deployment needs.',
  base,
  lang: 'en-US',
  cleanUrls: false,
  lastUpdated: false,
  srcExclude: ['README.md', 'test/**'],
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${base}favicon.svg` }]],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Playground', link: '/playground' },
      { text: 'Benchmarks', link: '/benchmarks' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiModules }, ...guide.slice(0, 2)],
      '/': guide,
    },
    outline: { level: [2, 3] },
    search: { provider: 'local' },
    footer: { message: 'MIT licensed.' },
  },
  vite: {
    plugins: [wfBackends()],
    // Cross-origin isolation (SharedArrayBuffer), so that the playground's cpu backend runs WebAssembly
    // SIMD on every core: `vitepress dev` sends these headers; `pnpm preview` (scripts/preview.mjs) too.
    server: { headers: ISOLATION_HEADERS },
    preview: { headers: ISOLATION_HEADERS },
    build: { chunkSizeWarningLimit: 2048 },
  },
});
