import type { NewsletterIssue } from './newsletter-issue.js';

const WIDTH = 78;

/** Article text must not open a {{token}} in the per-recipient pass: a zero-width space splits "{{". */
function defuse(text: string): string {
  return text.replace(/\{\{/g, '{\u200b{').replace(/\}\}/g, '}\u200b}');
}

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
 * The plain-text part, built from the issue model (not from the HTML): a numbered list of
 * title, byline and date, bullets and bare URL; then the calls to action and the unsubscribe URL.
 * `{{firstName}}`, `{{email}}`, `{{preferencesUrl}}` and `{{unsubscribeUrl}}` are left for `personalize`.
 */
export function toPlainText(issue: NewsletterIssue): string {
  const out: string[] = [
    ...wrap(defuse(`${issue.site.name} weekly · No. ${issue.number} · ${issue.date}`)),
    '',
    'Hi {{firstName}}, here is what mattered this week.',
    '',
  ];
  [issue.lead, ...issue.cards].forEach((card, i) => {
    const number = `${i + 1}. `;
    const pad = ' '.repeat(number.length);
    out.push(...wrap(defuse(card.title), pad, number));
    out.push(...wrap(defuse([card.byline, card.date].filter(Boolean).join(' · ')), pad));
    for (const bullet of card.bullets) out.push(...wrap(defuse(bullet), `${pad}  `, `${pad}- `));
    if (card.url) out.push(`${pad}${defuse(card.url)}`);
    out.push('');
  });
  if (issue.more.length) {
    out.push('More this week', '');
    for (const item of issue.more) {
      out.push(...wrap(defuse(item.title), '  ', '- '));
      if (item.url) out.push(`  ${defuse(item.url)}`);
    }
    out.push('');
  }
  out.push(
    `Follow us on Twitter: ${issue.site.twitterHandle}`,
    issue.site.twitterUrl,
    '',
    'Join our weekly newsletter. Was this forwarded to you? Sign up:',
    issue.site.signupUrl,
    '',
    '--',
    ...wrap(
      `You are receiving this because you signed up for the weekly newsletter from ${defuse(issue.site.name)} as`,
    ),
    '{{email}}',
    'Manage preferences:',
    '{{preferencesUrl}}',
    'Unsubscribe:',
    '{{unsubscribeUrl}}',
    ...wrap(defuse(issue.site.address)),
  );
  return `${out.join('\n')}\n`;
}
