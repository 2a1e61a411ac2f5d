#!/usr/bin/env node
// Entry point of the `dispatch` command. Runs the bundle in dist/ (built by `npm run build`, which
// setup, start and test run) when it is newer than every source file; otherwise runs the TypeScript
// sources through tsx, so an edit takes effect at once, only slower to start.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

function bundleIsFresh() {
  try {
    // The worker's CPU threads run dist/cpu-thread.js: a bundle without it is an old one.
    const built = Math.min(...['dist/main.js', 'dist/cpu-thread.js'].map((f) => statSync(join(root, f)).mtimeMs));
    return ['src', 'cli', 'io', 'jobs', 'preview', 'serve'].every((dir) => newestMtime(dir) <= built);
  } catch {
    return false;
  }
}

if (bundleIsFresh()) {
  await import('../dist/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
