import type { NewsletterIssue } from '../newsletter/newsletter-issue.js';
import { oneLine } from '../text/one-line.js';

/** One public issue, as the index, the feed and the head of its page describe it. All plain text. */
export interface ArchiveEntry {
  /** The ISO week, e.g. "2026-W48": the last part of its address. */
  week: string;
  /** Issue No. `number` of `year`. */
  number: number;
  year: number;
  subject: string;
  preheader: string;
  /** When its list send started (ISO 8601): the date the index and the feed give it. */
  sentAt: string;
  /** The lead story's image when it is an http(s) URL: the picture of a shared link's card. */
  image: { url: string; alt: string } | null;
}

/** Longest subject and preheader shown: the build keeps them far shorter; this bounds a tampered store. */
const SUBJECT_MAX = 300;
const PREHEADER_MAX = 500;

/** An image address a link card may show: absolute http(s), nothing else (no data:, no javascript:). */
function httpImage(url: string | undefined): string | null {
  if (!url || !URL.canParse(url)) return null;
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
}

/** The entry of a stored issue. Its text is one line each, control characters gone. */
export function archiveEntry(
  week: string,
  stored: { subject: string; issue: Pick<NewsletterIssue, 'number' | 'year' | 'preheader' | 'lead'> },
  sentAt: string,
): ArchiveEntry {
  const { issue } = stored;
  const imageUrl = httpImage(issue.lead.image?.url);
  return {
    week,
    number: issue.number,
    year: issue.year,
    subject: oneLine(stored.subject, SUBJECT_MAX),
    preheader: oneLine(issue.preheader, PREHEADER_MAX),
    sentAt,
    image: imageUrl ? { url: imageUrl, alt: oneLine(issue.lead.image?.alt ?? '', PREHEADER_MAX) } : null,
  };
}
