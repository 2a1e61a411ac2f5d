import { existsSync } from 'node:fs';

/**
 * Flags for headless Chromium on these machines: no sandbox (root), no GPU, and none of the
 * background network calls that a closed network refuses.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium, installed by `npm run setup`, unless CHROMIUM_PATH names another. */
export function chromiumPath(configured?: string): string {
  for (const candidate of [configured, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error('chromium not found: run `npm run setup`, or set CHROMIUM_PATH');
}
