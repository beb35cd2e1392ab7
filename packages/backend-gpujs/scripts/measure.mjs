// Times a WFM-T forward pass on every gpu.js mode that runs here against @wf/backend-cpu, in one process,
// and prints a markdown table: median of interleaved runs per backend and size, the ratio to the cpu
// backend measured in the same rounds, and the first run (kernel compilation included).
//
//   pnpm --filter @wf/backend-gpujs build && node scripts/measure.mjs [--sizes 224,896] [--runs 5]
//     [--modes webasm,headlessgl,cpu] [--threads] [--weights ../shared/fixtures/reference/wfm-tiny.safetensors]
//   node scripts/measure.mjs --browser [--modes webgl2,webgpu,webasm] ...   (in headless Chromium)
//
// Run under `xvfb-run -a` for headlessgl. Without --weights the model is `randomModel('wfm-tiny')` (same
// architecture and cost; random weights; the browser always uses it). With --browser the same timing runs
// in a page of Debian's Chromium (SwiftShader WebGL2/WebGPU), against @wf/backend-cpu in that page.
// Timings on a shared machine are noisy: compare the ratios.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend } from '@wf/backend-cpu';
import { loadModel, randomModel } from '@wf/models';
import { chromiumLaunchOptions } from '@wf/test-fixtures';
import { createGpujsBackend } from '../dist/index.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}

const browser = arg('browser', false) === true;
const sizes = String(arg('sizes', '224')).split(',').map(Number);
const runs = Number(arg('runs', 5));
const modes = String(arg('modes', browser ? 'webgl2,webgpu,webasm' : 'webasm,headlessgl,cpu')).split(',');
const threads = arg('threads', false) === true;
const weights = arg('weights', undefined);
const maxSeconds = Number(arg('max-seconds', 120));

/**
 * Times `model` on @wf/backend-cpu and each gpu.js mode: a first run (compilation included), then `runs`
 * interleaved rounds. Runs in Node and, bundled, in the browser page.
 */
async function measure({
  model,
  sizes,
  runs,
  modes,
  threads,
  maxSeconds,
  createCpuBackend,
  createGpujsBackend,
}) {
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const image = (size) => {
    const n = 3 * size * size;
    const data = new Float32Array(n);
    let s = 1;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = (s / 2 ** 32) * 4 - 2;
    }
    return { dtype: 'float32', shape: [1, 3, size, size], data };
  };
  const backends = [{ label: '@wf/backend-cpu', backend: createCpuBackend() }];
  const skipped = [];
  for (const mode of modes) {
    try {
      const b = await createGpujsBackend({ mode, threads });
      backends.push({
        label: b.name + (b.info.threads ? ' (threads)' : ''),
        backend: b,
        device: b.info.device,
      });
    } catch (e) {
      skipped.push(`${mode}: ${e.message}`);
    }
  }
  const rows = [];
  for (const size of sizes) {
    const input = image(size);
    const live = [];
    for (const entry of backends) {
      const t0 = performance.now();
      try {
        await model.run(entry.backend, input);
        const first = performance.now() - t0;
        if (first / 1000 > maxSeconds) {
          rows.push({
            size,
            label: entry.label,
            first,
            times: [],
            note: `first run over ${maxSeconds} s; not repeated`,
          });
        } else live.push({ ...entry, first, times: [] });
      } catch (e) {
        rows.push({ size, label: entry.label, first: Number.NaN, times: [], note: `failed: ${e.message}` });
      }
    }
    for (let r = 0; r < runs; r++) {
      for (const entry of r % 2 ? [...live].reverse() : live) {
        const t0 = performance.now();
        await model.run(entry.backend, input);
        entry.times.push(performance.now() - t0);
      }
    }
    for (const e of live)
      rows.push({ size, label: e.label, first: e.first, median: median(e.times), runs: e.times.length });
    await model.dispose();
  }
  const devices = backends.filter((b) => b.device).map((b) => ({ label: b.label, device: b.device }));
  for (const { backend } of backends) backend.dispose();
  return { rows, skipped, devices };
}

/** Runs `measure` in headless Chromium on a page served from 127.0.0.1 (cross-origin isolated). */
async function measureInBrowser(options) {
  const { build } = await import('esbuild');
  const { chromium } = await import('playwright-core');
  const here = dirname(fileURLToPath(import.meta.url));
  const stub = {
    name: 'node-builtins-stub',
    setup(b) {
      b.onResolve({ filter: /^(node:)?(path|url|fs|fs\/promises|module|zlib)$/ }, (a) => ({
        path: a.path,
        namespace: 'stub',
      }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        loader: 'js',
        contents:
          'export default {}; export const fileURLToPath = () => ""; export const dirname = () => ""; export const join = () => "";',
      }));
    },
  };
  const page = [
    "import { createCpuBackend } from '@wf/backend-cpu';",
    "import { randomModel } from '@wf/models';",
    "import { createGpujsBackend } from './dist/index.js';",
    `const measure = ${measure.toString()};`,
    "globalThis.runMeasure = (o) => measure({ ...o, model: randomModel('wfm-tiny'), createCpuBackend, createGpujsBackend });",
  ].join('\n');
  const out = await build({
    stdin: { contents: page, resolveDir: join(here, '..'), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    plugins: [stub],
    external: ['gl', 'webgpu'],
    logLevel: 'error',
  });
  const js = out.outputFiles[0].text;
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  };
  const server = createServer((req, res) => {
    if (req.url === '/')
      res
        .writeHead(200, { ...headers, 'Content-Type': 'text/html' })
        .end('<script type="module" src="/m.js"></script>');
    else if (req.url === '/m.js')
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
    else res.writeHead(404, headers).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const chrome = await chromium.launch(chromiumLaunchOptions());
  try {
    const tab = await chrome.newPage();
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => typeof globalThis.runMeasure === 'function');
    return await tab.evaluate((o) => globalThis.runMeasure(o), options);
  } finally {
    await chrome.close();
    server.close();
  }
}

const options = { sizes, runs, modes, threads, maxSeconds };
const { rows, skipped, devices } = browser
  ? await measureInBrowser(options)
  : await measure({
      ...options,
      model: weights ? await loadModel(String(weights)) : randomModel('wfm-tiny'),
      createCpuBackend,
      createGpujsBackend,
    });

const fmt = (ms) => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) : '-');
const where = browser ? 'Chromium (headless, SwiftShader)' : `Node ${process.version}`;
const what = weights && !browser ? 'reference weights' : "randomModel('wfm-tiny')";
console.log(`WFM-T (${what}) forward, batch 1, ${where}, median of ${runs} interleaved runs\n`);
console.log('| size | backend | median ms | vs @wf/backend-cpu | first run ms (compile + run) |');
console.log('| ---: | --- | ---: | ---: | ---: |');
for (const size of sizes) {
  const base = rows.find((r) => r.size === size && r.label === '@wf/backend-cpu');
  const baseMed = base?.median ?? Number.NaN;
  for (const r of rows.filter((x) => x.size === size)) {
    const med = r.median ?? Number.NaN;
    const ratio = Number.isFinite(med) && Number.isFinite(baseMed) ? `${(med / baseMed).toFixed(2)}x` : '-';
    console.log(
      `| ${size} | ${r.label} | ${fmt(med)} | ${ratio} | ${fmt(r.first)}${r.note ? ` (${r.note})` : ''} |`,
    );
  }
}
for (const d of devices) console.log(`\n${d.label}: ${JSON.stringify(d.device)}`);
if (skipped.length) console.log(`\nnot measured: ${skipped.join('; ')}`);
