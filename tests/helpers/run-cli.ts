import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/dispatch.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `dispatch` process still running: what it has printed so far, and its exit code once it ends. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number | null>;
}

/** Starts `dispatch` as a user would, in `cwd`, for a command that runs until it is stopped. */
export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited: new Promise<number | null>((done) => child.on('close', done)),
  };
}

/** Runs `dispatch` as a user would, in `cwd`, with `input` on stdin. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string | Uint8Array } = {},
): Promise<CliResult> {
  const running = startCli(args, options);
  running.child.stdin.end(options.input ?? '');
  const code = await running.exited;
  return { code, stdout: running.stdout, stderr: running.stderr };
}
