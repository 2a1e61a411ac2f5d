import { escapeHtml as e } from '../newsletter/escape-for-template.js';
import { ARCHIVE_BAR_STYLE, archiveBar } from './archive-bar.js';
import { type ArchiveSettings, archiveFeedUrl, newsletterTitle } from './archive-settings.js';

const STYLE = `body{margin:0;background:#f2f2ef;color:#1a1a1a;font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif}
main{box-sizing:border-box;max-width:640px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:28px;line-height:1.2;margin:8px 0 12px;overflow-wrap:anywhere}
p{overflow-wrap:anywhere}
a{color:#0b57d0}
a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.dispatch-archive-cta{background:#ffffff;border-radius:6px;padding:16px;margin:16px 0}
.dispatch-archive-cta p{margin:0 0 12px}
.dispatch-archive-button{display:inline-block;padding:10px 18px;border-radius:4px;background:#0b57d0;color:#ffffff;font-weight:600;text-decoration:none}
.dispatch-archive-issues{list-style:none;margin:24px 0;padding:0}
.dispatch-archive-issue{background:#ffffff;border-radius:6px;padding:16px;margin:0 0 12px}
.dispatch-archive-issue h2{font-size:19px;line-height:1.3;margin:0 0 4px;overflow-wrap:anywhere}
.dispatch-archive-issue h2 a{color:#1a1a1a}
.dispatch-archive-issue p{margin:0}
.dispatch-archive-meta{color:#4a4a4a;font-size:14px;margin:0 0 8px}
.dispatch-archive-note{color:#4a4a4a;font-size:14px}
@media (prefers-color-scheme: dark){body{background:#121212;color:#eeeeee}.dispatch-archive-cta,.dispatch-archive-issue{background:#1e1e1e}.dispatch-archive-issue h2 a{color:#eeeeee}a{color:#8ab4f8}.dispatch-archive-meta,.dispatch-archive-note{color:#bbbbbb}.dispatch-archive-button{color:#ffffff}}
${ARCHIVE_BAR_STYLE}`;

/** A page of the archive's own (the index, the 404 page): the bar, then `main`, which is markup already escaped. */
export function archiveDocument(page: {
  settings: ArchiveSettings;
  title: string;
  main: string;
  description?: string;
  /** The page's own absolute address, when it has one for good. */
  canonical?: string;
  current?: 'index';
}): string {
  const { settings } = page;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${e(page.title)}</title>
${page.description === undefined ? '' : `<meta name="description" content="${e(page.description)}">\n`}${page.canonical === undefined ? '' : `<link rel="canonical" href="${e(page.canonical)}">\n`}<link rel="alternate" type="application/atom+xml" title="${e(newsletterTitle(settings))}" href="${e(archiveFeedUrl(settings))}">
<style>${STYLE}</style></head>
<body>${archiveBar(settings, page.current)}
<main>${page.main}</main></body></html>
`;
}
