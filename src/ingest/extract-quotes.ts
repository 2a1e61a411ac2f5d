import type { Quote } from './article.js';
import { countWords } from './clean-text.js';

const SPEECH_VERBS =
  'said|says|told|tells|added|adds|explained|explains|stated|states|warned|warns|insisted|insists|' +
  'asked|asks|replied|replies|wrote|writes|noted|notes|declared|declares|announced|announces|' +
  'reported|reports|argued|argues|continued|continues|underscored|stressed|stresses|' +
  'acknowledged|acknowledges|admitted|admits|claimed|claims|recalled|recalls|suggested|suggests|' +
  'commented|remarked|urged|urges|went on|called it|calls it|described|describes|quoted as saying|' +
  'was quoted as saying|was once quoted as saying|tweeted|posted';

/** A proper name: "Kerry", "John Kerry", "al-Jazeera", "Dr Venter", "Jean de la Fontaine". */
const NAME_WORD = "(?:[a-z]{1,3}-)?(?:\\p{Lu}\\.|\\p{Lu}[\\p{L}'’-]*)";
const NAME = `${NAME_WORD}(?: (?:(?:de|van|von|der|bin|al|da|del|la|le) )*${NAME_WORD}){0,3}`;
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

/** Quotations in a paragraph: “curly” or "straight"; one left open runs to the paragraph's end. */
function quoteSpans(paragraph: string): Span[] {
  const spans: Span[] = [];
  // An opening quotation mark starts a word: `#"K` or `5"` is not direct speech.
  const pattern = /(?<=^|[\s([—–:-])(?:“([^“”]*)(”|$)|"([^"]*)("|$))/g;
  for (const match of paragraph.matchAll(pattern)) {
    const inner = (match[1] ?? match[3] ?? '').trim().replace(/[,\s]+$/, '');
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

  // Every mention of a known person, in order, skipping possessives ("Assad’s" is not the subject).
  const alternation = [...persons]
    .sort((a, b) => b.length - a.length)
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|');
  const mentions = alternation
    ? [...text.matchAll(new RegExp(`(?<![\\p{L}-])(?:${alternation})(?![\\p{L}'’-])`, 'gu'))].map((m) => ({
        at: m.index,
        name: m[0],
      }))
    : [];
  const sentenceStarts = [0, ...[...text.matchAll(/[.!?][”"’]?\s+/g)].map((m) => m.index + m[0].length)];

  /**
   * Who "he" or "she" before `position` refers to: in the nearest sentence (going back from
   * `position`) that names a person, the first person it names, which is usually its subject.
   */
  const antecedent = (position: number): string | undefined => {
    let end = position;
    for (let i = sentenceStarts.length - 1; i >= 0; i--) {
      const start = sentenceStarts[i] as number;
      if (start >= position) continue;
      const found = mentions.find((m) => m.at >= start && m.at < end);
      if (found) return found.name;
      end = start;
    }
    return undefined;
  };

  const quotes: Quote[] = [];
  let offset = 0;
  for (const paragraph of paragraphs) {
    let previousSpeaker: string | undefined;
    let previousEnd = 0;
    for (const span of quoteSpans(paragraph)) {
      const after = paragraph.slice(span.end).split(/[“"]/)[0] ?? '';
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
