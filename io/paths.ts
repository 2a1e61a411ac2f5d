import { fileURLToPath } from 'node:url';

/** The project's root folder: where templates/ and examples/ ship (this file is one level down, as is dist/). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
