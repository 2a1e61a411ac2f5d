import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DispatchError } from '../src/errors.js';

/**
 * Files, folders and URLs as a list of inputs: a folder stands for its files (sorted, hidden ones
 * left out); an http(s) URL stays as it is when `urls` allows it.
 */
export async function expandInputs(inputs: readonly string[], options: { urls: boolean }): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (options.urls && /^https?:\/\//i.test(input)) {
      out.push(input);
      continue;
    }
    const info = await stat(input).catch((cause) => {
      throw new DispatchError('E_INPUT_NOT_FOUND', `no such file or folder: ${input}`, { cause });
    });
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((n) => !n.startsWith('.')).sort();
      out.push(...names.map((n) => join(input, n)));
    } else out.push(input);
  }
  return out;
}
