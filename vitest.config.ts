import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Two files at once: most tests wait on Redis, SMTP or a child process, so two keep a 2-core
    // machine busy without starving the timing-sensitive ones.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
