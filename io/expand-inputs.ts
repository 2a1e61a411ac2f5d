import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DispatchError } from '../src/errors.js';

export interface ExpandOptions {
  /** Keep http(s) URLs as they are. */
  urls: boolean;
  /**
   * Called for a path that does not exist or a folder that cannot be read, which is then left out;
   * without it, the first such path throws. Either way it is an `E_INPUT_NOT_FOUND`.
   */
  onError?: (input: string, error: DispatchError) => void;
}

async function expandOne(input: string, options: ExpandOptions): Promise<string[]> {
  if (options.urls && /^https?:\/\//i.test(input)) return [input];
  const info = await stat(input).catch((cause) => {
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file or folder: ${input}`, { cause });
  });
  if (!info.isDirectory()) return [input];
  const names = await readdir(input).catch((cause: NodeJS.ErrnoException) => {
    throw new DispatchError('E_INPUT_NOT_FOUND', `cannot read the folder ${input} (${cause.code ?? cause.message})`, {
      cause,
    });
  });
  return names
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => join(input, n));
}

/**
 * Files, folders and URLs as a list of inputs: a folder stands for its files (sorted, hidden ones
 * left out); an http(s) URL stays as it is when `urls` allows it.
 */
export async function expandInputs(inputs: readonly string[], options: ExpandOptions): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    try {
      out.push(...(await expandOne(input, options)));
    } catch (error) {
      if (!(error instanceof DispatchError) || !options.onError) throw error;
      options.onError(input, error);
    }
  }
  return out;
}
