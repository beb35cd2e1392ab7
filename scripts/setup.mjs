#!/usr/bin/env node
// Test set-up: everything `pnpm test` needs beyond `pnpm install`, on a fresh Debian or Ubuntu machine.
// 1. System packages: Chromium (browser tests), Xvfb + xauth (a display for headless GL), the X11/GL
//    headers and a C++ toolchain (to build the `gl` addon). Installed with apt-get when this runs as root
//    or with password-less sudo; otherwise it stops with one line naming the packages and the command.
// 2. Dependencies: `pnpm install --frozen-lockfile` when node_modules is missing.
// 3. The `gl` addon: `pnpm install` before the headers existed leaves it unbuilt and never retries, so
//    when its binary is missing and the headers are there, `pnpm --recursive rebuild gl` (a few minutes;
//    gl belongs to backend-gpujs, so a plain `pnpm rebuild gl` at the root does nothing).
// Dependency-free on purpose: it runs before node_modules exists. Flags: `--system` does step 1 only.
// `WF_SETUP=skip` skips it all (the suites that need what is missing then skip, and say so at the end).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--system');
if (unknown.length) {
  console.error(`[setup] unknown argument ${unknown[0]}; usage: node scripts/setup.mjs [--system]`);
  process.exit(2);
}
const systemOnly = args.includes('--system');
const say = (msg) => console.log(`[setup] ${msg}`);

/** Exits with one line (and a non-zero status) saying what to do. */
function stop(msg) {
  console.error(`[setup] ${msg}`);
  process.exit(1);
}

/** Runs a command with inherited output; exits when it fails. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) stop(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal})`);
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const dpkgInstalled = (pkg) =>
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
  spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes(
    'install ok installed',
  );

/** What the tests need from the system: each entry is present when `present()` says so. */
function systemNeeds() {
  const chromium = process.env.CHROMIUM_PATH ?? process.env.WF_CHROMIUM;
  return [
    // the browser the Chromium tests drive (Debian's package; `CHROMIUM_PATH` points at another one)
    { pkg: 'chromium', present: () => (chromium ? existsSync(chromium) : existsSync('/usr/bin/chromium')) },
    // a private X display for headless GL
    { pkg: 'xvfb', present: () => has('xvfb-run') },
    { pkg: 'xauth', present: () => has('xauth') },
    // headers and libraries the `gl` addon builds against
    { pkg: 'libx11-dev', present: () => dpkgInstalled('libx11-dev') },
    { pkg: 'libxext-dev', present: () => dpkgInstalled('libxext-dev') },
    { pkg: 'libxi-dev', present: () => dpkgInstalled('libxi-dev') },
    { pkg: 'libgl1-mesa-dev', present: () => dpkgInstalled('libgl1-mesa-dev') },
    // node-gyp's toolchain
    { pkg: 'python3', present: () => has('python3') },
    { pkg: 'make', present: () => has('make') },
    { pkg: 'g++', present: () => has('g++') },
  ];
}

/** Installs the missing system packages (root or sudo), or stops with the command to run. */
function ensureSystemPackages() {
  if (process.platform !== 'linux' || !has('apt-get') || !has('dpkg-query')) {
    say('not a Debian/Ubuntu machine: system packages not checked (suites that need them say so at the end)');
    return;
  }
  const missing = systemNeeds()
    .filter((n) => !n.present())
    .map((n) => n.pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  const command = `sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`;
  if (!isRoot && !sudo) {
    stop(
      `missing system packages: ${missing.join(', ')}. Install them with \`${command}\`, then run this again ` +
        '(or set WF_SETUP=skip to test without them: those suites then skip)',
    );
  }
  say(`installing system packages: ${missing.join(' ')}`);
  const [cmd, prefix] = sudo ? ['sudo', ['-n', 'apt-get']] : ['apt-get', []];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(cmd, [...prefix, 'update', '-qq'], { env });
  run(cmd, [...prefix, 'install', '-y', '-qq', ...missing], { env });
}

/** The installed `gl` package folder, from the backend that depends on it. */
function glDir() {
  const store = join(root, 'node_modules', '.pnpm');
  if (!existsSync(store)) return undefined;
  const entry = readdirSync(store).find((d) => /^gl@\d/.test(d));
  return entry ? join(store, entry, 'node_modules', 'gl') : undefined;
}

/** Rebuilds `gl` when its native binary is missing and the X11/GL headers are there. */
function ensureGl() {
  const dir = glDir();
  if (!dir) return;
  const binary = join(dir, 'build', 'Release', 'webgl.node');
  if (existsSync(binary)) return;
  const headers = ['X11/Xlib.h', 'X11/extensions/XInput2.h', 'GL/gl.h'].every((h) =>
    existsSync(join('/usr/include', h)),
  );
  if (!headers) {
    say('the gl addon is not built and the X11/GL headers are missing: headless-GL suites will skip');
    return;
  }
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  say(`building the gl ${version} addon (its binary is missing; this takes a few minutes)`);
  const started = Date.now();
  run('pnpm', ['--recursive', 'rebuild', 'gl'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(binary)) stop(`\`pnpm --recursive rebuild gl\` finished but ${binary} is still missing`);
  say(`gl built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (process.env.WF_SETUP === 'skip') {
  say('WF_SETUP=skip: set-up skipped');
} else {
  ensureSystemPackages();
  if (!systemOnly) {
    if (!existsSync(join(root, 'node_modules', '.pnpm'))) {
      say('node_modules is missing: pnpm install --frozen-lockfile');
      run('pnpm', ['install', '--frozen-lockfile']);
    }
    ensureGl();
  }
}
