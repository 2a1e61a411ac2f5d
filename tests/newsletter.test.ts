import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { buildIssue, chooseLead } from '../src/newsletter/build-issue.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { config, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';

const GMAIL_CLIP = 102_400;
/** As in production: the public pages (and so the archive) on https. */
const publicConfig = { ...config, PUBLIC_URL: 'https://news.example.com' };

function dom(html: string): Document {
  return (parseHTML(html) as unknown as { document: Document }).document;
}

describe('buildIssue', () => {
  it('takes the week’s articles once each, newest first, the lead on top', () => {
    const articles = weekOfArticles(6);
    const outside = { ...weekOfArticles(1)[0], id: 'old', publishedAt: '2026-11-20T09:00:00Z' } as Article;
    const issue = buildIssue([...articles, articles[2] as Article, outside], { week: WEEK, now: NOW, config });
    expect(issue.articleCount).toBe(6);
    expect(issue.id).toBe(WEEK);
    expect(issue.number).toBe(48);
    expect(issue.date).toBe('Friday, 27 November 2026');
    expect(issue.lead.articleId).toBe(chooseLead(articles).id);
    const order = issue.cards.map((c) => c.publishedAt);
    expect(order).toEqual([...order].sort().reverse());
    expect(issue.cards.some((c) => c.articleId === issue.lead.articleId)).toBe(false);
  });

  it('the lead is the longest article with an image', () => {
    const articles = weekOfArticles(8);
    const lead = chooseLead(articles);
    expect(lead.image).not.toBeNull();
    for (const a of articles.filter((x) => x.image)) expect(a.wordCount).toBeLessThanOrEqual(lead.wordCount);
  });

  it('has a subject of at most 78 characters cut at a word, and a preheader of at most 200', () => {
    const [base] = weekOfArticles(1) as [Article];
    const long = {
      ...base,
      title: 'Council publishes the full and final account of what went wrong with the ferry repairs',
    };
    const issue = buildIssue([long], { week: WEEK, now: NOW, config });
    expect(issue.subject).toBe('The Example Times weekly: Council publishes the full and final account of…');
    expect(issue.subject.length).toBeLessThanOrEqual(78);
    expect(issue.preheader.length).toBeGreaterThan(0);
    expect(issue.preheader.length).toBeLessThanOrEqual(200);
  });

  it('tags card links with the issue as campaign', () => {
    const issue = buildIssue(weekOfArticles(3), { week: WEEK, now: NOW, config });
    for (const card of [issue.lead, ...issue.cards].filter((c) => c.url)) {
      expect(card.url).toMatch(/[?&]utm_source=newsletter&utm_medium=email&utm_campaign=2026-W48/);
    }
  });

  it('E_ISSUE_EMPTY for a week without articles', () => {
    try {
      buildIssue(weekOfArticles(3), { week: '2013-W37', now: NOW, config });
      expect.unreachable();
    } catch (error) {
      expect(isDispatchError(error, 'E_ISSUE_EMPTY')).toBe(true);
    }
  });
});

describe('renderIssue', () => {
  it('gives a newsletter with lang, alt text, both calls to action and the recipient’s own links', async () => {
    const rendered = await renderIssue(
      buildIssue(weekOfArticles(10), { week: WEEK, now: NOW, config: publicConfig }),
      await templates(),
    );
    expect(rendered.warnings).toEqual([]);
    const message = personalize(rendered, RECIPIENT);
    expect(message.html).not.toContain('{{');
    const document = dom(message.html);
    expect(document.documentElement.getAttribute('lang')).toBe('en');
    const images = [...document.querySelectorAll('img')];
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) expect(img.getAttribute('alt')?.trim()).toBeTruthy();
    const links = [...document.querySelectorAll('a')];
    const linkTo = (text: RegExp) => links.find((a) => text.test((a.textContent ?? '').trim()))?.getAttribute('href');
    expect(message.html).toContain('Follow us on Twitter');
    expect(linkTo(/^Follow @example$/)).toBe('https://twitter.com/example');
    expect(message.html).toContain('Join our weekly newsletter');
    expect(linkTo(/^Sign up free$/)).toMatch(/^https:\/\/news\.example\.com\/newsletter\?utm_source=newsletter/);
    expect(linkTo(/^Unsubscribe$/)).toBe(RECIPIENT.unsubscribeUrl);
    expect(linkTo(/^Manage preferences$/)).toBe(RECIPIENT.preferencesUrl);
    expect(linkTo(/^View in browser$/)).toBe('https://news.example.com/archive/2026-W48');
    expect(document.body.textContent).toContain('Hi Ana, here is what mattered this week.');
    expect(document.body.textContent).toContain('The Example Times, 1 Example Street');
    for (const a of links) expect(a.getAttribute('href') ?? '').toMatch(/^https:\/\//);
  });

  it('escapes article text and drops javascript: links', async () => {
    const hostile = parseArticle(
      JSON.stringify({
        title: '<script>alert("title")</script> Fire at the {{unsubscribeUrl}} depot',
        url: 'javascript:alert(1)',
        image: { url: 'javascript:alert(2)', alt: '"><script>alert(3)</script>' },
        body: [
          'Firefighters were called to the depot on Tuesday <script>alert("body")</script> night, officials said.',
          'The <a href="javascript:alert(4)">depot</a> will stay closed {{firstName}} until the inquiry reports.',
        ],
        publishedAt: '2026-11-26T10:00:00Z',
      }),
      { receivedAt: NOW },
    );
    const rendered = await renderIssue(
      buildIssue([hostile], { week: WEEK, now: NOW, config: publicConfig }),
      await templates(),
    );
    const message = personalize(rendered, RECIPIENT);
    const document = dom(message.html);
    expect(document.querySelectorAll('script')).toHaveLength(0);
    expect(message.html).toContain('&lt;script&gt;');
    expect(message.html).not.toMatch(/(?:href|src)\s*=\s*["']?\s*javascript:/i);
    for (const el of document.querySelectorAll('[href], [src]')) {
      expect(el.getAttribute('href') ?? el.getAttribute('src')).toMatch(/^https:\/\//);
    }
    // Article text that looks like a token is text, not a token: it stays as written.
    expect(document.body.textContent).toContain('{{unsubscribeUrl}} depot');
    expect(message.text).not.toContain(`${RECIPIENT.unsubscribeUrl} depot`);
    expect(message.text).toContain('Fire at the {{unsubscribeUrl}} depot');
  });

  it('builds the text part from the model: numbered stories, short lines, the unsubscribe URL', async () => {
    const rendered = await renderIssue(
      buildIssue(weekOfArticles(4), { week: WEEK, now: NOW, config }),
      await templates(),
    );
    const { text } = personalize(rendered, RECIPIENT);
    for (const line of text.split('\n')) {
      // Only a line that is one long URL or address may run longer.
      if (/\S\s+\S/.test(line.trim())) expect(line.length, line).toBeLessThanOrEqual(78);
    }
    expect(text).toMatch(/^1\. /m);
    expect(text).toContain(`Unsubscribe:\n${RECIPIENT.unsubscribeUrl}\n`);
    expect(text).toMatchSnapshot();
  });

  it.each([1, 5, 25, 60])('an issue of %i article(s) compiles strictly and fits under Gmail’s clip', async (count) => {
    const issue = buildIssue(weekOfArticles(count), { week: WEEK, now: NOW, config });
    const rendered = await renderIssue(issue, await templates(), { validation: 'strict' });
    const bytes = Buffer.byteLength(personalize(rendered, RECIPIENT).html);
    console.log(
      `issue of ${count} article(s): ${bytes} bytes personalized (measured ${rendered.bytes}), warnings: ${rendered.warnings.length}`,
    );
    expect(bytes).toBeLessThanOrEqual(GMAIL_CLIP);
    expect(rendered.bytes).toBeLessThanOrEqual(config.NEWSLETTER_MAX_HTML_BYTES);
    expect(rendered.issue.cards.length + 1 + rendered.issue.more.length).toBe(count);
  });

  it('cuts step by step to fit a small budget, the same way every time', async () => {
    const issue = buildIssue(weekOfArticles(10), { week: WEEK, now: NOW, config });
    const first = await renderIssue(issue, await templates(), { maxHtmlBytes: 60_000 });
    expect(first.bytes).toBeLessThanOrEqual(60_000);
    expect(first.warnings[0]).toMatch(/^over 60000 bytes: dropped the images of \d+ card\(s\) beyond the lead$/);
    expect(first.warnings[1]).toMatch(/^over 60000 bytes: kept only the first bullet of \d+ card\(s\)$/);
    expect(first.warnings.slice(2).every((w) => /moved ".+" into More this week$/.test(w))).toBe(true);
    expect(first.issue.cards.every((c) => c.image === null && c.bullets.length <= 1)).toBe(true);
    expect(first.issue.lead.image).not.toBeNull();
    const second = await renderIssue(issue, await templates(), { maxHtmlBytes: 60_000 });
    expect(second.html).toBe(first.html);
  });
});

describe('template errors', () => {
  it('E_TEMPLATE names the file and line of a Handlebars mistake', async () => {
    const t = await templates();
    const broken = {
      ...t,
      partials: {
        ...t.partials,
        card: { path: 'templates/partials/card.mjml.hbs', source: '<mj-section>\n{{#if title}\n</mj-section>' },
      },
    };
    const issue = buildIssue(weekOfArticles(3), { week: WEEK, now: NOW, config });
    await expect(renderIssue(issue, broken)).rejects.toMatchObject({
      code: 'E_TEMPLATE',
      message: expect.stringMatching(/^templates\/partials\/card\.mjml\.hbs: Parse error on line 2:/),
    });
  });

  it('E_MJML_INVALID at strict level names the template line; soft level returns it as a warning', async () => {
    const t = await templates();
    const card = t.partials.card as { path: string; source: string };
    const broken = {
      ...t,
      partials: {
        ...t.partials,
        card: {
          ...card,
          source: card.source.replace('<mj-text font-size="15px">', '<mj-text colour="red" font-size="15px">'),
        },
      },
    };
    const issue = buildIssue(weekOfArticles(3), { week: WEEK, now: NOW, config });
    await expect(renderIssue(issue, broken, { validation: 'strict' })).rejects.toMatchObject({
      code: 'E_MJML_INVALID',
      message: expect.stringMatching(
        /^templates\/partials\/card\.mjml\.hbs line \d+ \(mj-text\): Attribute colour is illegal/,
      ),
    });
    const soft = await renderIssue(issue, broken, { validation: 'soft' });
    expect(soft.warnings.some((w) => /card\.mjml\.hbs line \d+ \(mj-text\): Attribute colour is illegal/.test(w))).toBe(
      true,
    );
  });
});

describe('personalize', () => {
  it('falls back to "there" and escapes names in HTML, not in text', async () => {
    const rendered = await renderIssue(
      buildIssue(weekOfArticles(1), { week: WEEK, now: NOW, config }),
      await templates(),
    );
    const anonymous = personalize(rendered, { ...RECIPIENT, firstName: null });
    expect(anonymous.text).toContain('Hi there, here is');
    const odd = personalize(rendered, { ...RECIPIENT, firstName: "<b>O'Brien</b>" });
    expect(odd.html).toContain('Hi &lt;b&gt;O&#39;Brien&lt;/b&gt;,');
    expect(odd.text).toContain("Hi <b>O'Brien</b>,");
  });
});
