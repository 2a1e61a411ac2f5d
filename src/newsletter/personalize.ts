import { escapeHtml } from './escape-for-template.js';

/** Who a message goes to, with the links that are theirs alone. */
export interface Recipient {
  email: string;
  firstName?: string | null;
  unsubscribeUrl: string;
  preferencesUrl: string;
}

/**
 * The per-recipient parts of a rendered issue (see `renderIssue`): HTML and text with the
 * recipient tokens left in. In `html`, article text can hold no brace (it is entity-escaped), so
 * every `{{token}}` there is the template's. In `text`, article text is kept verbatim behind a
 * backslash escape (`\{` and `\\`, see {@link escapeTextPart}), so only the template's tokens open.
 */
export interface Personalizable {
  subject: string;
  html: string;
  text: string;
}

export interface PersonalMessage {
  subject: string;
  html: string;
  text: string;
}

/**
 * Who an issue is for on the web: no one. A template that still prints a reader's values gets
 * these: "because you signed up", "Hi there", and the sign-up page where a reader's own links
 * (unsubscribe, preferences) would be. No address, no name, no token of anyone's.
 */
export function noOne(signupPageUrl: string): Recipient {
  return { email: 'you', firstName: null, unsubscribeUrl: signupPageUrl, preferencesUrl: signupPageUrl };
}

/** Used when a recipient has no first name: "Hi there,". */
export const FIRST_NAME_FALLBACK = 'there';

/** The per-recipient values, by the token that stands for each. */
export const RECIPIENT_FIELDS = ['email', 'firstName', 'unsubscribeUrl', 'preferencesUrl'] as const;
type Field = (typeof RECIPIENT_FIELDS)[number];

/** The token a rendered issue holds where a recipient's value goes: `{{email}}` and so on. */
export function recipientToken(field: Field): string {
  return `{{${field}}}`;
}

/**
 * Escapes text for the text part's template form: a backslash before every `\` and `{`, so that
 * nothing in it reads as a token. `personalize` takes the backslashes out again.
 */
export function escapeTextPart(text: string): string {
  return text.replace(/[\\{]/g, (c) => `\\${c}`);
}

/** A rendered part cut at its tokens: literal text and, between, the field each token names. */
type Piece = string | { field: Field };

const FIELD_TOKEN = `\\{\\{(${RECIPIENT_FIELDS.join('|')})\\}\\}`;
const HTML_TOKEN = new RegExp(FIELD_TOKEN, 'g');
const TEXT_TOKEN = new RegExp(`\\\\([\\\\{])|${FIELD_TOKEN}`, 'g');

/** One pass over the part: linear in its length, whatever it holds. */
function split(part: string, pattern: RegExp, escapes: boolean): Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  let last = 0;
  for (const match of part.matchAll(pattern)) {
    literal += part.slice(last, match.index);
    last = match.index + match[0].length;
    const field = (escapes ? match[2] : match[1]) as Field | undefined;
    if (field) {
      pieces.push(literal, { field });
      literal = '';
    } else {
      literal += match[1] as string;
    }
  }
  pieces.push(literal + part.slice(last));
  return pieces;
}

interface Compiled {
  html: string;
  text: string;
  pieces: { html: Piece[]; text: Piece[] };
}

/**
 * The last few issues' parts, cut at their tokens, by content: an issue read again from the store
 * is a new object with the same text, and must not be cut again for each message.
 */
const compiled: Compiled[] = [];
const COMPILED_KEPT = 4;

function piecesFor(rendered: Personalizable): Compiled['pieces'] {
  let entry = compiled.find((e) => e.html === rendered.html && e.text === rendered.text);
  if (!entry) {
    entry = {
      html: rendered.html,
      text: rendered.text,
      pieces: { html: split(rendered.html, HTML_TOKEN, false), text: split(rendered.text, TEXT_TOKEN, true) },
    };
    compiled.unshift(entry);
    compiled.length = Math.min(compiled.length, COMPILED_KEPT);
  }
  return entry.pieces;
}

function fill(pieces: Piece[], values: Record<Field, string>): string {
  let out = '';
  for (const piece of pieces) out += typeof piece === 'string' ? piece : values[piece.field];
  return out;
}

/**
 * Merges one recipient into a rendered issue, without MJML and without a template engine: the
 * parts are cut at their tokens once (the first time), then only filled, so this runs per
 * recipient at the speed of string joins. HTML values are escaped; the text part takes them as they are.
 */
export function personalize(rendered: Personalizable, recipient: Recipient): PersonalMessage {
  const pieces = piecesFor(rendered);
  const values: Record<Field, string> = {
    email: recipient.email,
    firstName: recipient.firstName?.trim() || FIRST_NAME_FALLBACK,
    unsubscribeUrl: recipient.unsubscribeUrl,
    preferencesUrl: recipient.preferencesUrl,
  };
  const escaped = Object.fromEntries(RECIPIENT_FIELDS.map((f) => [f, escapeHtml(values[f])])) as Record<Field, string>;
  return { subject: rendered.subject, html: fill(pieces.html, escaped), text: fill(pieces.text, values) };
}
