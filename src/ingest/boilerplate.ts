/**
 * Boilerplate rules: what a news site wraps around an article, and what to do with each line of it.
 * Add a rule here to teach Dispatch a new site's furniture; every rule is tested by name.
 *
 * - `drop`: the line is not part of the article.
 * - `end`: the line and everything after it are not (a comment form), unless article prose follows
 *   it at once: then the line is a subhead of the article ("Join the conversation" over a paragraph
 *   on how to comment on a plan).
 * - `links`: the line heads a box of links to other pages ("Related Items"): the line and the links
 *   under it go; the article goes on after them when article text follows, and ends there when not.
 *   Directly over article text (no links between), the line is a subhead ("Recommended" over a
 *   report's recommendations).
 * - `attribution`: the line names the article's source ("Source: Aljazeera, Agencies").
 * - `byline`: the line names the author ("By Jane Doe").
 *
 * Lines that the markup makes list items, table rows, captions, quotations or `pre` are never
 * `end` or `links` markers: a how-to step "Leave a comment" is article text.
 */
export type BoilerplateAction = 'drop' | 'end' | 'links' | 'attribution' | 'byline';

export interface BoilerplateRule {
  /** A short name, shown in tests and debugging output. */
  name: string;
  action: BoilerplateAction;
  /** Matched against the line with curly quotes straightened and whitespace collapsed. */
  pattern: RegExp;
  /**
   * A heading this rule matches heads a box (a newsletter sign-up): the short lines under it, up
   * to the next heading or paragraph of prose, go with it ("Sport, news and what's on, every
   * Thursday."). @defaultValue false
   */
  box?: boolean;
  /**
   * Lines longer than this never match (article sentences can mention "newsletter" too). At most
   * 200: longer lines are not even compared. @defaultValue 120
   */
  maxLength?: number;
}

const SHARE_WORDS = [
  'share',
  'share this',
  'share this with',
  'share this article',
  'share on facebook',
  'share on twitter',
  'email',
  'e-mail',
  'facebook',
  'twitter',
  'x',
  'messenger',
  'whatsapp',
  'pinterest',
  'linkedin',
  'reddit',
  'telegram',
  'tumblr',
  'print',
  'tweet',
  'copy link',
  'copy this link',
  'link copied',
  'comments',
  'comment',
  'save',
];

/** The words of a date or time stamp: numbers, months, weekdays, a.m./p.m., "ago", time zones. */
const TIME_WORDS = [
  '\\d{1,4}(?:st|nd|rd|th|h|am|pm)?',
  '[ap]\\.?m\\.?',
  '(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*',
  '(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?',
  'at',
  'on',
  'ago',
  'today',
  'yesterday',
  'just now',
  '(?:sec|second|min|minute|hr|hour|day|week|month|year)s?',
  'gmt|bst|utc|cet|cest|est|edt|cst|cdt|mst|mdt|pst|pdt|aest|aedt|nzst|nzdt|ist|et|pt|ct',
].join('|');

export const BOILERPLATE_RULES: readonly BoilerplateRule[] = [
  { name: 'attribution', action: 'attribution', pattern: /^(?:source|sources)\s*:\s*(?<value>.+)$/i },
  {
    name: 'byline',
    action: 'byline',
    pattern:
      /^[Bb]y\s+(?<value>\p{Lu}[\p{L}'’.-]*(?:,?\s+(?:and\s+)?\p{Lu}[\p{L}'’.-]*){0,5})(?:\s*[·|•–—]\s*.{1,40})?$/u,
    maxLength: 80,
  },
  {
    name: 'follow-us',
    action: 'drop',
    box: true,
    pattern: /\bfollow us on (?:twitter|x|facebook|instagram|linkedin|threads|bluesky)\b/i,
    maxLength: 60,
  },
  {
    // "Get the email address of your councillor" is a how-to step, not a call to subscribe.
    name: 'newsletter-cta',
    action: 'drop',
    box: true,
    pattern:
      /^(?:join|subscribe to|sign up (?:for|to)|get) (?:our|the) (?:free |daily |weekly )*(?:newsletters?|briefing|emails?(?! address))\b/i,
  },
  {
    name: 'related',
    action: 'links',
    pattern:
      /^(?:related(?: items| articles| stories| content| news| coverage| topics| links)?|more (?:on this story|from .{1,40}|stories|news)|you (?:may|might) also like|read (?:more|next)|recommended(?: for you)?|most (?:read|popular)|trending(?: now)?)\s*:?$/i,
    maxLength: 60,
  },
  {
    name: 'comment-form',
    action: 'end',
    pattern: /^(?:leave a (?:reply|comment)|post a comment|add a comment|join the (?:conversation|discussion))\s*:?$/i,
    maxLength: 60,
  },
  {
    name: 'comment-notice',
    action: 'end',
    pattern: /^your email address will not be published\b/i,
  },
  { name: 'comment-count', action: 'drop', pattern: /^(?:\d+ )?comments?(?: \(\d+\))?$/i, maxLength: 20 },
  { name: 'required-fields', action: 'drop', pattern: /^required fields are marked\b/i },
  {
    // "14 + three =", "2 x five = ?": the arithmetic captcha under comment forms.
    name: 'captcha',
    action: 'drop',
    pattern:
      /^(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*[-+x×*]\s*(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*=\s*[?.]?$/i,
  },
  {
    name: 'share-widget',
    action: 'drop',
    pattern: new RegExp(`^(?:${SHARE_WORDS.map((w) => w.replace(/[-]/g, '\\-')).join('|')})\\s*:?$`, 'i'),
    maxLength: 40,
  },
  {
    name: 'external-links',
    action: 'drop',
    pattern: /^these are external links and will open in a (?:new|separate) window/i,
  },
  {
    name: 'media-playback',
    action: 'drop',
    pattern: /^media playback is (?:not supported|unsupported) on (?:this|your) device/i,
  },
  {
    name: 'image-credit',
    action: 'drop',
    pattern: /^(?:image|photo|picture) (?:copyright|caption|credit)\b/i,
    maxLength: 200,
  },
  { name: 'advertisement', action: 'drop', pattern: /^(?:advertisement|sponsored(?: content)?|ad)$/i },
  {
    // What follows "Updated" must be a time or date ("Last updated at 19:45 BST", "Published 3 hours
    // ago"): "Updated guidance takes effect in May." is a sentence.
    name: 'updated-stamp',
    action: 'drop',
    pattern: new RegExp(
      `^(?:\\d{1,2} \\w+ \\d{4} )?(?:last )?(?:updated|published)(?: at| on)?:?(?:[\\s,./:-]+(?:${TIME_WORDS}))+\\.?$`,
      'i',
    ),
    maxLength: 60,
  },
  {
    // A date on its own line: "March 4, 2026 at 9:30 a.m.", "Feb. 10, 2026", "Tuesday 4 March 2026".
    name: 'dateline',
    action: 'drop',
    pattern:
      /^(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,? )?(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.? \d{4}|\d{4}-\d{2}-\d{2})(?:,? (?:at )?\d{1,2}(?:[:.]\d{2})? ?(?:[ap]\.?m\.?)?(?: [A-Z]{2,4})?)?$/i,
    maxLength: 60,
  },
  { name: 'copyright', action: 'drop', pattern: /^(?:©|\(c\)|copyright ©?)\s*\d{4}/i },
  {
    // The publisher's legal line at the foot of a page: "Portwen Post is published by Harbour Media
    // Group Ltd, registered in England and Wales." "Company number 01234567." "All rights reserved."
    name: 'legal-footer',
    action: 'drop',
    pattern:
      /(?:\bregistered in (?:england|scotland|wales|ireland)\b|\bcompany (?:registration )?(?:number|no\.?) \d|^all rights reserved\.?$)/i,
    maxLength: 200,
  },
];

const DEFAULT_MAX_LENGTH = 120;
/** No rule of the default list matches a line longer than this, once whitespace is collapsed. */
const LONGEST_MATCH = 200;

/** What a line is, according to the first rule that matches it. */
export interface BoilerplateMatch {
  rule: BoilerplateRule;
  /** The captured value of `attribution` and `byline` rules. */
  value?: string;
}

/** Straightens quotes and collapses whitespace so that rules can stay simple. */
export function normalizeForRules(line: string): string {
  const straight = /[‘’‚‛“”„‟]/.test(line) ? line.replace(/[‘’‚‛]/g, "'").replace(/[“”„‟]/g, '"') : line;
  // Most lines have single spaces only: they need no replace (this runs on every sentence).
  return /\s\s|[^\S ]/.test(straight) ? straight.replace(/\s+/g, ' ').trim() : straight.trim();
}

/** The first rule matching `line`, or undefined when the line is article text. */
export function matchBoilerplate(
  line: string,
  rules: readonly BoilerplateRule[] = BOILERPLATE_RULES,
): BoilerplateMatch | undefined {
  // Rules match short lines only; most article sentences are longer than any rule allows.
  // Collapsing whitespace shortens a line only where it has two whitespace characters in a row.
  if (line.length > LONGEST_MATCH + 2 && !/\s\s/.test(line)) return undefined;
  const text = normalizeForRules(line);
  for (const rule of rules) {
    if (text.length > (rule.maxLength ?? DEFAULT_MAX_LENGTH)) continue;
    const match = rule.pattern.exec(text);
    if (match) return { rule, value: match.groups?.value?.trim() };
  }
  return undefined;
}
