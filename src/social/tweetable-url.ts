import twitter from 'twitter-text';

/** Characters Twitter's link detection may stop at, though URLs allow them. */
const AWKWARD = /[~!*'(),;:$@|[\]{}^`]/g;

function isWholeLink(url: string): boolean {
  const found = twitter.extractUrls(url);
  return found.length === 1 && found[0] === url;
}

/**
 * The URL in a form twitter-text (and so Twitter) links whole: as it is when it already is, else
 * with the characters its link detection stops at percent-encoded in the path and query ("/~ed"
 * becomes "/%7Eed", which servers read the same). Null when even that is not linked whole.
 */
export function tweetableUrl(url: string): string | null {
  if (isWholeLink(url)) return url;
  const parsed = new URL(url);
  const encode = (part: string) => part.replace(AWKWARD, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const rebuilt = `${parsed.protocol}//${parsed.host}${encode(parsed.pathname)}${encode(parsed.search)}`;
  return isWholeLink(rebuilt) ? rebuilt : null;
}
