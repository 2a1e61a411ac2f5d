import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { DispatchError } from '../src/errors.js';
import type { Templates } from '../src/newsletter/templates.js';

const MAIN = 'newsletter.mjml.hbs';
const PARTIAL = /\.mjml\.hbs$/;

/** Reads `dir/newsletter.mjml.hbs` and every `dir/partials/*.mjml.hbs` (a partial's name is its file name). */
export async function loadTemplates(dir: string): Promise<Templates> {
  const show = (path: string) => relative(process.cwd(), path) || path;
  const mainPath = join(dir, MAIN);
  let main: string;
  try {
    main = await readFile(mainPath, 'utf8');
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${show(mainPath)} is missing`, { cause });
  }
  const partials: Templates['partials'] = {};
  const partialDir = join(dir, 'partials');
  const files = await readdir(partialDir).catch(() => [] as string[]);
  for (const file of files.filter((f) => PARTIAL.test(f)).sort()) {
    const path = join(partialDir, file);
    partials[basename(file).replace(PARTIAL, '')] = { path: show(path), source: await readFile(path, 'utf8') };
  }
  return { main: { path: show(mainPath), source: main }, partials };
}
