import { cleanText } from './clean-text.js';

/** What a page offers for its headline, each from its own place. */
export interface TitleCandidates {
  /** The article's own heading: the `h1` inside (or just before) the article body. */
  heading?: string | null;
  /** The JSON-LD article's `headline`. */
  headline?: string | null;
  /** `og:title` (or `twitter:title`). */
  ogTitle?: string | null;
  /** The document's `<title>`, often with the site's name around the headline. */
  documentTitle?: string | null;
  /** `og:site_name`, `application-name` or the JSON-LD publisher's name. */
  siteName?: string | null;
  /**
   * Names of the site and its sections that the page shows or declares: `article:section`, JSON-LD
   * `articleSection`, breadcrumb links, the kicker, the site's logo heading.
   */
  labels?: readonly string[];
}

/**
 * Between the headline and the site's name in a `<title>`: "Headline | Site", "Site - Headline",
 * "Headline — Section — Site". A hyphen or a dash counts only with spaces around it ("Two-year"
 * and "1990–2020" are words).
 */
const SEPARATOR = /\s+[-–—]\s+|\s*(?:[|·•»«~]|::)\s*/g;
/** A headline has more words than this; a section or site name rarely does. */
const SHORT_WORDS = 3;
/** A title with more parts than this between its site names is not searched for the headline's run of parts. */
const MAX_SEARCHED_PARTS = 12;
/** No headline is longer: a longer candidate is read up to here, so the work stays bounded. */
const MAX_TITLE_CHARS = 1_000;
/** Two texts are one headline when this share of the longer one's words are the other's too. */
const SAME_HEADLINE = 0.75;

/** A title as compared: lowercase letters and digits, single spaces, quotes and punctuation gone. */
export function titleKey(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function words(text: string): string[] {
  const key = titleKey(text);
  return key ? key.split(' ') : [];
}

/** The share of the longer text's words that the other has too, from 0 to 1. */
function overlap(wa: readonly string[], wb: readonly string[]): number {
  if (wa.length === 0 || wb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of wa) counts.set(w, (counts.get(w) ?? 0) + 1);
  let shared = 0;
  for (const w of wb) {
    const n = counts.get(w) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(w, n - 1);
    }
  }
  return shared / Math.max(wa.length, wb.length);
}

/** The same headline, give or take a word: "Harbour ferry returns" and "Harbour ferry returns today". */
function sameHeadline(a: string, b: string): boolean {
  return overlap(words(a), words(b)) >= SAME_HEADLINE;
}

function isShort(text: string): boolean {
  return words(text).length <= SHORT_WORDS;
}

/** A part of a `<title>` that names the site or a section: equal to one, or one inside the other ("Courier" in "The Harlow Creek Courier"). */
function namesLabel(part: string, labels: readonly string[]): boolean {
  const key = titleKey(part);
  if (!key) return true;
  return labels.some((label) => {
    const other = titleKey(label);
    return other !== '' && (other === key || (words(part).length <= 5 && (other.includes(key) || key.includes(other))));
  });
}

/**
 * The headline inside a `<title>`: the site's and sections' names around it taken off. When the
 * page does not name its site, a part that another candidate agrees with is the headline; failing
 * that, a short last part ("Headline | Courier") is taken for the site's name.
 */
export function stripSiteName(
  title: string,
  labels: readonly string[],
  others: readonly string[] = [],
  options: { guess?: boolean } = {},
): string {
  const parts: { text: string; start: number; end: number; words: number }[] = [];
  let start = 0;
  const add = (end: number) => {
    const text = title.slice(start, end);
    const count = words(text).length;
    if (count > 0) parts.push({ text, start, end, words: count });
  };
  for (const separator of title.matchAll(SEPARATOR)) {
    add(separator.index);
    start = separator.index + separator[0].length;
  }
  add(title.length);
  if (parts.length < 2) return title.trim();

  type Part = (typeof parts)[0];
  let first = 0;
  let last = parts.length - 1;
  while (first < last && namesLabel((parts[first] as Part).text, labels)) first++;
  while (last > first && namesLabel((parts[last] as Part).text, labels)) last--;
  if (last > first) {
    // The run of parts most like another candidate is the headline, the widest on a tie: a
    // headline may itself hold a spaced dash ("Sea wall - what comes next | Post"). Only titles of
    // a few parts are searched, so the work stays small whatever the title holds.
    const otherWords = others.map(words);
    let agreed: { from: number; to: number; score: number } | undefined;
    if (last - first < MAX_SEARCHED_PARTS) {
      for (let from = first; from <= last; from++) {
        for (let to = last; to >= from; to--) {
          const span = words(title.slice((parts[from] as Part).start, (parts[to] as Part).end));
          const score = Math.max(0, ...otherWords.map((w) => overlap(span, w)));
          if (score >= SAME_HEADLINE && (!agreed || score > agreed.score)) agreed = { from, to, score };
        }
      }
    }
    if (agreed) return title.slice((parts[agreed.from] as Part).start, (parts[agreed.to] as Part).end).trim();
    if (options.guess !== false && first === 0 && last === parts.length - 1) {
      // Nothing was recognised: "Headline | Courier" ends in a short name, far shorter than the rest.
      let rest = 0;
      for (let i = first; i < last; i++) rest += (parts[i] as Part).words;
      while (last > first) {
        const tail = parts[last] as Part;
        if (!isShort(tail.text) || tail.words >= rest) break;
        last--;
        rest -= (parts[last] as Part).words;
      }
    }
  }
  return title.slice((parts[first] as Part).start, (parts[last] as Part).end).trim();
}

/**
 * The page's headline, reconciled from its candidates. A candidate that names the site or a
 * section is not the headline (a health site whose og:title is "Wellness News"). The article's own
 * heading is the reference: a metadata candidate that agrees with it wins (JSON-LD, then og:title,
 * then `<title>`, which keeps the page's own spelling of the headline); when none agrees, the
 * heading wins, unless it is a short label-like line and metadata offers a full headline. Without a
 * heading, the first full headline among JSON-LD, og:title and `<title>` wins. Null when the page
 * offers nothing visible.
 */
export function pageTitle(candidates: TitleCandidates): string | null {
  const clean = (value: string | null | undefined) =>
    value ? cleanText(value.slice(0, MAX_TITLE_CHARS)) || null : null;
  const siteName = clean(candidates.siteName);
  const labels = [...(siteName ? [siteName] : []), ...(candidates.labels ?? []).map(clean).filter((l) => l !== null)];
  const heading = clean(candidates.heading);
  // Metadata may carry the site's name too ("Headline | Site" as og:title): taken off when the page
  // names its site or section, never guessed.
  const declared = (value: string | null) =>
    value && labels.length ? stripSiteName(value, labels, [], { guess: false }) || value : value;
  const headline = declared(clean(candidates.headline));
  const ogTitle = declared(clean(candidates.ogTitle));
  const rawTitle = clean(candidates.documentTitle);
  const others = [heading, headline, ogTitle].filter((t) => t !== null);
  const documentTitle = rawTitle ? stripSiteName(rawTitle, labels, others) || rawTitle : null;

  const all = [headline, ogTitle, documentTitle, heading].filter((t) => t !== null);
  if (all.length === 0) return null;
  const labelKeys = new Set(labels.map(titleKey));
  const isLabel = (text: string) => labelKeys.has(titleKey(text));
  // Only labels on offer: one of them is still better than no title.
  if (all.every(isLabel)) return all[0] as string;

  const metadata = [headline, ogTitle, documentTitle].filter((t) => t !== null && !isLabel(t)) as string[];
  const full = metadata.find((t) => !isShort(t));
  if (heading && !isLabel(heading)) {
    const agreeing = metadata.find((t) => sameHeadline(t, heading));
    if (agreeing) return agreeing;
    return isShort(heading) && full ? full : heading;
  }
  return full ?? (metadata[0] as string);
}
