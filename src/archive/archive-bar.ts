import { escapeHtml as e } from '../newsletter/escape-for-template.js';
import type { ArchiveSettings } from './archive-settings.js';

/**
 * The bar's own style. Every rule is scoped to its classes, so it neither takes from nor gives to
 * the styles around it; it wraps instead of overflowing, down to a 320 px screen, however
 * long the site's name.
 */
export const ARCHIVE_BAR_STYLE = `.dispatch-archive-bar{box-sizing:border-box;display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:6px 16px;width:100%;margin:0;padding:10px 16px;background:#ffffff;color:#1a1a1a;border-bottom:1px solid #d6d6d6;font:15px/1.4 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;text-align:left}
.dispatch-archive-bar a{color:#1a1a1a;text-decoration:none}
.dispatch-archive-bar a:hover{text-decoration:underline}
.dispatch-archive-bar a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.dispatch-archive-site{min-width:0;font-weight:700;overflow-wrap:anywhere}
.dispatch-archive-links{display:flex;flex-wrap:wrap;align-items:center;gap:6px 16px}
.dispatch-archive-links a[aria-current=page]{text-decoration:underline}
.dispatch-archive-bar .dispatch-archive-subscribe{padding:4px 12px;border-radius:4px;background:#0b57d0;color:#ffffff;font-weight:600}`;

/**
 * The slim bar at the top of every archive page: the site's name (to its home page), "All issues"
 * (the index) and "Subscribe" (the sign-up page). `current` marks the index when the reader is on it.
 */
export function archiveBar(settings: ArchiveSettings, current?: 'index'): string {
  const here = current === 'index' ? ' aria-current="page"' : '';
  return (
    `<nav class="dispatch-archive-bar" aria-label="${e(settings.siteName)} newsletter">` +
    `<a class="dispatch-archive-site" href="${e(settings.siteUrl)}">${e(settings.siteName)}</a>` +
    `<span class="dispatch-archive-links"><a href="${e(settings.archiveUrl)}"${here}>All issues</a>` +
    `<a class="dispatch-archive-subscribe" href="${e(settings.signupUrl)}">Subscribe</a></span></nav>`
  );
}
