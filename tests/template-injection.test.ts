import fc from 'fast-check';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import type { Article } from '../src/ingest/article.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { toMessage } from '../src/newsletter/to-message.js';
import { config, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';

/** What article text may hold that a template engine would read as its own: braces, backslashes, Handlebars. */
const HOSTILE_PIECES = [
  '{',
  '}',
  '{{',
  '}}',
  '{{{',
  '}}}',
  '{{{{',
  '\\',
  '\\\\',
  '\\{{',
  '\\{{{x}}}',
  '{{x}}',
  '{{{x}}}',
  '{{! hidden',
  '{{!-- hidden',
  '--}}',
  '{{#each issue.cards}}',
  '{{/each}}',
  '{{else}}',
  '{{> card}}',
  '{{email}}',
  '{{firstName}}',
  '{{unsubscribeUrl}}',
  '{{{preferencesUrl}}}',
  '{{lookup this "constructor"}}',
  '{{@root}}',
  '<mj-text>',
  '</mj-column>',
  '<script>',
  '&amp;',
  '"',
  "'",
  '`',
  '=',
  '$&',
  "$'",
];
const WORDS = ['Council', 'budget', 'vote', 'river', 'said', 'Mayor', 'Lee', 'the', 'on', 'Friday'];

/** A run of words and hostile pieces, with a visible word somewhere so it is a real title. */
const hostile = (min: number, max: number) =>
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_PIECES), fc.constantFrom(...WORDS)), { minLength: min, maxLength: max })
    .map((parts) => `Report ${parts.join(' ')}`.replace(/\s+/g, ' ').trim());

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

function textOfHtml(html: string): string {
  const { document } = parseHTML(html) as unknown as { document: Document };
  return collapse(document.body.textContent ?? '');
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('article text is data, never template', () => {
  const [base, other] = weekOfArticles(2) as [Article, Article];

  /** How often the recipient's own values appear in an issue of plain articles: the template's own tokens. */
  const baseline = (async () => {
    const rendered = await renderIssue(buildIssue([base, other], { week: WEEK, now: NOW, config }), await templates());
    const message = personalize(rendered, RECIPIENT);
    return {
      html: count(message.html, RECIPIENT.email),
      text: count(message.text, RECIPIENT.email),
      textUnsubscribe: count(message.text, RECIPIENT.unsubscribeUrl),
    };
  })();

  it('any title, byline, body and quote builds, shows escaped in HTML and verbatim in text', async () => {
    const t = await templates();
    const expected = await baseline;
    await fc.assert(
      fc.asyncProperty(
        hostile(1, 12),
        hostile(1, 6),
        hostile(8, 30),
        hostile(3, 10),
        async (title, byline, body, quote) => {
          const sentences = [`${body}.`, `The ${quote} was read out on Friday.`, `Mayor Lee said "${quote}".`];
          const article: Article = {
            ...base,
            id: 'hostile0000000000',
            title,
            byline,
            description: body,
            sections: [{ paragraphs: [sentences.join(' ')] }],
            sentences,
            quotes: [{ text: quote, speaker: byline }],
            wordCount: 400,
          };
          const issue = buildIssue([article, other], { week: WEEK, now: NOW, config });
          const rendered = await renderIssue(issue, t);
          const message = toMessage(rendered, RECIPIENT, config, { token: 't0', unsubscribeMailto: 'u@example.com' });
          const card = [rendered.issue.lead, ...rendered.issue.cards].find((c) => c.articleId === article.id);
          expect(card).toBeDefined();

          const visible = textOfHtml(message.html);
          const text = collapse(message.text);
          for (const shown of [title, byline, ...(card?.bullets ?? [])]) {
            expect(visible).toContain(collapse(shown));
            expect(text).toContain(collapse(shown));
          }
          // No raw markup from the article, and no token it spelled out was filled.
          expect(message.html).not.toContain('<script>');
          expect(message.html).not.toMatch(/<mj-/);
          expect(count(message.html, RECIPIENT.email)).toBe(expected.html);
          expect(count(message.text, RECIPIENT.email)).toBe(expected.text);
          expect(count(message.text, RECIPIENT.unsubscribeUrl)).toBe(expected.textUnsubscribe);
        },
      ),
      { numRuns: 40, seed: 20261201 },
    );
  }, 120_000);

  it('a title of {{{x}}} or a {{! comment}} neither fails the issue nor hides text', async () => {
    const cases = [
      { name: 'triple mustache', title: 'Budget {{{x}}} passes' },
      { name: 'comment across fields', title: 'Start {{{! hidden', byline: 'end }}} Reporter' },
      { name: 'block helper', title: '{{#each issue.cards}}loop{{/each}} vote' },
      { name: 'partial', title: 'Council {{> card}} report' },
      { name: 'backslash escape', title: 'Path C:\\{{x}}\\ and \\\\{{email}}' },
    ];
    for (const c of cases) {
      const article: Article = { ...base, title: c.title, byline: c.byline ?? base.byline };
      const rendered = await renderIssue(buildIssue([article], { week: WEEK, now: NOW, config }), await templates());
      const message = personalize(rendered, RECIPIENT);
      expect(collapse(message.text), c.name).toContain(collapse(c.title));
      expect(textOfHtml(message.html), c.name).toContain(collapse(c.title));
      if (c.byline) expect(collapse(message.text), c.name).toContain(c.byline);
    }
  });
});
