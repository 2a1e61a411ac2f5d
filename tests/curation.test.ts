import fc from 'fast-check';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import { buildIssue, chooseLead, noteParagraphs } from '../src/newsletter/build-issue.js';
import {
  applyCuration,
  applyEdit,
  type Curation,
  type CurationEdit,
  EDIT_MAX_IDS,
  NO_CURATION,
  NOTE_MAX_CHARS,
} from '../src/newsletter/curation.js';
import { personalize, RECIPIENT_FIELDS } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { config, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

function dom(html: string): Document {
  return (parseHTML(html) as unknown as { document: Document }).document;
}

function textOfHtml(html: string): string {
  return collapse(dom(html).body.textContent ?? '');
}

/** The texts of the note's blocks (`<p>` in its `.note` column). */
function paragraphsOf(html: string): string[] {
  return [...dom(html).querySelectorAll('.note p')].map((p) => collapse(p.textContent ?? ''));
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** The error `run` throws: a DispatchError with `code`. */
function thrown(run: () => unknown, code: string): Error {
  try {
    run();
  } catch (error) {
    expect(isDispatchError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return error as Error;
  }
  return expect.unreachable(`no ${code}`);
}

const curation = (fields: Partial<Curation>): Curation => ({ ...NO_CURATION, ...fields, revision: 3 });

describe('applyEdit', () => {
  const cases: [string, Partial<Curation>, CurationEdit, Partial<Curation>][] = [
    ['pins a lead', {}, { lead: 'a1' }, { lead: 'a1' }],
    ['unpins with null', { lead: 'a1' }, { lead: null }, { lead: null }],
    ['leaves the lead when the edit does not name one', { lead: 'a1' }, { note: 'Hi' }, { lead: 'a1', note: 'Hi' }],
    ['drop adds, once each, in order', { drop: ['a1'] }, { drop: ['b2', 'a1', 'b2'] }, { drop: ['a1', 'b2'] }],
    ['keep takes out of the dropped', { drop: ['a1', 'b2'] }, { keep: ['a1', 'zz'] }, { drop: ['b2'] }],
    ['keep wins over a drop of the same edit', {}, { drop: ['a1', 'b2'], keep: ['a1'] }, { drop: ['b2'] }],
    ['pinning a dropped story puts it back', { drop: ['a1', 'b2'] }, { lead: 'a1' }, { lead: 'a1', drop: ['b2'] }],
    ['dropping the pinned lead unpins it', { lead: 'a1' }, { drop: ['a1'] }, { lead: null, drop: ['a1'] }],
    ['order replaces', { order: ['a1', 'b2'] }, { order: ['c3', 'a1', 'c3'] }, { order: ['c3', 'a1'] }],
    ['an empty order is newest first again', { order: ['a1'] }, { order: [] }, { order: [] }],
    [
      'leaves the order when the edit does not name one',
      { order: ['a1'] },
      { drop: ['b2'] },
      { order: ['a1'], drop: ['b2'] },
    ],
    ['note replaced, trimmed', { note: 'Old' }, { note: '  New note\n\n' }, { note: 'New note' }],
    ['a blank note is none', { note: 'Old' }, { note: ' \n\t\n ' }, { note: null }],
    ['a null note is none', { note: 'Old' }, { note: null }, { note: null }],
    ['leaves the note when the edit does not name one', { note: 'Old' }, { lead: 'a1' }, { note: 'Old', lead: 'a1' }],
    ['ids are trimmed', {}, { lead: ' a1 ', drop: [' b2'] }, { lead: 'a1', drop: ['b2'] }],
    [
      'reset forgets every earlier edit first',
      { lead: 'a1', drop: ['b2'], order: ['c3'], note: 'Old' },
      { reset: true, drop: ['d4'] },
      { lead: null, drop: ['d4'], order: [], note: null },
    ],
    ['an empty edit changes nothing', { lead: 'a1', drop: ['b2'] }, {}, { lead: 'a1', drop: ['b2'] }],
  ];
  it.each(cases)('%s', (_name, current, edit, expected) => {
    const next = applyEdit(curation(current), edit);
    expect(next).toEqual({ lead: null, drop: [], order: [], note: null, ...current, ...expected });
    // The store sets these: an edit never carries them.
    expect(next).not.toHaveProperty('revision');
    expect(next).not.toHaveProperty('updatedAt');
  });

  it('accepts the ids articles have: 16 hex digits, and the repeated fixtures’ <hex>-<n>', () => {
    const ids = weekOfArticles(30).map((a) => a.id);
    expect(ids.some((id) => /-\d+$/.test(id))).toBe(true);
    expect(applyEdit(NO_CURATION, { order: ids }).order).toEqual(ids);
  });

  const badIds: [string, CurationEdit, RegExp][] = [
    ['markup', { lead: '<script>alert(1)</script>' }, /^lead: not an article id: "<script>alert\(1\)<\/script>"$/],
    ['a token', { drop: ['{{email}}'] }, /^drop: not an article id: "\{\{email\}\}"$/],
    ['a space inside', { keep: ['a1 b2'] }, /^keep: not an article id: "a1 b2"$/],
    ['empty', { order: [''] }, /^order: not an article id: ""$/],
    ['too long, quoted short', { lead: 'a'.repeat(65) }, /^lead: not an article id: "a{40}"$/],
    ['a line break, quoted on one line', { drop: ['a1\nE_FORGED: x'] }, /^drop: not an article id: "a1 E_FORGED: x"$/],
    ['a terminal escape', { lead: 'a1\u001b[2J' }, /^lead: not an article id: "a1 \[2J"$/],
  ];
  it.each(badIds)('refuses an id that is not one (%s): E_INPUT_FORMAT, one line', (_name, edit, message) => {
    const error = thrown(() => applyEdit(NO_CURATION, edit), 'E_INPUT_FORMAT');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('refuses pinning and dropping the same story in one edit', () => {
    const error = thrown(() => applyEdit(NO_CURATION, { lead: 'a1', drop: ['a1'] }), 'E_INPUT_FORMAT');
    expect(error.message).toBe('"a1" cannot be both the pinned lead and dropped');
  });

  it(`refuses more than ${EDIT_MAX_IDS} ids in one list`, () => {
    const ids = Array.from({ length: EDIT_MAX_IDS + 1 }, (_, i) => `id${i}`);
    expect(thrown(() => applyEdit(NO_CURATION, { drop: ids }), 'E_INPUT_FORMAT').message).toBe(
      `drop: ${EDIT_MAX_IDS + 1} articles named; at most ${EDIT_MAX_IDS}`,
    );
    expect(applyEdit(NO_CURATION, { drop: ids.slice(1) }).drop).toHaveLength(EDIT_MAX_IDS);
  });

  it(`takes a note of ${NOTE_MAX_CHARS} characters (counted as a reader counts them) and refuses a longer one`, () => {
    expect(applyEdit(NO_CURATION, { note: 'x'.repeat(NOTE_MAX_CHARS) }).note).toHaveLength(NOTE_MAX_CHARS);
    // An emoji is one character, two UTF-16 units.
    expect(applyEdit(NO_CURATION, { note: '📰'.repeat(NOTE_MAX_CHARS) }).note).toHaveLength(2 * NOTE_MAX_CHARS);
    const error = thrown(() => applyEdit(NO_CURATION, { note: 'x'.repeat(5000) }), 'E_INPUT_FORMAT');
    expect(error.message).toBe(`the note is 5000 characters long; at most ${NOTE_MAX_CHARS}`);
    // The current note is left as it was (the edit changes nothing when it fails).
    const current = curation({ note: 'Kept' });
    thrown(() => applyEdit(current, { note: 'x'.repeat(NOTE_MAX_CHARS + 1) }), 'E_INPUT_FORMAT');
    expect(current.note).toBe('Kept');
  });
});

describe('applyCuration', () => {
  const week = weekOfArticles(6);
  const [a0, a1, a2, a3, a4, a5] = week as [Article, Article, Article, Article, Article, Article];
  const ids = (articles: readonly Article[]) => articles.map((a) => a.id);
  const apply = (fields: Partial<Curation>) => applyCuration(week, curation(fields), WEEK, chooseLead);

  it('without an edit: the usual lead, the others newest first, no warnings', () => {
    const { lead, others, warnings } = apply({});
    expect(lead).toBe(chooseLead(week));
    expect(ids(others)).toEqual(ids(week.filter((a) => a !== lead)));
    expect(warnings).toEqual([]);
  });

  it('the pinned lead leads; the order comes first among the others, then the rest newest first', () => {
    const { lead, others, warnings } = apply({ lead: a4.id, order: [a5.id, a2.id] });
    expect(lead).toBe(a4);
    expect(ids(others)).toEqual(ids([a5, a2, a0, a1, a3]));
    expect(warnings).toEqual([]);
  });

  it('dropped stories leave; a dropped usual lead gives way to the next usual choice', () => {
    const usual = chooseLead(week);
    const { lead, others } = apply({ drop: [usual.id, a5.id] });
    const left = week.filter((a) => a !== usual && a !== a5);
    expect(lead).toBe(chooseLead(left));
    expect(ids(others)).toEqual(ids(left.filter((a) => a !== lead)));
  });

  it('a pinned lead that is also dropped does not lead (a stored curation may say both)', () => {
    const { lead, others } = apply({ lead: a1.id, drop: [a1.id] });
    expect(lead).not.toBe(a1);
    expect(others).not.toContain(a1);
  });

  it('an order naming the lead or a dropped story skips it', () => {
    const { lead, others } = apply({ lead: a3.id, drop: [a0.id], order: [a3.id, a0.id, a4.id] });
    expect(lead).toBe(a3);
    expect(ids(others)).toEqual(ids([a4, a1, a2, a5]));
  });

  it('ids that name no article of the week are ignored, each with a warning', () => {
    const { lead, others, warnings } = apply({ lead: 'gone1', drop: ['gone2'], order: ['gone3', a2.id] });
    expect(lead).toBe(chooseLead(week));
    expect(lead).not.toBe(a2);
    expect(others[0]).toBe(a2);
    expect(others).toHaveLength(5);
    expect(warnings).toEqual([
      `the edit's dropped story "gone2" is no article of ${WEEK}: ignored`,
      `the edit's pinned lead "gone1" is no article of ${WEEK}: ignored`,
      `the edit's ordered story "gone3" is no article of ${WEEK}: ignored`,
    ]);
  });

  it('E_ISSUE_EMPTY when every story was dropped', () => {
    const error = thrown(() => apply({ drop: ids(week) }), 'E_ISSUE_EMPTY');
    expect(error.message).toBe(`every story of ${WEEK} was dropped by an edit`);
  });
});

describe('noteParagraphs', () => {
  const cases: [string, string | null, string[]][] = [
    ['none', null, []],
    ['blank', '  \n\n \t ', []],
    ['one line', '  A word from the desk. ', ['A word from the desk.']],
    ['lines of one paragraph join', 'First line\nsecond line', ['First line second line']],
    ['blank lines part paragraphs', 'One\n\nTwo\n \n\t\nThree', ['One', 'Two', 'Three']],
    ['CRLF', 'One\r\n\r\nTwo\r\n', ['One', 'Two']],
    ['control and bidi characters out', 'Bell\u0007 and \u202eevil\u202c\u001b[2J', ['Bell and evil [2J']],
    ['runs of space one space', 'Wide     \t  gap', ['Wide gap']],
  ];
  it.each(cases)('%s', (_name, note, paragraphs) => {
    expect(noteParagraphs(note)).toEqual(paragraphs);
  });

  it('a note of blank lines only, or of many short paragraphs, comes out whole and in one pass', () => {
    expect(noteParagraphs('\n'.repeat(NOTE_MAX_CHARS))).toEqual([]);
    expect(noteParagraphs(' \n\t\r\n'.repeat(NOTE_MAX_CHARS / 4))).toEqual([]);
    const n = Math.floor(NOTE_MAX_CHARS / 3);
    expect(noteParagraphs('x\n\n'.repeat(n))).toEqual(Array(n).fill('x'));
    // Far past what an edit can save (a store written some other way): cut at the limit, not read whole.
    expect(noteParagraphs(`${'\n'.repeat(1_000_000)}late`)).toEqual([]);
    expect(noteParagraphs('y'.repeat(1_000_000))[0]).toHaveLength(NOTE_MAX_CHARS);
  });
});

describe('buildIssue with a curation', () => {
  const week = weekOfArticles(8);
  const [a0, , a2, a3, , a5] = week as [Article, Article, Article, Article, Article, Article];

  it('applies it: the pinned lead, the order, the drops, the note as paragraphs; warnings told', () => {
    const warnings: string[] = [];
    const issue = buildIssue(week, {
      week: WEEK,
      now: NOW,
      config,
      curation: { lead: a3.id, drop: [a0.id, 'gone'], order: [a5.id, a2.id], note: 'First.\n\nSecond.' },
      onWarning: (w) => warnings.push(w),
    });
    expect(chooseLead(week)).not.toBe(a3);
    expect(issue.lead.articleId).toBe(a3.id);
    expect(issue.cards.slice(0, 2).map((c) => c.articleId)).toEqual([a5.id, a2.id]);
    expect(issue.cards.map((c) => c.articleId)).not.toContain(a0.id);
    expect(issue.more.map((m) => m.title)).not.toContain(a0.title);
    expect(issue.articleCount).toBe(7);
    expect(issue.note).toEqual(['First.', 'Second.']);
    expect(warnings).toEqual([`the edit's dropped story "gone" is no article of ${WEEK}: ignored`]);
    // The subject and preheader follow the lead the editor chose.
    expect(issue.subject).toContain(a3.title.slice(0, 20));
  });

  it('without one: as before, no note; the archive page and the sign-up page are on the issue', () => {
    const issue = buildIssue(week, { week: WEEK, now: NOW, config });
    expect(issue.lead.articleId).toBe(chooseLead(week).id);
    expect(issue.note).toEqual([]);
    expect(issue.archiveUrl).toBe(`http://127.0.0.1:3001/archive/${WEEK}`);
    expect(issue.site.signupPageUrl).toBe('http://127.0.0.1:3001/subscribe');
    const elsewhere = buildIssue(week, {
      week: WEEK,
      now: NOW,
      config: { ...config, ARCHIVE_URL: 'https://archive.example.org/weekly' },
    });
    expect(elsewhere.archiveUrl).toBe(`https://archive.example.org/weekly/${WEEK}`);
  });

  it('E_ISSUE_EMPTY when the edit dropped every story', () => {
    const drop = week.map((a) => a.id);
    const error = thrown(
      () => buildIssue(week, { week: WEEK, now: NOW, config, curation: { ...NO_CURATION, drop } }),
      'E_ISSUE_EMPTY',
    );
    expect(error.message).toBe(`every story of ${WEEK} was dropped by an edit`);
  });

  it('an order alone keeps the usual lead and moves the stories it names to the top', () => {
    const issue = buildIssue(week, { week: WEEK, now: NOW, config, curation: { ...NO_CURATION, order: [a0.id] } });
    expect(issue.lead.articleId).toBe(chooseLead(week).id);
    expect(issue.cards[0]?.articleId).toBe(a0.id);
    expect(issue.cards.slice(1).map((c) => c.publishedAt)).toEqual(
      issue.cards
        .slice(1)
        .map((c) => c.publishedAt)
        .sort()
        .reverse(),
    );
  });
});

/** What an editor may type that a template engine, the merge or a mail client would read as its own. */
const HOSTILE_NOTES = [
  '{{email}}',
  '{{{x}}}',
  '<script>alert(1)</script>',
  '\\{{x}}',
  '\\\\{{firstName}}',
  '{{! hidden',
  '{{> card}}',
  '{{#each issue.cards}}loop{{/each}}',
  '{{{unsubscribeUrl}}}',
  '</mj-text></mj-column><mj-raw><script>x</script></mj-raw>',
  '"><img src=x onerror=alert(1)>',
  "$& $' $`",
];

describe('an editor’s note is data, never template', () => {
  const [base, other] = weekOfArticles(2) as [Article, Article];

  async function render(note: string) {
    const saved = applyEdit(NO_CURATION, { note });
    const issue = buildIssue([base, other], { week: WEEK, now: NOW, config, curation: { ...NO_CURATION, ...saved } });
    const rendered = await renderIssue(issue, await templates(), { web: true });
    return { issue, rendered, message: personalize(rendered, RECIPIENT) };
  }

  /** How often the recipient's values appear without a note: the templates' own tokens. */
  const baseline = (async () => {
    const { message } = await render('');
    return Object.fromEntries(
      (['html', 'text'] as const).map((part) => [part, count(message[part], RECIPIENT.email)]),
    ) as Record<'html' | 'text', number>;
  })();

  it.each(HOSTILE_NOTES)('%s shows as written in the HTML, the text part and the web page', async (hostile) => {
    const note = `Dear readers, ${hostile} matters.\n\nSecond ${hostile} paragraph.`;
    const { rendered, message } = await render(note);
    const expected = await baseline;
    const shown = [`Dear readers, ${collapse(hostile)} matters.`, `Second ${collapse(hostile)} paragraph.`];
    // Each paragraph its own block, under the heading that says whose words they are.
    expect(paragraphsOf(message.html)).toEqual(shown);
    expect(paragraphsOf(rendered.web?.html ?? '')).toEqual(shown);
    expect(textOfHtml(message.html)).toContain(`From the editor ${shown[0]}`);
    expect(collapse(message.text)).toContain(`this week. From the editor ${shown[0]} ${shown[1]} 1. `);
    // No markup of the note's, no token of the note's filled.
    expect(message.html).not.toMatch(/<script|<img src=x|onerror=/i);
    expect(rendered.web?.html).not.toMatch(/<script|<img src=x|onerror=/i);
    expect(count(message.html, RECIPIENT.email)).toBe(expected.html);
    expect(count(message.text, RECIPIENT.email)).toBe(expected.text);
    expect(message.text).not.toContain(RECIPIENT.unsubscribeUrl.repeat(2));
    for (const field of RECIPIENT_FIELDS) expect(rendered.web?.html).not.toContain(`{{${field}}}`);
  });

  it('any mix of hostile pieces and words: verbatim in text and HTML, the recipient’s values only where the templates put them', async () => {
    const t = await templates();
    const expected = await baseline;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...HOSTILE_NOTES), fc.constantFrom('the', 'desk', '\n\n', 'vote')), {
          minLength: 1,
          maxLength: 12,
        }),
        async (pieces) => {
          const note = `Note ${pieces.join(' ')}`;
          const saved = applyEdit(NO_CURATION, { note });
          const issue = buildIssue([base, other], {
            week: WEEK,
            now: NOW,
            config,
            curation: { ...NO_CURATION, ...saved },
          });
          const rendered = await renderIssue(issue, t);
          const message = personalize(rendered, RECIPIENT);
          expect(paragraphsOf(message.html)).toEqual(issue.note);
          const text = collapse(message.text);
          for (const paragraph of issue.note ?? []) expect(text).toContain(paragraph);
          expect(count(message.html, RECIPIENT.email)).toBe(expected.html);
          expect(count(message.text, RECIPIENT.email)).toBe(expected.text);
        },
      ),
      { numRuns: 25, seed: 20261202 },
    );
  }, 60_000);

  it('a note of 5000 characters is refused; one of many blank lines renders as no note', async () => {
    thrown(() => applyEdit(NO_CURATION, { note: '{{email}}'.repeat(556) }), 'E_INPUT_FORMAT');
    const { issue, message } = await render('\n \n'.repeat(600));
    expect(issue.note).toEqual([]);
    expect(message.html).not.toContain('From the editor');
    expect(message.text).not.toContain('From the editor');
  });

  it('a long note wraps to the text part’s short lines, each paragraph apart', async () => {
    const long = 'The council meets again on Monday and we will be there to report it. '.repeat(12).trim();
    const { message } = await render(`${long}\n\nSee you next week.`);
    const start = message.text.indexOf('From the editor');
    const block = message.text.slice(start, message.text.indexOf('\n1. ', start));
    for (const line of block.split('\n')) expect(line.length, line).toBeLessThanOrEqual(78);
    expect(block.split('\n\n').map(collapse)).toEqual(['From the editor', long, 'See you next week.']);
  });
});
