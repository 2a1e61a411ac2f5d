import { createHash } from 'node:crypto';

const TRACKING = /^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$/i;

/** A URL in the form two links to the same article share: no fragment, no tracking parameters. */
export function canonicalUrl(url: string): string {
  const u = new URL(url);
  u.hash = '';
  for (const key of [...u.searchParams.keys()]) if (TRACKING.test(key)) u.searchParams.delete(key);
  u.searchParams.sort();
  return u.href;
}

/**
 * The article's stable id: 16 hex digits of SHA-256 over its canonical URL when it has one,
 * else over its title and body, so the same article always gets the same id.
 */
export function articleId(url: string | null, title: string, body: string): string {
  const key = url ? `url:${canonicalUrl(url)}` : `text:${title}\n${body}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
