import { archiveUrlOf, type Config } from '../config.js';
import { DispatchError } from '../errors.js';
import type { Article } from '../ingest/article.js';
import { withUtm } from '../links/with-utm.js';
import { type Summary, summarize } from '../summarize/summarize.js';
import { cutToFit } from '../text/cut-text.js';
import { oneLine } from '../text/one-line.js';
import { applyCuration, type Curation, NO_CURATION, NOTE_MAX_CHARS } from './curation.js';
import { type IsoWeek, parseIsoWeek, weekRange } from './iso-week.js';
import { PREHEADER_MAX_CHARS, SUBJECT_MAX_CHARS } from './limits.js';
import type { IssueCard, NewsletterIssue } from './newsletter-issue.js';

export type IssueConfig = Pick<
  Config,
  | 'SITE_NAME'
  | 'SITE_URL'
  | 'TWITTER_HANDLE'
  | 'NEWSLETTER_SIGNUP_URL'
  | 'PUBLISHER_ADDRESS'
  | 'TZ'
  | 'UTM_PARAMS'
  | 'NEWSLETTER_MAX_CARDS'
  | 'ARCHIVE_URL'
  | 'PUBLIC_URL'
>;

export interface BuildIssueOptions {
  week: IsoWeek;
  /** When the issue is built: its date. Time is an input, never read here. */
  now: Date;
  config: IssueConfig;
  /** Summaries already computed, by article id; the rest are computed here. */
  summaries?: ReadonlyMap<string, Summary>;
  /** The editors' curation of the week (io/issue-edits.ts). @defaultValue NO_CURATION */
  curation?: Pick<Curation, 'lead' | 'drop' | 'order' | 'note'>;
  /** Told of each curation id that names no article of the week (it is ignored). */
  onWarning?: (warning: string) => void;
}

function dateIn(instant: Date, timeZone: string, weekday = false): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: weekday ? 'long' : undefined,
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(instant);
}

/**
 * The lead story: the week's biggest story, taken to be the longest article that has an image
 * (editors give their main story the most words and a picture); if none has an image, the longest
 * article. Ties go to the newer one.
 */
export function chooseLead(articles: readonly Article[]): Article {
  const withImage = articles.filter((a) => a.image);
  const pool = withImage.length ? withImage : articles;
  return pool.reduce((best, a) =>
    a.wordCount > best.wordCount || (a.wordCount === best.wordCount && a.publishedAt > best.publishedAt) ? a : best,
  );
}

/**
 * The editor's note as paragraphs: parted by blank lines, each one line of text (control
 * characters and runs of white space become one space), empty ones dropped. Line by line, so a
 * note of any shape costs its length; cut at NOTE_MAX_CHARS, which an edit cannot pass anyway.
 */
export function noteParagraphs(note: string | null): string[] {
  if (!note) return [];
  const paragraphs: string[] = [];
  let current: string[] = [];
  const end = () => {
    const paragraph = oneLine(current.join(' '));
    if (paragraph) paragraphs.push(paragraph);
    current = [];
  };
  // A code point is at most two UTF-16 units: the first 2 × max units hold the first max characters.
  const text = Array.from(note.slice(0, 2 * NOTE_MAX_CHARS))
    .slice(0, NOTE_MAX_CHARS)
    .join('');
  for (const line of text.split('\n')) {
    if (oneLine(line)) current.push(line);
    else end();
  }
  end();
  return paragraphs;
}

/**
 * The newsletter issue for one ISO week: the articles published in it (in the configured time
 * zone), deduplicated by id, newest first; the lead story on top; up to NEWSLETTER_MAX_CARDS full
 * cards and the rest listed under "More this week". The editors' curation is applied first (see
 * `applyCuration`): stories dropped, the lead pinned, the order set, the note above the stories.
 * Pure: summaries are computed here when not given.
 */
export function buildIssue(articles: readonly Article[], options: BuildIssueOptions): NewsletterIssue {
  const { config, week } = options;
  const { year, week: number } = parseIsoWeek(week);
  const { start, end } = weekRange(week, config.TZ);
  const byId = new Map<string, Article>();
  for (const article of articles) {
    const at = Date.parse(article.publishedAt);
    if (at >= start.getTime() && at < end.getTime() && !byId.has(article.id)) byId.set(article.id, article);
  }
  const inWeek = [...byId.values()].sort(
    (a, b) => b.publishedAt.localeCompare(a.publishedAt) || a.id.localeCompare(b.id),
  );
  if (inWeek.length === 0) {
    throw new DispatchError('E_ISSUE_EMPTY', `no articles were published in ${week} (${config.TZ})`);
  }

  const link = (url: string | null) =>
    url && config.UTM_PARAMS ? withUtm(url, { source: 'newsletter', medium: 'email', campaign: week }) : url;
  const summaryOf = (a: Article) => options.summaries?.get(a.id) ?? summarize(a);
  const card = (a: Article, summary: Summary): IssueCard => ({
    articleId: a.id,
    title: a.title,
    url: link(a.url),
    byline: a.byline,
    date: dateIn(new Date(a.publishedAt), config.TZ),
    publishedAt: a.publishedAt,
    image: a.image ? { url: a.image.url, alt: a.image.alt ?? a.title } : null,
    bullets: summary.bullets,
  });

  const curation = options.curation ?? NO_CURATION;
  const curated = applyCuration(inWeek, curation, week, chooseLead);
  for (const warning of curated.warnings) options.onWarning?.(warning);
  const leadArticle = curated.lead;
  const leadSummary = summaryOf(leadArticle);
  const others = curated.others;
  const carded = others.slice(0, Math.max(0, config.NEWSLETTER_MAX_CARDS - 1));
  const listed = others.slice(carded.length);
  const subject = `${config.SITE_NAME} weekly: ${leadArticle.title}`;
  const issueDate = new Date(Math.min(options.now.getTime(), end.getTime() - 1));
  const handle = config.TWITTER_HANDLE.replace(/^@/, '');

  return {
    id: week,
    week,
    number,
    year,
    date: dateIn(issueDate, config.TZ, true),
    subject: cutToFit(subject, (s) => s.length <= SUBJECT_MAX_CHARS) ?? subject.slice(0, SUBJECT_MAX_CHARS),
    preheader: cutToFit(leadSummary.oneLine, (s) => s.length <= PREHEADER_MAX_CHARS) ?? '',
    lead: card(leadArticle, leadSummary),
    cards: carded.map((a) => card(a, summaryOf(a))),
    more: listed.map((a) => ({ title: a.title, url: link(a.url) })),
    site: {
      name: config.SITE_NAME,
      url: config.SITE_URL,
      twitterHandle: config.TWITTER_HANDLE,
      twitterUrl: `https://twitter.com/${handle}`,
      signupUrl: link(config.NEWSLETTER_SIGNUP_URL) ?? config.NEWSLETTER_SIGNUP_URL,
      signupPageUrl: `${config.PUBLIC_URL}/subscribe`,
      address: config.PUBLISHER_ADDRESS,
    },
    articleCount: 1 + others.length,
    note: noteParagraphs(curation.note),
    archiveUrl: `${archiveUrlOf(config)}/${week}`,
  };
}
