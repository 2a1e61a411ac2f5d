import type { NewsletterIssue } from './newsletter-issue.js';
import { escapeTextPart, recipientToken } from './personalize.js';

const WIDTH = 78;

/** Wraps words into lines of at most `WIDTH` characters (a single longer word, a URL, stands alone). */
export function wrap(text: string, indent = '', firstIndent = indent): string[] {
  const lines: string[] = [];
  let line = firstIndent;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent + word;
    } else {
      line += empty ? word : ` ${word}`;
    }
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}

/**
 * The plain-text part, built from the issue model (not from the HTML): the "View in browser" URL,
 * the editor's note, a numbered list of title, byline and date, bullets and bare URL; then the
 * calls to action and the unsubscribe URL.
 * It is in template form: `{{firstName}}`, `{{email}}`, `{{preferencesUrl}}` and
 * `{{unsubscribeUrl}}` are left for `personalize`, and every line made from the issue is escaped
 * with `escapeTextPart`, so article text (and an editor's note) of any kind comes out verbatim,
 * never as a token.
 */
export function toPlainText(issue: NewsletterIssue): string {
  const out: string[] = [];
  /** Lines of issue text: wrapped, then escaped. */
  const add = (...lines: string[]) => out.push(...lines.map(escapeTextPart));
  add(...wrap(`${issue.site.name} weekly · No. ${issue.number} · ${issue.date}`));
  if (issue.archiveUrl) add(`View in browser: ${issue.archiveUrl}`);
  add('');
  out.push(`Hi ${recipientToken('firstName')}, here is what mattered this week.`, '');
  if (issue.note?.length) {
    add('From the editor', '');
    for (const paragraph of issue.note) add(...wrap(paragraph), '');
  }
  [issue.lead, ...issue.cards].forEach((card, i) => {
    const number = `${i + 1}. `;
    const pad = ' '.repeat(number.length);
    add(...wrap(card.title, pad, number));
    add(...wrap([card.byline, card.date].filter(Boolean).join(' · '), pad));
    for (const bullet of card.bullets) add(...wrap(bullet, `${pad}  `, `${pad}- `));
    if (card.url) add(`${pad}${card.url}`);
    add('');
  });
  if (issue.more.length) {
    add('More this week', '');
    for (const item of issue.more) {
      add(...wrap(item.title, '  ', '- '));
      if (item.url) add(`  ${item.url}`);
    }
    add('');
  }
  add(
    `Follow us on Twitter: ${issue.site.twitterHandle}`,
    issue.site.twitterUrl,
    '',
    'Join our weekly newsletter. Was this forwarded to you? Sign up:',
    issue.site.signupUrl,
    '',
    '--',
    ...wrap(`You are receiving this because you signed up for the weekly newsletter from ${issue.site.name} as`),
  );
  out.push(
    recipientToken('email'),
    'Manage preferences:',
    recipientToken('preferencesUrl'),
    'Unsubscribe:',
    recipientToken('unsubscribeUrl'),
  );
  add(...wrap(issue.site.address));
  return `${out.join('\n')}\n`;
}
