// The CLI's error rule, case by case: every user error (bad weights files, bad image files, bad options)
// exits non-zero with exactly one line on stderr, `wf: <what is wrong>`, with no stack trace, and nothing on
// stdout; with --verbose the stack trace is printed instead. The program runs in-process as in
// program.test.ts (the built dist may be rebuilt while tests run); anything written to the real stdout or
// stderr behind `io`'s back fails the case too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { parseSafetensors, serializeSafetensors, type TensorData } from '@wf/core';
import { fixturePath, pngChunk, readFixture } from '@wf/test-fixtures';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './program.js';

interface Outcome {
  code: number;
  out: string[];
  err: string[];
  /** What reached the real process.stdout / process.stderr during the run. */
  stray: string[];
}

async function wf(...args: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const stray: string[] = [];
  const capture = (chunk: unknown): boolean => {
    stray.push(String(chunk));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write'), vi.spyOn(process.stderr, 'write')];
  for (const s of spies) s.mockImplementation(capture);
  try {
    const code = await main(['node', 'wf', ...args], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err, stray };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

const dir = mkdtempSync(join(tmpdir(), 'wf-cli-user-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Weights files

const micro = fixturePath('reference/wfm-micro.safetensors');
const io80 = fixturePath('reference/wfm-micro-80.io.safetensors');
const dit = fixturePath('reference/wfm-dit-micro-16.safetensors');
const microBytes = readFixture('reference/wfm-micro.safetensors');
const microTensors: Record<string, TensorData> = (() => {
  const st = parseSafetensors(microBytes);
  return Object.fromEntries(st.names().map((n) => [n, st.tensor(n)]));
})();

/** A safetensors file from its 8-byte header length and header text, then `data` bytes. */
function rawSafetensors(headerLength: bigint, header: string, data = 0): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, headerLength, true);
  out.set(h, 8);
  return out;
}

const json = (o: unknown) => JSON.stringify(o);
const randomBytes = Uint8Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 24) & 255);
const dropped = Object.keys(microTensors).find((n) => /^blocks\.1\..*\.bias$/.test(n)) ?? '';
const misShaped = Object.keys(microTensors).find((n) => microTensors[n].shape.length === 2) ?? '';
const weights = {
  missing: join(dir, 'no-such-weights.safetensors'),
  random: file('random.safetensors', randomBytes),
  text: file('notes.safetensors', 'hello, this is not a checkpoint\n'),
  empty: file('empty.safetensors', new Uint8Array(0)),
  truncated: file('truncated.safetensors', microBytes.subarray(0, 5000)),
  truncatedData: file('truncated-data.safetensors', microBytes.subarray(0, microBytes.length - 1000)),
  headerPastEnd: file('header-past-end.safetensors', rawSafetensors(10n ** 12n, '{"a":', 56)),
  headerMaxU64: file('header-max.safetensors', rawSafetensors(2n ** 64n - 1n, '{}')),
  headerNotJson: file('header-not-json.safetensors', rawSafetensors(14n, '{"x": [1, 2, 3')),
  offsetsPastEnd: file(
    'offsets-past-end.safetensors',
    rawSafetensors(
      BigInt(json({ w: { dtype: 'F32', shape: [1000, 1000], data_offsets: [0, 4e6] } }).length),
      json({ w: { dtype: 'F32', shape: [1000, 1000], data_offsets: [0, 4e6] } }),
      16,
    ),
  ),
  unrelated: file(
    'unrelated.safetensors',
    serializeSafetensors({ foo: { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) } }),
  ),
  missingTensor: file(
    'missing-tensor.safetensors',
    serializeSafetensors(Object.fromEntries(Object.entries(microTensors).filter(([n]) => n !== dropped))),
  ),
  misShaped: file(
    'mis-shaped.safetensors',
    serializeSafetensors({
      ...microTensors,
      [misShaped]: (() => {
        const [r, c] = microTensors[misShaped].shape;
        return { dtype: 'float32' as const, shape: [r, c + 1], data: new Float32Array(r * (c + 1)) };
      })(),
    }),
  ),
};

// ---------------------------------------------------------------------------------------------------------
// Image files

const chunk = pngChunk;

/** An 8-bit RGB PNG of `width x height` (a gradient), or only its header when `raw` is undefined. */
function png(width: number, height: number, raw?: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows =
    raw ??
    Uint8Array.from({ length: height * (1 + 3 * width) }, (_, i) =>
      i % (1 + 3 * width) === 0 ? 0 : i & 255,
    );
  return Uint8Array.from(
    Buffer.concat([
      Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

const goodPng = png(40, 30);
const badCrc = Uint8Array.from(goodPng);
badCrc[50] ^= 0xff; // inside the IDAT chunk
/** A 16x16 jpeg-js JPEG cut at 80% of its 790 bytes, inside the scan data. */
const TRUNCATED_JPEG =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PT' +
  'gyPC4zNDIBCQkJDAsMGA0NGDIhHCEyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMv/AABEIABAAEAMB' +
  'EQACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCC' +
  'NCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqi' +
  'o6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQ' +
  'oLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdI' +
  'SUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+' +
  'Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/AK82jeEoLYzWxt5WQZMSxs7N9MhR696+ojg=';

/** The truncated JPEG with its frame header rewritten to claim 10000x10000 pixels (100 MP, within the limit). */
function claimingJpeg(): Uint8Array {
  const b = Uint8Array.from(Buffer.from(TRUNCATED_JPEG, 'base64'));
  let p = 2;
  while (!(b[p] === 0xff && b[p + 1] === 0xc0)) p++;
  new DataView(b.buffer).setUint16(p + 5, 10000);
  new DataView(b.buffer).setUint16(p + 7, 10000);
  return b;
}

const images = {
  good: file('good.png', goodPng),
  missing: join(dir, 'no-such-image.png'),
  badCrc: file('bad-crc.png', badCrc),
  badData: file('bad-data.png', png(4, 4, Uint8Array.of(0, 1, 2))), // image data too short, CRCs fine
  badChunk: file(
    'bad-chunk.png',
    Uint8Array.from(
      Buffer.concat([goodPng.subarray(0, 33), Uint8Array.of(0, 0, 0, 0, 0x1b, 0x5b, 0x32, 0x0a)]),
    ),
  ),
  truncatedPng: file('truncated.png', goodPng.subarray(0, goodPng.length - 30)),
  truncatedJpeg: file('truncated.jpg', Buffer.from(TRUNCATED_JPEG, 'base64')),
  empty: file('empty.png', new Uint8Array(0)),
  text: file('not-an-image.png', 'just some text\n'),
  huge: file('huge.png', png(60000, 60000, new Uint8Array(0))),
  claiming: file('claiming.jpg', claimingJpeg()),
  directory: mkdtempSync(join(tmpdir(), 'wf-cli-empty-')),
};

// ---------------------------------------------------------------------------------------------------------
// Inputs of `wf run`

function input(name: string, tensors: Record<string, TensorData>): string {
  return file(name, serializeSafetensors(tensors));
}
const f32 = (shape: number[]): TensorData => ({
  dtype: 'float32',
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.25),
});
const inputs = {
  size60: input('in-60.safetensors', { input: f32([1, 3, 60, 60]) }),
  rank3: input('in-rank3.safetensors', { input: f32([3, 64, 64]) }),
  gray: input('in-gray.safetensors', { input: f32([1, 1, 64, 64]) }),
  noInput: input('in-none.safetensors', { x: f32([1, 3, 64, 64]) }),
};
const out = join(dir, 'out.safetensors');
const run = (...more: string[]) => ['run', '--input', io80, '--output', out, ...more];

// ---------------------------------------------------------------------------------------------------------
// The cases

type Case = [label: string, args: string[], message: RegExp];

const weightsCases: Case[] = [
  ['missing weights file', run('--weights', weights.missing), /no-such-weights.*ENOENT/],
  ['missing weights file (info)', ['info', weights.missing], /no-such-weights.*ENOENT/],
  [
    'missing weights file (classify --model)',
    ['classify', images.good, '--model', weights.missing],
    /ENOENT/,
  ],
  ['random bytes', run('--weights', weights.random), /random.safetensors" is not a valid safetensors file/],
  ['a text file', run('--weights', weights.text), /notes.safetensors" is not a valid safetensors file/],
  ['an empty file', run('--weights', weights.empty), /empty.safetensors" is not a valid safetensors file/],
  ['truncated in the header', run('--weights', weights.truncated), /not a valid safetensors file/],
  ['truncated in the data', run('--weights', weights.truncatedData), /not a valid safetensors file/],
  ['header length past the end', run('--weights', weights.headerPastEnd), /not a valid safetensors file/],
  ['header length 2^64 - 1', run('--weights', weights.headerMaxU64), /not a valid safetensors file/],
  ['header not JSON', run('--weights', weights.headerNotJson), /not a valid safetensors file/],
  ['data offsets past the end', run('--weights', weights.offsetsPastEnd), /not a valid safetensors file/],
  ['no tensor of any model', run('--weights', weights.unrelated), /architecture/],
  ['no tensor of the model asked for', run('--weights', weights.unrelated, '--arch', 'wfm'), /missing/],
  ['a tensor missing', run('--weights', weights.missingTensor), /missing/],
  ['a tensor mis-shaped', run('--weights', weights.misShaped), /is \[\d+,\d+\], expected \[\d+,\d+\]/],
  ['a wfm checkpoint as vit', run('--weights', micro, '--arch', 'vit', '--heads', '2'), /missing/],
  ['inputs not safetensors', ['run', '--weights', micro, '--input', images.good, '--output', out], /valid/],
];

const imageCases: Case[] = [
  [
    'missing image file',
    ['classify', images.missing, '--model', 'wfm-mnist'],
    /cannot read image file ".*no-such-image.png": ENOENT/,
  ],
  [
    'a directory as the image',
    ['classify', images.directory, '--model', 'wfm-mnist'],
    /folder ".*" holds no PNG, JPEG, WebP, GIF or BMP file/,
  ],
  [
    'PNG with a damaged chunk (CRC)',
    ['classify', images.badCrc, '--model', 'wfm-mnist'],
    /corrupt or truncated PNG: .*CRC/,
  ],
  [
    'PNG with too little image data',
    ['classify', images.badData, '--model', 'wfm-mnist'],
    /corrupt or truncated PNG: the image data/,
  ],
  [
    'PNG with control bytes as a chunk type',
    ['classify', images.badChunk, '--model', 'wfm-mnist'],
    /\\x1b\[2\\x0a chunk/,
  ],
  ['truncated PNG', ['classify', images.truncatedPng, '--model', 'wfm-mnist'], /corrupt or truncated PNG: /],
  [
    'truncated JPEG',
    ['classify', images.truncatedJpeg, '--model', 'wfm-mnist'],
    /truncated.jpg: corrupt or truncated JPEG: /,
  ],
  ['truncated JPEG (checkpoint model)', ['classify', images.truncatedJpeg, '--model', micro], /JPEG/],
  [
    'empty image file',
    ['classify', images.empty, '--model', 'wfm-mnist'],
    /empty.png: image data is empty \(0 bytes\)/,
  ],
  [
    'not an image',
    ['classify', images.text, '--model', 'wfm-mnist'],
    /unsupported image format \(expected PNG, JPEG, WebP, GIF or BMP\)/,
  ],
  [
    'image header over the default pixel limit',
    ['classify', images.huge, '--model', 'wfm-mnist'],
    /image is 60000x60000 = 3600 MP, over the 100 MP limit; pass --max-pixels to raise it/,
  ],
  [
    'small JPEG whose header claims 10000x10000 pixels',
    ['classify', images.claiming, '--model', 'wfm-mnist'],
    /claiming.jpg: corrupt or truncated JPEG: the file has 632 bytes, fewer than the 390625 that/,
  ],
  [
    'image over --max-pixels',
    ['classify', images.good, '--max-pixels', '1000', '--model', 'wfm-mnist'],
    /image is 40x30 = 0\.0012 MP, over the 0\.001 MP limit; pass --max-pixels to raise it/,
  ],
];

const optionCases: Case[] = [
  ['unknown backend', run('--weights', micro, '--backend', 'tpu'), /unknown backend "tpu"/],
  ['unknown backend (classify)', ['classify', 'mnist:0', '--backend', 'tpu'], /unknown backend "tpu"/],
  ['unknown gpujs mode', run('--weights', micro, '--backend', 'gpujs:warp'), /unknown mode "warp"/],
  ['a mode for cpu', run('--weights', micro, '--backend', 'cpu:fast'), /backend cpu has one mode, plain/],
  [
    '--threads with gpujs',
    run('--weights', micro, '--backend', 'gpujs', '--threads', '2'),
    /applies to the cpu and ort backends/,
  ],
  ['--top abc', ['classify', 'mnist:0', '--top', 'abc'], /'--top <k>' argument 'abc' is invalid/],
  ['--top 0', ['classify', 'mnist:0', '--top', '0'], /--top must be a positive integer/],
  ['--top -1', ['classify', 'mnist:0', '--top', '-1'], /--top must be a positive integer/],
  ['--top 2.5', ['classify', 'mnist:0', '--top', '2.5'], /--top must be a positive integer/],
  [
    '--threads 0',
    ['classify', 'mnist:0', '--threads', '0'],
    /--threads must be a positive integer up to 256/,
  ],
  ['--threads abc', run('--weights', micro, '--threads', 'abc'), /--threads must be a positive integer/],
  ['--threads 100000', ['demo', '--threads', '100000'], /--threads must be a positive integer up to 256/],
  ['--repeat 0', run('--weights', micro, '--repeat', '0'), /--repeat must be a positive integer/],
  ['--heads 0', run('--weights', micro, '--heads', '0'), /--heads must be a positive integer/],
  ['--cfg-scale abc', run('--weights', dit, '--cfg-scale', 'abc'), /--cfg-scale must be a number/],
  ['--max-pixels 0', ['classify', images.good, '--max-pixels', '0'], /--max-pixels must be a positive/],
  ['--max-pixels abc', ['classify', images.good, '--max-pixels', 'abc'], /--max-pixels must be a positive/],
  ['--digits 0', ['demo', '--digits', '0'], /--digits must be a positive integer/],
  ['--max-tokens 100', ['demo', '--max-tokens', '100'], /--max-tokens must be a square number >= 196/],
  ['--max-tokens 200', ['demo', '--max-tokens', '200'], /--max-tokens must be a square number >= 196/],
  ['bad mnist index', ['classify', 'mnist:5000'], /indices 0..2003/],
  ['negative mnist index', ['classify', 'mnist:-1'], /indices 0..2003/],
  ['unknown --arch', run('--weights', micro, '--arch', 'resnet'), /argument 'resnet' is invalid/],
  ['unknown option', ['classify', 'mnist:0', '--thread', '2'], /unknown option '--thread' \(Did you mean/],
  ['unknown command', ['clasify', 'mnist:0'], /unknown command 'clasify'/],
  ['missing option', ['run', '--input', io80], /required option '--model <name\|file\|url>' not specified/],
  ['missing argument', ['classify'], /missing required argument 'images'/],
  [
    'an image without --model',
    ['classify', images.good],
    /classifying an image needs --model: a built-in model \(wfm-mnist, vit-mnist\)/,
  ],
  [
    'a variant name as --model',
    ['info', '--model', 'wfm-tiny'],
    /"wfm-tiny" is a model variant, not a checkpoint/,
  ],
  [
    'an unknown model name',
    ['info', '--model', 'wfm-tinyy'],
    /unknown model "wfm-tinyy": use a built-in model/,
  ],
  [
    '--res 12x',
    ['classify', images.good, '--model', micro, '--res', '12x'],
    /--res must be a positive integer N or WxH/,
  ],
];

const shapeCases: Case[] = [
  ['--res abc', ['info', micro, '--res', 'abc'], /--res must be a positive integer/],
  ['--res 0', ['info', micro, '--res', '0'], /--res must be a positive integer/],
  ['--res not a multiple of the patch', ['info', micro, '--res', '60'], /multiple of the patch size 8/],
  ['--res for wfm-dit', ['info', dit, '--res', '64'], /wfm-dit runs at its input size/],
  [
    'input size not a multiple of the patch',
    run('--weights', micro, '--input', inputs.size60),
    /patch size 8/,
  ],
  [
    'input of rank 3',
    run('--weights', micro, '--input', inputs.rank3),
    /must be \[B, C, H, W\], got \[3,64,64\]/,
  ],
  [
    'input with 1 channel',
    run('--weights', micro, '--input', inputs.gray),
    /has 1 channels; the model expects 3/,
  ],
  ['no "input" tensor', run('--weights', micro, '--input', inputs.noInput), /has no tensor "input"/],
  ['image file for a DiT', ['classify', images.good, '--model', dit], /classifier/],
];

/** The rule: non-zero exit, exactly one line `wf: ...` on stderr, no stack, nothing else anywhere. */
function expectOneLine(r: Outcome, message: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.out).toEqual([]);
  expect(r.stray).toEqual([]);
  expect(r.err).toHaveLength(1);
  const line = r.err[0];
  expect(line).toMatch(/^wf: \S/);
  expect(line).not.toMatch(/[\r\n]/);
  expect(line).not.toMatch(/\s{4}at /);
  expect(line).not.toMatch(/\p{Cc}/u); // no raw control characters (terminal escapes) either
  expect(line).toMatch(message);
}

describe.each([
  ['weights files', weightsCases],
  ['image files', imageCases],
  ['options', optionCases],
  ['image sizes and input shapes', shapeCases],
])('user errors: %s', (_group, cases) => {
  it.each(cases)('%s', async (_label, args, message) => {
    const r = await wf(...args);
    expectOneLine(r, message);
    // With --verbose: the same exit code and the stack trace (which starts with the message).
    const v = await wf(...args, '--verbose');
    expect(v.code).toBe(r.code);
    expect(v.out).toEqual([]);
    const text = v.err.join('\n');
    expect(text).toMatch(/\n\s{4}at /);
    expect(text.split('\n')[0]).toMatch(/^\w*Error: /);
  });
});

describe('exit codes and what is not an error', () => {
  it('parse errors exit 2, other failures 1', async () => {
    expect((await wf('classify', 'mnist:0', '--top', 'abc')).code).toBe(2);
    expect((await wf('classify', images.empty)).code).toBe(1);
  });

  it('--help exits 0 and prints usage on stdout', async () => {
    const r = await wf('classify', '--help');
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out.join('\n')).toMatch(/--max-pixels <n>/);
    expect(r.out.join('\n')).toMatch(/--threads <n>/);
  });

  it('an image within --max-pixels (exactly at the limit) classifies, with --threads', async () => {
    const r = await wf(
      'classify',
      images.good,
      '--model',
      'wfm-mnist',
      '--max-pixels',
      '1.2e3',
      '--threads',
      '2',
      '--top',
      '3',
      '--json',
    );
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0]).predictions).toHaveLength(3);
  });
});
