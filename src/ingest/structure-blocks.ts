import type { Section } from './article.js';
import { BOILERPLATE_RULES, type BoilerplateRule, matchBoilerplate } from './boilerplate.js';
import { cleanText, countWords, stripWrappingQuotes } from './clean-text.js';

/** A block of text in reading order, as the text or HTML reader found it. */
export interface Block {
  text: string;
  /** True when the markup says it is a heading (h2-h6); plain text leaves this to the heuristics. */
  heading?: boolean;
}

export interface StructuredBody {
  sections: Section[];
  attribution: string | null;
  byline: string | null;
}

const MAX_HEADING_CHARS = 70;
const MAX_HEADING_WORDS = 8;

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

/**
 * Turns blocks into sections: drops boilerplate, stops at the first "end" rule (a related-links
 * list, a comment form), lifts the attribution and byline out of the body, and makes short
 * title-like lines between paragraphs into section headings.
 */
export function structureBlocks(
  blocks: readonly Block[],
  rules: readonly BoilerplateRule[] = BOILERPLATE_RULES,
): StructuredBody {
  let attribution: string | null = null;
  let byline: string | null = null;
  const kept: Block[] = [];
  // Some kept block is body text (not a heading): the article has begun.
  let hasBody = false;
  const keep = (block: Block) => {
    kept.push(block);
    hasBody ||= !block.heading;
  };

  for (const block of blocks) {
    const text = cleanText(block.text);
    if (!text) continue;
    const match = matchBoilerplate(text, rules);
    if (!match) {
      keep({ text, heading: block.heading });
      continue;
    }
    const { action } = match.rule;
    if (action === 'end' && hasBody) break;
    if (action === 'attribution') attribution ??= match.value ?? null;
    // A byline belongs at the top; "By Train And Bus" deep in the body is text.
    else if (action === 'byline') {
      if (hasBody) keep({ text, heading: block.heading });
      else byline ??= match.value ?? null;
    }
  }

  const headingLike = kept.map((b) => b.heading === true || looksLikeHeading(b.text));
  // bodyAfter[i]: some block after i is body text, so a heading at i would head something.
  const bodyAfter = new Array<boolean>(kept.length).fill(false);
  for (let i = kept.length - 2; i >= 0; i--) bodyAfter[i] = (bodyAfter[i + 1] as boolean) || !headingLike[i + 1];

  const sections: Section[] = [{ paragraphs: [] }];
  let hasBodyBefore = false;
  kept.forEach((block, i) => {
    const current = sections[sections.length - 1] as Section;
    const isHeading =
      block.heading === true || (hasBodyBefore && (bodyAfter[i] as boolean) && (headingLike[i] as boolean));
    if (isHeading) {
      const heading = stripWrappingQuotes(block.text);
      if (current.paragraphs.length === 0 && current.heading === undefined) current.heading = heading;
      else sections.push({ heading, paragraphs: [] });
    } else {
      current.paragraphs.push(block.text);
      hasBodyBefore = true;
    }
  });

  return { sections: sections.filter((s) => s.paragraphs.length > 0), attribution, byline };
}
