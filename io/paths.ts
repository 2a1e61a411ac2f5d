import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../src/config.js';

/** The project's root folder: where templates/ and examples/ ship (this file is one level down, as is dist/). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The newsletter templates folder: TEMPLATES_DIR, else the project's own templates/. */
export function templatesDirOf(config: Pick<Config, 'TEMPLATES_DIR'>): string {
  return config.TEMPLATES_DIR ?? join(PROJECT_ROOT, 'templates');
}
