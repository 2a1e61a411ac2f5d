import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DispatchError } from '../src/errors.js';
import type { SignupMailKind, SignupMailTemplates } from '../src/signup/render-signup-mail.js';
import { PROJECT_ROOT } from './paths.js';

/** The templates Dispatch ships: what a templates folder without a mail/ folder of its own uses. */
const BUILT_IN = join(PROJECT_ROOT, 'templates');

/**
 * Reads one sign-up mail's templates, `<dir>/mail/<kind>.mjml.hbs` and `<kind>.txt.hbs`. A file
 * missing there (a TEMPLATES_DIR made for the newsletter alone) is read from the templates
 * Dispatch ships, so a restyled newsletter never stops sign-ups; missing from both, or unreadable:
 * E_TEMPLATE. Read per mail, like the newsletter's per build: an edit applies to the next one.
 */
export async function loadMailTemplates(dir: string, kind: SignupMailKind): Promise<SignupMailTemplates> {
  const [mjml, text] = await Promise.all([readOne(dir, `${kind}.mjml.hbs`), readOne(dir, `${kind}.txt.hbs`)]);
  return { mjml, text };
}

async function readOne(dir: string, name: string): Promise<{ path: string; source: string }> {
  const show = (path: string) => relative(process.cwd(), path) || path;
  const path = join(dir, 'mail', name);
  try {
    return { path: show(path), source: await readFile(path, 'utf8') };
  } catch (cause) {
    const fallback = join(BUILT_IN, 'mail', name);
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && fallback !== path) {
      try {
        return { path: show(fallback), source: await readFile(fallback, 'utf8') };
      } catch {
        // Reported below, for the folder that was asked for.
      }
    }
    throw new DispatchError('E_TEMPLATE', `${show(path)} is missing or unreadable`, { cause });
  }
}
