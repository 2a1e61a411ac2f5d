import type { Section } from './article.js';
import { BOILERPLATE_RULES, type BoilerplateMatch, type BoilerplateRule, matchBoilerplate } from './boilerplate.js';
import { cleanText, countWords, endsAsSentence, stripWrappingQuotes } from './clean-text.js';

/**
 * What the markup made a block, when it says: a list item or definition (`item`), a table row
 * (`row`), a figure or table caption (`caption`), preformatted text (`pre`), a block quotation
 * (`quote`), one of the lines of a paragraph broken with `<br>` (`line`: an address, a set of
 * steps). Plain text and HTML paragraphs have none.
 */
export type BlockKind = 'item' | 'row' | 'caption' | 'pre' | 'quote' | 'line';

/** A block of text in reading order, as the text or HTML reader found it. */
export interface Block {
  text: string;
  /** True when the markup says it is a heading (h2-h6); plain text leaves this to the heuristics. */
  heading?: boolean;
  /**
   * Set by markup. A block with a kind is never taken for a heading by the heuristics, and, but for
   * a `line`, never ends the article (a how-to step "Leave a comment" is a step).
   */
  kind?: BlockKind;
  /**
   * The share of the block's text inside links, from 0 to 1, when the reader knows (HTML). A box of
   * related links is text that is all links.
   */
  linkShare?: number;
}

export interface StructuredBody {
  sections: Section[];
  attribution: string | null;
  byline: string | null;
  /**
   * Paragraphs that are captions or table rows and never article prose: they stay in `sections`
   * and are left out of the sentences a summary is chosen from.
   */
  asides: ReadonlySet<string>;
}

/** Kinds of block that describe or tabulate, and are not sentences of the story. */
const ASIDE_KINDS: ReadonlySet<BlockKind | undefined> = new Set(['caption', 'row']);

const MAX_HEADING_CHARS = 70;
const MAX_HEADING_WORDS = 8;
/** Text mostly inside links is a list of links, not prose. */
const LINK_SHARE = 0.5;
/** A paragraph of prose: at least this many words, ending a sentence. */
const PROSE_WORDS = 10;
/** After an `end` line followed by prose, this many lines must be free of furniture for the article to go on. */
const FURNITURE_LOOKAHEAD = 3;
/** Headings with nothing between them joined into one, at most ("Part one: Costs: Option A"). */
const MAX_JOINED = 3;

/**
 * A short, title-like line between paragraphs reads as a subhead: few words, no sentence-ending
 * punctuation, no links or handles. ("'Positive opportunity'" in a scraped article.)
 */
export function looksLikeHeading(text: string): boolean {
  const inner = stripWrappingQuotes(text);
  if (inner.length === 0 || inner.length > MAX_HEADING_CHARS) return false;
  if (countWords(inner) === 0 || countWords(inner) > MAX_HEADING_WORDS) return false;
  if (/[.!?,;:…"”]$/.test(inner)) return false;
  if (/https?:\/\/|www\.|@\w|#\w/.test(inner)) return false;
  return /^[\p{Lu}\p{N}]/u.test(inner);
}

/** A block once cleaned, with the boilerplate rule it matches. */
interface Line {
  block: Block;
  text: string;
  match: BoilerplateMatch | undefined;
}

function isLinks(line: Line): boolean {
  return (line.block.linkShare ?? 0) >= LINK_SHARE;
}

/** A paragraph of article prose: not boilerplate, not links, a sentence of some length. */
function isProse(line: Line | undefined): boolean {
  return (
    line !== undefined &&
    !line.match &&
    !line.block.heading &&
    !isLinks(line) &&
    countWords(line.text) >= PROSE_WORDS &&
    endsAsSentence(line.text)
  );
}

/**
 * Article text after a box of links: any block the markup says is not links and no rule matches.
 * Plain text does not say which lines were links, so there it must be prose.
 */
function isArticleText(line: Line | undefined): boolean {
  if (line === undefined || line.match) return false;
  return line.block.linkShare === undefined ? isProse(line) : !isLinks(line);
}

/** Two headings with nothing between them read as one: "Before you start: Documents". */
function joinHeadings(first: string, second: string): string {
  return /[:.?!…]$/.test(first) ? `${first} ${second}` : `${first}: ${second}`;
}

/**
 * Turns blocks into sections: drops boilerplate (a sign-up box's heading with its blurb), stops at
 * the first `end` line that no prose follows (a comment form) or at a box of related links that no
 * article text follows (a box mid-article goes, and the article goes on), lifts the attribution and
 * byline out of the body, and makes short title-like lines between paragraphs into section
 * headings. Every block the markup calls a list item, table row or caption stays a paragraph. Linear
 * in the number of blocks: each is matched once and looked at at most twice.
 */
export function structureBlocks(
  blocks: readonly Block[],
  rules: readonly BoilerplateRule[] = BOILERPLATE_RULES,
): StructuredBody {
  const lines: Line[] = [];
  for (const block of blocks) {
    const text = cleanText(block.text);
    if (text) lines.push({ block, text, match: matchBoilerplate(text, rules) });
  }

  let attribution: string | null = null;
  let byline: string | null = null;
  const kept: Block[] = [];
  // Some kept block is body text (not a heading): the article has begun.
  let hasBody = false;
  const keep = ({ block, text }: Line) => {
    kept.push({ text, heading: block.heading, kind: block.kind });
    hasBody ||= !block.heading;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const action = line.match?.rule.action;
    if (!action || ((action === 'end' || action === 'links') && line.block.kind && line.block.kind !== 'line')) {
      keep(line);
      continue;
    }
    if (action === 'end') {
      if (!hasBody) continue;
      // Prose straight after, and no more furniture ("Your email address will not be
      // published") just after that: the line was the article's own. Otherwise the article ends.
      if (isProse(lines[i + 1]) && !lines.slice(i + 1, i + 1 + FURNITURE_LOOKAHEAD).some((l) => l.match)) keep(line);
      else break;
    } else if (action === 'links') {
      if (!hasBody) continue;
      let next = i + 1;
      while (next < lines.length && (isLinks(lines[next] as Line) || lines[next]?.match?.rule.action === 'drop'))
        next++;
      if (!isArticleText(lines[next])) break;
      // Straight over article text, the line is the article's own subhead; over links, or over the
      // article's next heading (Readability took the links), it heads a box, and goes.
      if (next === i + 1 && !lines[next]?.block.heading) keep(line);
      else i = next - 1;
    } else if (action === 'drop' && line.block.heading && line.match?.rule.box) {
      // The heading of a sign-up box: its blurb goes too, up to the article's next heading or prose.
      while (i + 1 < lines.length) {
        const next = lines[i + 1] as Line;
        if (next.block.heading || isProse(next) || (next.match && next.match.rule.action !== 'drop')) break;
        i++;
      }
    } else if (action === 'attribution') attribution ??= line.match?.value ?? null;
    // A byline belongs at the top; "By Train And Bus" deep in the body is text.
    else if (action === 'byline') {
      if (hasBody) keep(line);
      else byline ??= line.match?.value ?? null;
    }
  }

  // Markup that names a list item, a table row or a caption is not a heading, however short.
  const headingLike = kept.map((b) => b.heading === true || (b.kind === undefined && looksLikeHeading(b.text)));
  // bodyAfter[i]: some block after i is body text, so a heading at i would head something.
  const bodyAfter = new Array<boolean>(kept.length).fill(false);
  for (let i = kept.length - 2; i >= 0; i--) bodyAfter[i] = (bodyAfter[i + 1] as boolean) || !headingLike[i + 1];

  const sections: Section[] = [{ paragraphs: [] }];
  const asides = new Set<string>();
  const prose = new Set<string>();
  let hasBodyBefore = false;
  // Headings joined into the current section's heading so far.
  let joined = 0;
  kept.forEach((block, i) => {
    const current = sections[sections.length - 1] as Section;
    // A line the heuristics take for a heading heads body text, and follows body text: under a
    // heading, a short line is the first line of its section.
    const isHeading =
      block.heading === true ||
      (hasBodyBefore && current.paragraphs.length > 0 && (bodyAfter[i] as boolean) && (headingLike[i] as boolean));
    if (isHeading) {
      const heading = stripWrappingQuotes(block.text);
      // A heading straight after another (a section and its first subsection) joins it, so that
      // neither is lost as a section without paragraphs; a run of more than MAX_JOINED starts over.
      if (current.paragraphs.length === 0 && joined < MAX_JOINED) {
        current.heading = current.heading === undefined ? heading : joinHeadings(current.heading, heading);
        joined++;
      } else {
        sections.push({ heading, paragraphs: [] });
        joined = 1;
      }
    } else {
      current.paragraphs.push(block.text);
      (ASIDE_KINDS.has(block.kind) ? asides : prose).add(block.text);
      hasBodyBefore = true;
      joined = 0;
    }
  });

  for (const text of prose) asides.delete(text);
  return { sections: sections.filter((s) => s.paragraphs.length > 0), attribution, byline, asides };
}
