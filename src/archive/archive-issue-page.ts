import { escapeHtml as e } from '../newsletter/escape-for-template.js';
import { ARCHIVE_BAR_STYLE, archiveBar } from './archive-bar.js';
import type { ArchiveEntry } from './archive-entry.js';
import { type ArchiveSettings, archiveFeedUrl, archiveIssueUrl, newsletterTitle } from './archive-settings.js';

const HEAD_END = /<\/head\s*>/i;
const BODY_START = /<body\b[^>]*>/i;
const HTML_START = /<html\b[^>]*>/i;
const VIEWPORT = /<meta\b[^>]*\bname\s*=\s*["']?viewport\b/i;

/** What a shared link's card and a search engine read: canonical, description, Open Graph, the feed. */
function headTags(html: string, entry: ArchiveEntry, settings: ArchiveSettings): string {
  const url = archiveIssueUrl(settings, entry.week);
  const meta = (kind: 'name' | 'property', key: string, value: string) =>
    `<meta ${kind}="${key}" content="${e(value)}">`;
  return [
    // The newsletter's HTML has its own viewport; an older or hand-made template may not.
    VIEWPORT.test(html) ? '' : '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<link rel="canonical" href="${e(url)}">`,
    meta('name', 'description', entry.preheader),
    meta('property', 'og:type', 'article'),
    meta('property', 'og:site_name', settings.siteName),
    meta('property', 'og:title', entry.subject),
    meta('property', 'og:description', entry.preheader),
    meta('property', 'og:url', url),
    entry.image ? meta('property', 'og:image', entry.image.url) : '',
    entry.image?.alt ? meta('property', 'og:image:alt', entry.image.alt) : '',
    meta('property', 'article:published_time', entry.sentAt),
    meta('name', 'twitter:card', entry.image ? 'summary_large_image' : 'summary'),
    meta('name', 'twitter:site', settings.twitterHandle),
    `<link rel="alternate" type="application/atom+xml" title="${e(newsletterTitle(settings))}" href="${e(archiveFeedUrl(settings))}">`,
    `<style>${ARCHIVE_BAR_STYLE}</style>`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** `text` with `insert` put in at the end of the first match of `pattern` (or before it); null when none. */
function insertAt(text: string, pattern: RegExp, insert: string, where: 'before' | 'after'): string | null {
  const match = pattern.exec(text);
  if (!match) return null;
  const at = where === 'before' ? match.index : match.index + match[0].length;
  return text.slice(0, at) + insert + text.slice(at);
}

/**
 * The public page of an issue: the issue's web HTML (rendered for no one) with the archive's
 * tags put into its `<head>` and the archive's bar at the top of its `<body>`. Every value is
 * escaped where it lands; the issue's HTML is the project's own render, in which article text can
 * open no tag, so its first `</head>` and `<body>` are the template's.
 */
export function archiveIssuePage(html: string, entry: ArchiveEntry, settings: ArchiveSettings): string {
  const head = headTags(html, entry, settings);
  const bar = archiveBar(settings);
  const withHead =
    insertAt(html, HEAD_END, `${head}\n`, 'before') ??
    insertAt(html, HTML_START, `<head>${head}</head>`, 'after') ??
    `<!doctype html><head>${head}</head>${html}`;
  return (
    insertAt(withHead, BODY_START, bar, 'after') ?? insertAt(withHead, HEAD_END, bar, 'after') ?? `${withHead}${bar}`
  );
}
