// A consumer outside the workspace: a temporary project installs the packed tarballs of every published
// package with npm (third-party dependencies from the registry, install scripts off), then classifies
// MNIST test digits with the built-in WeightFormer in Node ESM, in CommonJS (the packages that ship it),
// through the `wf` command, and in a browser page bundled with esbuild and loaded in Chromium.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { launchChromium } from '../src/browser.js';
import { run } from '../src/run.js';
import { serveStatic } from '../src/static-server.js';
import { publishedPackages, REPO_ROOT, shipsCjs } from '../src/workspace.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../fixture');
/** Positions in the MNIST test split of the digits classified (a 0, a 4 and a 7). */
const POSITIONS = [0, 850, 1450];

let app: string;

interface Classified {
  results: { position: number; label: number; predicted: number }[];
  resolved: string[];
}

beforeAll(async () => {
  app = join(inject('workdir'), 'consumer');
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'wf-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  for (const f of ['classify.mjs', 'classify.cjs', 'page.js']) copyFileSync(join(FIXTURE, f), join(app, f));
  const tarballs = Object.values(inject('tarballs'));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--prefer-offline',
      '--loglevel=error',
      ...tarballs,
    ],
    { cwd: app, timeoutMs: 600_000 },
  );
});

/** Checks that every digit was classified correctly and that the packages came from the consumer. */
function expectCorrect(out: Classified): void {
  expect(out.results.map((r) => r.position)).toEqual(POSITIONS);
  for (const r of out.results) expect(r.predicted, `test digit ${r.position} (a ${r.label})`).toBe(r.label);
  for (const r of out.resolved) {
    const path = r.startsWith('file:') ? fileURLToPath(r) : r;
    expect(path.startsWith(join(app, 'node_modules'))).toBe(true);
    expect(path.startsWith(REPO_ROOT)).toBe(false);
  }
}

describe('consumer fixture outside the workspace', () => {
  test('installs every published package from its tarball', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string }>;
    };
    for (const p of publishedPackages()) {
      const entry = lock.packages[`node_modules/${p.name}`];
      expect(entry?.version, p.name).toBe(p.manifest.version);
      expect(entry?.resolved ?? '', `${p.name} comes from its tarball`).toMatch(/\.tgz$/);
    }
  });

  test('Node ESM: classifies MNIST digits with the built-in WeightFormer', async () => {
    const res = await run(process.execPath, ['classify.mjs', JSON.stringify(POSITIONS)], { cwd: app });
    expectCorrect(JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Classified);
  });

  test('Node CommonJS: require() works for the packages that ship CJS', async () => {
    const cjs = publishedPackages().filter((p) => shipsCjs(p.manifest));
    expect(cjs.map((p) => p.name)).toEqual(
      expect.arrayContaining(['@wf/core', '@wf/models', '@wf/backend-cpu']),
    );
    const res = await run(process.execPath, ['classify.cjs', JSON.stringify(POSITIONS)], { cwd: app });
    expectCorrect(JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Classified);
    for (const p of cjs) {
      const r = await run(process.execPath, ['-e', `require(${JSON.stringify(p.name)})`], {
        cwd: app,
        allowFailure: true,
      });
      expect(r.code, `require('${p.name}'):\n${r.stderr}`).toBe(0);
    }
  });

  test('the wf command classifies an MNIST digit', async () => {
    const res = await run(
      join(app, 'node_modules/.bin/wf'),
      ['classify', 'mnist:0', '--json', '--top', '1'],
      {
        cwd: app,
      },
    );
    const out = JSON.parse(res.stdout) as { label: number; predictions: { index: number }[] };
    expect(out.predictions[0].index).toBe(out.label);
  });

  test('browser: an esbuild bundle classifies MNIST digits in Chromium', async () => {
    // The digits come from the installed package itself (its Node entry), by path.
    const { loadMnistDigits, mnistTestSplit } = (await import(
      join(app, 'node_modules/@wf/models/dist/node.js')
    )) as {
      loadMnistDigits(): { images: Float32Array[]; labels: number[] };
      mnistTestSplit(): { indices: number[] };
    };
    const digits = loadMnistDigits();
    const split = mnistTestSplit();
    const sample = POSITIONS.map((k) => ({
      label: digits.labels[split.indices[k]],
      pixels: [...digits.images[split.indices[k]]],
    }));
    writeFileSync(join(app, 'digits.json'), JSON.stringify(sample));
    const www = join(app, 'www');
    mkdirSync(www, { recursive: true });
    let bundleError = '';
    try {
      await build({
        absWorkingDir: app,
        entryPoints: ['page.js'],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        outfile: join(www, 'page.js'),
        logLevel: 'silent',
      });
    } catch (e) {
      bundleError = (e as Error).message;
    }
    expect(
      bundleError,
      'bundling @wf/models + @wf/backend-cpu for the browser must work without options (no Node built-ins)',
    ).toBe('');
    copyFileSync(
      join(app, 'node_modules/@wf/models/weights/wfm-mnist.safetensors'),
      join(www, 'wfm-mnist.safetensors'),
    );
    writeFileSync(
      join(www, 'index.html'),
      '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>',
    );
    const server = await serveStatic(www);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.origin}/index.html`);
      await page.waitForSelector('body[data-predictions], body[data-error]', {
        state: 'attached',
        timeout: 60_000,
      });
      const error = await page.getAttribute('body', 'data-error');
      expect(error).toBeNull();
      const predictions = JSON.parse((await page.getAttribute('body', 'data-predictions'))!) as number[];
      expect(predictions).toEqual(sample.map((s) => s.label));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
