// Runs this package's vitest suite. Headless GL needs an X display: when none is set and `xvfb-run`
// exists, the suite runs under `xvfb-run -a` (a private virtual display). Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// vitest's CLI, resolved like an import (it is a workspace-root devDependency), run with this node
const require = createRequire(import.meta.url);
const vitestBin = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const vitest = [process.execPath, vitestBin, 'run', ...process.argv.slice(2)];
const linux = process.platform === 'linux';
const hasXvfb = linux && spawnSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' }).status === 0;
const useXvfb = linux && !process.env.DISPLAY && hasXvfb;
if (linux && !process.env.DISPLAY && !hasXvfb) {
  console.warn(
    '[backend-gpujs] no X display and no xvfb-run: the headless GL tests will report why they cannot run',
  );
}
const [cmd, ...args] = useXvfb ? ['xvfb-run', '-a', ...vitest] : vitest;
const r = spawnSync(cmd, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
