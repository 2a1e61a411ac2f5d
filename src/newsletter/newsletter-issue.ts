import type { IsoWeek } from './iso-week.js';

/** One article as the newsletter shows it. Strings are plain text; templates escape them. */
export interface IssueCard {
  articleId: string;
  title: string;
  /** The article's link with newsletter UTM parameters; null when the article has no http(s) URL. */
  url: string | null;
  byline: string | null;
  /** Publication date in the configured time zone, e.g. "13 September 2013". */
  date: string;
  publishedAt: string;
  image: { url: string; alt: string } | null;
  bullets: string[];
}

/** The publisher, as the newsletter's masthead, calls to action and footer show it. */
export interface IssueSite {
  name: string;
  url: string;
  twitterHandle: string;
  twitterUrl: string;
  /** The newsletter's sign-up link (NEWSLETTER_SIGNUP_URL, with UTM parameters): the "Join" call to action. */
  signupUrl: string;
  /**
   * The sign-up page of `dispatch serve` (PUBLIC_URL/subscribe): where the web render sends a reader
   * in place of a mail's unsubscribe area. Missing on builds from before the web render.
   */
  signupPageUrl?: string;
  address: string;
}

/** A week's newsletter, before any template sees it: what `renderIssue` renders. */
export interface NewsletterIssue {
  /** Stable per site and week: the week ("2013-W37"); also the utm_campaign of its links. */
  id: string;
  week: IsoWeek;
  /** The ISO week number: issue No. 37 of 2013. */
  number: number;
  year: number;
  /** The issue's date in the configured time zone, e.g. "Friday 13 September 2013". */
  date: string;
  subject: string;
  preheader: string;
  lead: IssueCard;
  /** The other stories with full cards: those an editor ordered first, then newest first. */
  cards: IssueCard[];
  /** Stories listed by title only under "More this week", in the same order. */
  more: { title: string; url: string | null }[];
  site: IssueSite;
  articleCount: number;
  /**
   * The editor's note shown above the stories, as paragraphs of plain text; empty: no note.
   * Missing on issues built before notes existed.
   */
  note?: string[];
  /** The issue's public page (ARCHIVE_URL/<week>): the "View in browser" link. Missing on older builds. */
  archiveUrl?: string;
}
