/**
 * Boilerplate rules: what a news site wraps around an article, and what to do with each line of it.
 * Add a rule here to teach Dispatch a new site's furniture; every rule is tested by name.
 *
 * - `drop`: the line is not part of the article.
 * - `end`: the line and everything after it are not (a "Related Items" list, a comment form).
 * - `attribution`: the line names the article's source ("Source: Aljazeera, Agencies").
 * - `byline`: the line names the author ("By Jane Doe").
 */
export type BoilerplateAction = 'drop' | 'end' | 'attribution' | 'byline';

export interface BoilerplateRule {
  /** A short name, shown in tests and debugging output. */
  name: string;
  action: BoilerplateAction;
  /** Matched against the line with curly quotes straightened and whitespace collapsed. */
  pattern: RegExp;
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
    pattern: /\bfollow us on (?:twitter|x|facebook|instagram|linkedin|threads|bluesky)\b/i,
    maxLength: 60,
  },
  {
    name: 'newsletter-cta',
    action: 'drop',
    pattern:
      /^(?:join|subscribe to|sign up (?:for|to)|get) (?:our|the) (?:free |daily |weekly )*(?:newsletters?|briefing|email)\b/i,
  },
  {
    name: 'related',
    action: 'end',
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
    name: 'updated-stamp',
    action: 'drop',
    pattern: /^(?:\d{1,2} \w+ \d{4} )?(?:last )?(?:updated|published)(?: at| on)?:? .{0,40}$/i,
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
  return straight.replace(/\s+/g, ' ').trim();
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
