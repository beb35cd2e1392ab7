// The getting-started page's snippets, run as they are written: every ```ts block of
// guide/getting-started.md is compiled (types stripped) and run with Node in a folder holding the files it
// names (the WFM-T checkpoint from the shared fixtures, cat.jpg, dog.webp, digit.png). Blocks whose first
// line is a `// (...)` note (browser, needs a web server, fragment) are not run; their number is checked.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sharedPath } from '@wf/test-fixtures';
import { transform } from 'esbuild';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const DOCS = dirname(dirname(fileURLToPath(import.meta.url)));
const page = readFileSync(join(DOCS, 'guide/getting-started.md'), 'utf8');
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const runnable = blocks.filter((b) => !b.startsWith('// ('));
/** Where the compiled snippets go: inside docs/node_modules, so that `@wf/...` imports resolve. */
const SNIPPETS = join(DOCS, 'node_modules/.wf-snippets');
let work: string;

function image(w: number, h: number, f: (x: number, y: number) => number[]): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([...f(x, y), 255], (y * w + x) * 4);
  return d;
}

beforeAll(async () => {
  const tiny = sharedPath('fixtures/reference/wfm-tiny.safetensors');
  if (!tiny)
    throw new Error('the shared fixtures (../shared) are needed: fixtures/reference/wfm-tiny.safetensors');
  work = mkdtempSync(join(tmpdir(), 'wf-getting-started-'));
  symlinkSync(tiny, join(work, 'wfm-tiny.safetensors'));
  const cat = image(300, 200, (x, y) => [(x * 3) & 255, (y * 5) & 255, ((x + y) * 2) & 255]);
  writeFileSync(join(work, 'cat.jpg'), encodeJpeg({ width: 300, height: 200, data: cat }, 90).data);
  const enc = await import('@jsquash/webp/encode.js');
  const wasm = createRequire(import.meta.url).resolve('@jsquash/webp/codec/enc/webp_enc.wasm');
  await enc.init(await WebAssembly.compile(readFileSync(wasm)));
  const dog = new Uint8ClampedArray(image(160, 120, (x, y) => [(y * 7) & 255, 128, (x * 9) & 255]));
  writeFileSync(
    join(work, 'dog.webp'),
    new Uint8Array(await enc.default({ width: 160, height: 120, data: dog } as ImageData)),
  );
  // A dark "1" on white, as a photo of a written digit.
  const digit = new PNG({ width: 56, height: 56 });
  digit.data = Buffer.from(
    image(56, 56, (x, y) => (x >= 24 && x < 32 && y >= 8 && y < 48 ? [20, 20, 20] : [250, 250, 250])),
  );
  writeFileSync(join(work, 'digit.png'), PNG.sync.write(digit));
  mkdirSync(SNIPPETS, { recursive: true });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  rmSync(SNIPPETS, { recursive: true, force: true });
});

/** What each runnable snippet must print (in order of the page), as patterns over its stdout. */
const EXPECTED: RegExp[][] = [
  [/label: '.+'/, /probability: 0\.\d+/],
  [/^\S.* \S.*$/m, /channels: 3, height: 224, width: 224 } 1000/],
  [/\[ 192 \] \[ 196, 192 \]/],
  [/^a [0-9], \d+\.\d% sure$/m],
  [/ %$/m],
  [/^label \d, predicted \d$/m],
];

describe('getting-started snippets', () => {
  test('the page has the snippets this test knows', () => {
    expect(runnable).toHaveLength(EXPECTED.length);
    expect(blocks.length - runnable.length).toBe(3);
  });

  test.each(runnable.map((code, i) => [i + 1, code] as const))(
    'snippet %i runs as written',
    async (i, code) => {
      const { code: js } = await transform(code, { loader: 'ts', format: 'esm', target: 'node20' });
      const file = join(SNIPPETS, `snippet-${i}.mjs`);
      writeFileSync(file, js);
      const { stdout } = await promisify(execFile)(process.execPath, [file], {
        cwd: work,
        timeout: 120_000,
        env: { ...process.env, WF_CACHE_DIR: join(work, 'cache') },
      });
      for (const p of EXPECTED[i - 1]) expect(stdout).toMatch(p);
    },
  );
});
