import type { Quote } from './article.js';
import { countWords } from './clean-text.js';

const SPEECH_VERBS =
  'said|says|told|tells|added|adds|explained|explains|stated|states|warned|warns|insisted|insists|' +
  'asked|asks|replied|replies|wrote|writes|noted|notes|declared|declares|announced|announces|' +
  'reported|reports|argued|argues|continued|continues|underscored|stressed|stresses|' +
  'acknowledged|acknowledges|admitted|admits|claimed|claims|recalled|recalls|suggested|suggests|' +
  'commented|remarked|urged|urges|went on|called it|calls it|described|describes|quoted as saying|' +
  'was quoted as saying|was once quoted as saying|tweeted|posted';

/**
 * A proper name: "Kerry", "John Kerry", "al-Jazeera", "Dr Venter", "Jean de la Fontaine". Its
 * repeats are bounded (60 characters a word, four particles) so that a long run of capitals or of
 * "de de de" costs a bounded amount per starting position, not the rest of the text.
 */
const NAME_WORD = "(?:[a-z]{1,3}-)?(?:\\p{Lu}\\.|\\p{Lu}[\\p{L}'’-]{0,60})";
const NAME = `${NAME_WORD}(?: (?:(?:de|van|von|der|bin|al|da|del|la|le) ){0,4}${NAME_WORD}){0,3}`;
const PRONOUN = '(?:he|she|they|He|She|They)';
const TITLES =
  'President|Prime Minister|Minister|Secretary|Senator|Sen\\.|Rep\\.|Representative|Governor|Gov\\.|Mayor|' +
  'Chancellor|General|Gen\\.|Colonel|Col\\.|Captain|Capt\\.|Judge|Justice|Ambassador|envoy|spokesman|' +
  'spokeswoman|spokesperson|chief|director|professor|Professor|Prof\\.|Dr|Dr\\.|Mr|Mr\\.|Mrs|Mrs\\.|Ms|Ms\\.|' +
  'King|Queen|Prince|Princess|Pope|Archbishop|Bishop|coach|manager|striker|CEO|chairman|chairwoman';

/** After a quotation: `, Kerry told reporters`, `he said`, `al-Jazeera reported`. */
const SPEAKER_AFTER = new RegExp(
  `^[\\s,]*(?<who>${PRONOUN}|${NAME}|(?:the|a|an) [\\p{Ll}\\s-]{1,40}?)(?:\\s+(?:also|then|later|once))?\\s+(?:${SPEECH_VERBS})\\b`,
  'u',
);
/** After a quotation, inverted: `said Kerry`, `said nurse Tomas Reyes, who ...`, `says the minister`. */
const SPEAKER_AFTER_INVERTED = new RegExp(
  `^[\\s,]*(?:${SPEECH_VERBS})\\s+(?:(?:[\\p{Ll}'’-]+\\s+){0,4}?(?<who>${NAME})|(?<role>the [\\p{Ll}\\s-]{1,40}?))(?=\\s*[,.;]|\\s+\\p{Ll}|$)`,
  'u',
);
/** Before a quotation, in the same sentence: `A spokesman for Lavrov said ...`, `He called it`. */
const SPEAKER_BEFORE = new RegExp(
  `(?:^|[.!?]\\s+)(?:(?:But|And|However|Yet|Still|Later|Meanwhile),?\\s+)?(?<who>${PRONOUN}|${NAME}|(?:The|A|An) [\\p{L}\\s-]{1,40}?)(?:\\s+(?:also|then|later))?\\s+(?:${SPEECH_VERBS})\\b[^.!?“”"]*$`,
  'u',
);
/** People the article names with a title, or as the subject of a speech verb. */
const TITLED_PERSON = new RegExp(`\\b(?:${TITLES})\\s+(?<who>${NAME})`, 'gu');
const SPEECH_SUBJECT = new RegExp(`(?<who>${NAME})\\s+(?:also\\s+)?(?:${SPEECH_VERBS})\\b`, 'gu');
/** A run of two to five capitalised words, in which a full name may end ("Harriet Vance"). */
const FULL_NAME = /\p{Lu}[\p{Ll}'’-]+(?: \p{Lu}[\p{Ll}'’-]+){1,4}/gu;
const NOT_NAMES = new Set(
  (
    'The A An In On At But And After Before When If It This That These Those He She They We I Its Our Their His Her ' +
    'Of For To By From As With Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January ' +
    'February March April May June July August September October November December North South East West New ' +
    'United Street Road Council Committee Court University Club Party Ministry Department Assembly'
  ).split(' '),
);

const TITLE_WORDS = new Set(TITLES.replace(/\\\./g, '').split(/[| ]/));

/**
 * The name at the end of a run of capitalised words ("Russian President Vladimir Putin" ->
 * "Vladimir Putin"), or undefined when fewer than two words follow the last title or non-name word.
 */
function fullName(words: string): string | undefined {
  const parts = words.split(' ');
  const last = parts.findLastIndex((p) => NOT_NAMES.has(p) || TITLE_WORDS.has(p));
  const name = parts.slice(last + 1);
  return name.length >= 2 ? name.join(' ') : undefined;
}

const MIN_QUOTE_WORDS = 4;

interface Span {
  start: number;
  end: number;
  text: string;
}

function inverted(after: string): string | undefined {
  const groups = SPEAKER_AFTER_INVERTED.exec(after)?.groups;
  return groups?.who ?? groups?.role;
}

const WHITESPACE = /\s/;

/** `text` without trailing commas and whitespace (`/[,\s]+$/` retries from every character of a long run of them). */
function trimCommasEnd(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ',' || WHITESPACE.test(text[end - 1] as string))) end--;
  return text.slice(0, end);
}

/** Quotations in a paragraph: “curly” or "straight"; one left open runs to the paragraph's end. */
function quoteSpans(paragraph: string): Span[] {
  const spans: Span[] = [];
  // An opening quotation mark starts a word: `#"K` or `5"` is not direct speech.
  const pattern = /(?<=^|[\s([—–:-])(?:“([^“”]*)(”|$)|"([^"]*)("|$))/g;
  for (const match of paragraph.matchAll(pattern)) {
    const inner = trimCommasEnd((match[1] ?? match[3] ?? '').trim());
    spans.push({ start: match.index, end: match.index + match[0].length, text: inner });
  }
  return spans;
}

/** The last word of a name is how articles refer back to a person: "John Kerry" -> "Kerry". */
function surname(name: string): string {
  return name.trim().split(/\s+/).pop() ?? name;
}

function isPronoun(who: string): boolean {
  return /^(?:he|she|they)$/i.test(who);
}

/** A subject phrase that is really a sentence fragment ("The the", stop words) is not a speaker. */
function plausibleSpeaker(who: string): boolean {
  return countWords(who) <= 6 && !/^(?:It|This|That|These|Those|There|I|We|You)$/i.test(who);
}

interface Mention {
  at: number;
  name: string;
}

/** The last index `i` below `length` whose `key(i)` is below `bound` (keys ascending), or -1. */
function lastIndexBelow(length: number, key: (i: number) => number, bound: number): number {
  let low = 0;
  let high = length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (key(mid) < bound) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}

type Trie = Map<string, Trie> & { end?: boolean };

/**
 * Every mention of a known person in `text`, in order, skipping possessives ("Assad’s" is not the
 * subject): the matches of `(?<![\p{L}-])(?:longest|...|shortest)(?![\p{L}'’-])` over the names,
 * found with a trie of the names, so the cost does not grow with how many names the text has.
 */
function findMentions(text: string, names: ReadonlySet<string>): Mention[] {
  const root: Trie = new Map();
  for (const name of names) {
    let node = root;
    for (const char of name) {
      let next = node.get(char);
      if (!next) {
        next = new Map();
        node.set(char, next);
      }
      node = next;
    }
    node.end = true;
  }
  const mentions: Mention[] = [];
  let at = 0;
  while (at < text.length) {
    const first = text.codePointAt(at) as number;
    const width = first > 0xffff ? 2 : 1;
    if (!root.has(String.fromCodePoint(first)) || NAME_BEFORE.test(codePointBefore(text, at))) {
      at += width;
      continue;
    }
    let node: Trie | undefined = root;
    let end = -1;
    let i = at;
    while (node && i <= text.length) {
      if (node.end && !NAME_AFTER.test(String.fromCodePoint(text.codePointAt(i) ?? 0x20))) end = i;
      if (i === text.length) break;
      const code = text.codePointAt(i) as number;
      node = node.get(String.fromCodePoint(code));
      i += code > 0xffff ? 2 : 1;
    }
    if (end > at) {
      mentions.push({ at, name: text.slice(at, end) });
      at = end;
    } else at += width;
  }
  return mentions;
}

const NAME_BEFORE = /^[\p{L}-]$/u;
const NAME_AFTER = /^[\p{L}'’-]$/u;

function codePointBefore(text: string, at: number): string {
  if (at === 0) return '';
  const low = text.charCodeAt(at - 1);
  const start = low >= 0xdc00 && low <= 0xdfff && at >= 2 ? at - 2 : at - 1;
  return String.fromCodePoint(text.codePointAt(start) as number);
}

/**
 * Finds direct speech and its speaker. A speaker is taken from the attribution after the quote
 * ("…,” Kerry said), then from the same sentence before it ("Kerry said: “…”"); "he said" resolves
 * to the last person named before it; a second quote in a paragraph inherits the first one's speaker.
 */
export function extractQuotes(paragraphs: readonly string[]): Quote[] {
  const text = paragraphs.join('\n');
  const persons = new Set<string>();
  for (const pattern of [TITLED_PERSON, SPEECH_SUBJECT]) {
    for (const match of text.matchAll(pattern)) {
      const who = match.groups?.who;
      if (who && !isPronoun(who)) persons.add(surname(who));
    }
  }
  for (const match of text.matchAll(FULL_NAME)) {
    const name = fullName(match[0]);
    if (name) persons.add(surname(name));
  }

  const mentions = findMentions(text, persons);
  const sentenceStarts = [0, ...[...text.matchAll(/[.!?][”"’]?\s+/g)].map((m) => m.index + m[0].length)];

  /**
   * Who "he" or "she" before `position` refers to: in the nearest sentence (going back from
   * `position`) that names a person, the first person it names, which is usually its subject.
   * That sentence is the one holding the last mention before `position` (both lists are in text order).
   */
  const antecedent = (position: number): string | undefined => {
    const last = lastIndexBelow(mentions.length, (i) => (mentions[i] as Mention).at, position);
    if (last < 0) return undefined;
    const sentence = lastIndexBelow(
      sentenceStarts.length,
      (i) => sentenceStarts[i] as number,
      (mentions[last] as Mention).at + 1,
    );
    const start = sentenceStarts[sentence] as number;
    const first = lastIndexBelow(mentions.length, (i) => (mentions[i] as Mention).at, start) + 1;
    return (mentions[first] as Mention).name;
  };

  const quotes: Quote[] = [];
  let offset = 0;
  for (const paragraph of paragraphs) {
    let previousSpeaker: string | undefined;
    let previousEnd = 0;
    // Where each quotation mark is, so that the text after a quotation (up to the next one) is found without re-reading the paragraph.
    const marks = [...paragraph.matchAll(/[“"]/g)].map((m) => m.index);
    let mark = 0;
    for (const span of quoteSpans(paragraph)) {
      while (mark < marks.length && (marks[mark] as number) < span.end) mark++;
      const after = paragraph.slice(span.end, marks[mark] ?? paragraph.length);
      const before = paragraph.slice(previousEnd, span.start);
      const who = SPEAKER_AFTER.exec(after)?.groups?.who ?? inverted(after) ?? SPEAKER_BEFORE.exec(before)?.groups?.who;
      let speaker: string | undefined;
      if (who && plausibleSpeaker(who)) {
        speaker = isPronoun(who) ? antecedent(offset + span.start) : who.trim();
      }
      speaker ??= previousSpeaker;
      previousEnd = span.end;
      if (countWords(span.text) < MIN_QUOTE_WORDS) continue;
      if (speaker) previousSpeaker = speaker;
      quotes.push(speaker ? { text: span.text, speaker } : { text: span.text });
    }
    offset += paragraph.length + 1;
  }
  return quotes;
}
