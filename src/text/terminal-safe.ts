/**
 * What a terminal acts on instead of showing: C0 controls (ESC starts the sequences that clear the
 * screen, set the window title or write to the clipboard; BEL rings; CR and BS overwrite what is
 * already shown), DEL, C1 controls (U+009B is a one-character CSI on some terminals), and the bidi
 * embeddings, overrides and isolates, which display text in another order than it reads.
 */
const UNSAFE_LINE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;
/** The same, but line feeds and tabs stay: for paragraphs and posts printed as they are. */
const UNSAFE_TEXT = /(?![\n\t])[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function visibleEscape(c: string): string {
  const code = c.charCodeAt(0);
  return (
    NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

export interface TerminalSafeOptions {
  /** Keep line feeds and tabs (a paragraph, a post); otherwise they are shown as `\n` and `\t`. @defaultValue false */
  multiline?: boolean;
}

/**
 * `text` as it may reach a terminal: every control character (and bidi control) is replaced by a
 * visible escape such as `\x1b` or `\u202e`, so printed data can neither drive the terminal nor,
 * as one line, forge another line or column. Everything else is left as it is.
 */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
  return text.replace(options.multiline ? UNSAFE_TEXT : UNSAFE_LINE, visibleEscape);
}

/** JSON.stringify escapes C0 controls but not DEL, C1 or bidi controls, nor U+2028/U+2029. */
const JSON_UNESCAPED = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `value` as indented JSON that is safe on a terminal: JSON.stringify's output with the controls it
 * leaves raw written as `\uXXXX` escapes. They can only occur inside strings, so the JSON means the same.
 */
export function terminalSafeJson(value: unknown): string {
  return (JSON.stringify(value, null, 2) ?? 'null').replace(
    JSON_UNESCAPED,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
