// Runs a command without a shell and captures its output; a non-zero exit throws with the command, the
// exit status and the end of its output.
import { spawn } from 'node:child_process';

/** Options of {@link run}. */
export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the process is killed (default 5 minutes). */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

/** What a command did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd args` in `opts.cwd`. */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr, ms: performance.now() - t0 };
      if (result.code === 0 || opts.allowFailure) resolve(result);
      else {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
        reject(
          new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited with ${code ?? signal}:\n${tail}`),
        );
      }
    });
  });
}
