import type { SendLedger } from '../io/send-ledger.js';
import type { Store } from '../io/store.js';
import { archivedIssue } from '../jobs/archived-issues.js';
import { html } from '../preview/html.js';
import type { Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { parseIsoWeek } from '../src/newsletter/iso-week.js';
import { personalize, type Recipient } from '../src/newsletter/personalize.js';

export interface ArchivePage {
  status: number;
  title: string;
  /** A whole HTML document. */
  html: string;
}

export interface ArchiveDeps {
  store: Store;
  ledger: SendLedger;
  config: Pick<Config, 'SITE_NAME' | 'SITE_URL' | 'PUBLIC_URL'>;
  now: Date;
}

/**
 * Who an issue is "for" on the web: no one. The footer reads "because you signed up", the greeting
 * falls back to "Hi there", and the links that are a reader's own in a mail (unsubscribe,
 * preferences) lead to the sign-up page instead: no address, no name, no token of anyone's.
 */
function nobody(config: ArchiveDeps['config']): Recipient {
  const signup = `${config.PUBLIC_URL}/subscribe`;
  return { email: 'you', firstName: null, unsubscribeUrl: signup, preferencesUrl: signup };
}

function notFound(config: ArchiveDeps['config']): ArchivePage {
  const title = 'No such issue';
  const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title><style>body{font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;padding:0 20px;color:#1a1a1a}a{color:#0b57d0}</style></head>
<body><h1>No such issue</h1><p>There is no issue of the weekly newsletter from ${config.SITE_NAME} at this address.</p>
<p><a href="${config.PUBLIC_URL}/subscribe">Subscribe</a> to get the next one in your inbox, or read the news at <a href="${config.SITE_URL}">${config.SITE_URL}</a>.</p></body></html>`;
  return { status: 404, title, html: body.value };
}

/**
 * The public page of a sent issue, `GET /archive/<week>`: the issue's HTML as it was sent (the
 * stored render, frozen when its list send started), personalized for no one. Only public issues
 * are shown (jobs/archived-issues.ts), the same weeks the welcome mail links to. Anything else, a malformed week included,
 * is a small 404 page.
 */
export async function archivePage(week: string, deps: ArchiveDeps): Promise<ArchivePage> {
  const { config } = deps;
  try {
    parseIsoWeek(week);
  } catch (error) {
    if (isDispatchError(error, 'E_WEEK_INVALID')) return notFound(config);
    throw error;
  }
  const stored = await archivedIssue(week, deps);
  if (!stored) return notFound(config);
  const page = personalize(stored, nobody(config));
  return { status: 200, title: page.subject, html: page.html };
}
