import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/dispatch.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dispatch` as a user would, in `cwd`, with `input` on stdin. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string | Uint8Array } = {},
): Promise<CliResult> {
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
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number | null>((done) => child.on('close', done));
  return { code, stdout, stderr };
}
