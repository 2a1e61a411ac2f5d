import { escapeHtml as e } from '../newsletter/escape-for-template.js';
import { archiveDocument } from './archive-document.js';
import type { ArchiveEntry } from './archive-entry.js';
import { type ArchiveSettings, archiveFeedUrl, archiveIssueUrl, newsletterTitle } from './archive-settings.js';

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** "27 November 2026": the day an issue went out, in the archive's time zone. */
export function sentDate(iso: string, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'long', year: 'numeric' });
    dateFormats.set(timeZone, format);
  }
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : format.format(at);
}

function card(entry: ArchiveEntry, settings: ArchiveSettings): string {
  const date = sentDate(entry.sentAt, settings.timeZone);
  return `<li class="dispatch-archive-issue"><article>
<h2><a href="${e(archiveIssueUrl(settings, entry.week))}">${e(entry.subject)}</a></h2>
<p class="dispatch-archive-meta">No. ${entry.number}, ${entry.year}${date ? ` · <time datetime="${e(entry.sentAt)}">${e(date)}</time>` : ''}</p>
${entry.preheader ? `<p>${e(entry.preheader)}</p>` : ''}
</article></li>`;
}

/**
 * The archive's index page, `GET /archive` and `index.html`: every public issue in `entries`
 * (newest first) with its subject (linking to its page), date and preheader, a sign-up call to
 * action and the feed. `total` is how many public issues there are: when the index shows fewer,
 * it says so. No issue yet is a friendly page of its own.
 */
export function archiveIndex(entries: readonly ArchiveEntry[], total: number, settings: ArchiveSettings): string {
  const title = newsletterTitle(settings);
  const signup = `<section class="dispatch-archive-cta" aria-label="Subscribe">
<p>The week's top stories from ${e(settings.siteName)}, in your inbox every week.</p>
<a class="dispatch-archive-button" href="${e(settings.signupUrl)}">Subscribe</a></section>`;
  const feed = `<a href="${e(archiveFeedUrl(settings))}">the feed</a>`;
  const main =
    entries.length === 0
      ? `<h1>${e(title)}</h1>
<p>No issues yet: the first one is on its way. Subscribe and it will be in your inbox the day it goes out.</p>
${signup}`
      : `<h1>${e(title)}</h1>
<p>Every issue so far, newest first. Follow new ones in your reader with ${feed}.</p>
${signup}
<ol class="dispatch-archive-issues">
${entries.map((entry) => card(entry, settings)).join('\n')}
</ol>
${total > entries.length ? `<p class="dispatch-archive-note">Showing the newest ${entries.length} of ${total} issues.</p>` : ''}`;
  return archiveDocument({
    settings,
    title: `All issues: ${title}`,
    description: `Every issue of the weekly newsletter from ${settings.siteName}, newest first.`,
    canonical: settings.archiveUrl,
    current: 'index',
    main,
  });
}
