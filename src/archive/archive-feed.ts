import { Feed } from 'feed';
import { escapeHtml } from '../newsletter/escape-for-template.js';
import type { ArchiveEntry } from './archive-entry.js';
import { type ArchiveSettings, archiveFeedUrl, archiveIssueUrl, newsletterTitle } from './archive-settings.js';

/**
 * Characters XML 1.0 has no place for (most C0 controls, lone surrogates, U+FFFE and U+FFFF): one
 * of them anywhere makes the whole feed ill-formed, and readers drop it.
 */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const xmlText = (text: string) => text.replace(NOT_XML, '');

/**
 * Atom's `type="html"` text (the feed library writes entry titles and summaries so): the plain
 * text escaped as HTML, so that a reader shows `<b>` as the four characters it is.
 */
const atomHtml = (text: string) => escapeHtml(xmlText(text));

/**
 * The archive's Atom feed, `feed.xml`: one entry per issue in `entries` (newest first), its title
 * the subject, its id and link the issue's page, its date when it was sent, its summary the
 * preheader. Nothing in it is any reader's. `updated` is the newest issue's date, or `now` for an
 * archive with none yet.
 */
export function archiveFeed(entries: readonly ArchiveEntry[], settings: ArchiveSettings, now: Date): string {
  const newest = entries[0];
  const feed = new Feed({
    id: settings.archiveUrl,
    title: xmlText(newsletterTitle(settings)),
    description: xmlText(`The week's top stories from ${settings.siteName}.`),
    link: settings.archiveUrl,
    feedLinks: { atom: archiveFeedUrl(settings) },
    language: 'en',
    updated: newest ? new Date(newest.sentAt) : now,
    author: { name: xmlText(settings.siteName), link: settings.siteUrl },
    generator: false,
  });
  for (const entry of entries) {
    const url = archiveIssueUrl(settings, entry.week);
    const sent = new Date(entry.sentAt);
    feed.addItem({
      title: atomHtml(entry.subject),
      id: url,
      link: url,
      date: sent,
      published: sent,
      description: entry.preheader ? atomHtml(entry.preheader) : undefined,
    });
  }
  return `${feed.atom1()}\n`;
}
