import { escapeHtml as e } from '../newsletter/escape-for-template.js';
import { archiveDocument } from './archive-document.js';
import type { ArchiveSettings } from './archive-settings.js';

/**
 * The page for an archive address with no public issue behind it (never sent, malformed, unknown).
 * It never repeats what was asked for.
 */
export function archiveNotFound(settings: ArchiveSettings): string {
  return archiveDocument({
    settings,
    title: 'No such issue',
    main: `<h1>No such issue</h1>
<p>There is no issue of the weekly newsletter from ${e(settings.siteName)} at this address.</p>
<p><a href="${e(settings.archiveUrl)}">See all issues</a>, <a href="${e(settings.signupUrl)}">subscribe</a> to get the next one in your inbox, or read the news at <a href="${e(settings.siteUrl)}">${e(settings.siteUrl)}</a>.</p>`,
  });
}
