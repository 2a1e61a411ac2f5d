// npm run build: bundles the CLI into dist/ with esbuild, so `dispatch` starts without compiling
// TypeScript on every run. bin/dispatch.js falls back to tsx whenever dist/ is older than a source.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // The CPU pool's thread script is an entry of its own: jobs/cpu-pool.ts starts dist/cpu-thread.js
  // from the bundle (the two share their chunks).
  entryPoints: { main: 'cli/main.ts', 'cpu-thread': 'jobs/cpu-thread.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
