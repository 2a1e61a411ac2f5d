import { existsSync } from 'node:fs';

/** Whether Debian's spamd is on this machine (`npm run setup` installs it; a user's clone may lack it). */
export function spamdInstalled(): boolean {
  const installed = ['/usr/sbin/spamd', '/usr/bin/spamd'].some((path) => existsSync(path));
  if (!installed) console.warn('spamd is not installed (npm run setup installs it): the spam score tests are skipped');
  return installed;
}
