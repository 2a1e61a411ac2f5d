import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { type Config, loadConfig } from '../src/config.js';

/**
 * The configuration of a process: `.env` in `cwd` when present, overridden by the real environment
 * (so `REDIS_URL=... dispatch worker` beats the file), validated by {@link loadConfig}.
 */
export function loadEnvironment(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): Config {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(readFileSync(join(cwd, '.env'), 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return loadConfig({ ...fromFile, ...env });
}
