import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DispatchError } from '../src/errors.js';
import type { Templates } from '../src/newsletter/templates.js';

const MAIN = 'newsletter.mjml.hbs';
const PARTIAL = /\.mjml\.hbs$/;

/** The templates a build reads, and the fingerprint of exactly those bytes. */
export interface LoadedTemplates {
  templates: Templates;
  /** See {@link templatesFingerprint}. */
  fingerprint: string;
}

/**
 * Reads `dir/newsletter.mjml.hbs` and every `dir/partials/*.mjml.hbs` (a partial's name is its
 * file name), and fingerprints what it read: the one reader of the templates folder, so the
 * fingerprint covers every file a build uses and nothing else.
 */
export async function loadTemplatesWithFingerprint(dir: string): Promise<LoadedTemplates> {
  const show = (path: string) => relative(process.cwd(), path) || path;
  const mainPath = join(dir, MAIN);
  let main: Buffer;
  try {
    main = await readFile(mainPath);
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${show(mainPath)} is missing`, { cause });
  }
  // [path relative to dir, bytes], in the order they are hashed: sorted by that path.
  const files: [string, Buffer][] = [[MAIN, main]];
  const partials: Templates['partials'] = {};
  const partialDir = join(dir, 'partials');
  const names = await readdir(partialDir).catch(() => [] as string[]);
  for (const file of names.filter((f) => PARTIAL.test(f)).sort()) {
    const path = join(partialDir, file);
    const bytes = await readFile(path);
    files.push([`partials/${file}`, bytes]);
    partials[file.replace(PARTIAL, '')] = { path: show(path), source: bytes.toString('utf8') };
  }
  return {
    templates: { main: { path: show(mainPath), source: main.toString('utf8') }, partials },
    fingerprint: fingerprintOf(files),
  };
}

/** Reads the templates of `dir` (see {@link loadTemplatesWithFingerprint}). */
export async function loadTemplates(dir: string): Promise<Templates> {
  return (await loadTemplatesWithFingerprint(dir)).templates;
}

/**
 * Which templates a build used: sha256 (hex) over the sorted relative paths and contents of every
 * file a build reads from `dir`. Equal fingerprints, equal templates; a file added, removed,
 * renamed or edited changes it. E_TEMPLATE when the main template is missing.
 */
export async function templatesFingerprint(dir: string): Promise<string> {
  return (await loadTemplatesWithFingerprint(dir)).fingerprint;
}

/** The first characters of a fingerprint, as pages and messages show it. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

function fingerprintOf(files: [string, Buffer][]): string {
  const hash = createHash('sha256');
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Lengths before each part: no two different folders hash the same bytes.
    hash.update(`${Buffer.byteLength(path)}:${path}\n${bytes.length}:`);
    hash.update(bytes);
    hash.update('\n');
  }
  return hash.digest('hex');
}
