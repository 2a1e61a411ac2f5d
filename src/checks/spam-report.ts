import { DispatchError } from '../errors.js';

/** One SpamAssassin rule that hit a message. */
export interface SpamRule {
  /** The rule's name, e.g. `MIME_HTML_ONLY`. */
  name: string;
  /** What it added to the score (negative for rules that vouch for a message). */
  points: number;
  /** SpamAssassin's words for it, with the detail it logged (e.g. the address) in brackets. */
  description: string;
}

/** What spamd said of one message. */
export interface SpamScore {
  score: number;
  /** The score spamd itself calls spam (its `required_score`): Dispatch decides with SPAM_THRESHOLD. */
  threshold: number;
  /** The rules that hit, in spamd's order. */
  rules: SpamRule[];
  /** The SpamAssassin version that scored it, or `unknown` when the answer does not say. */
  version: string;
}

const SPAM_HEADER = /^Spam:\s*(\w+)\s*;\s*(-?\d+(?:\.\d+)?)\s*\/\s*(-?\d+(?:\.\d+)?)\s*$/im;
// A row starts with the points, right-aligned in four columns (`%4.1f`, `%4.0f` from 10 up):
// at most three spaces before them. Wrapped descriptions and logged details are indented deeper
// (27 spaces, or right-aligned to column 78 for a long detail).
const ROW = /^ {0,3}(-?\d+(?:\.\d+)?) +(\S+)(?: +(.*))?$/;
/** The line io/spamd.ts adds after the table (`report SpamAssassin _VERSION_`). */
const VERSION_LINE = /^SpamAssassin (\d[\w.-]*)\s*$/m;

/**
 * Reads spamd's answer to a SPAMC `REPORT` request: the status line, the `Spam: True ; 15.2 / 5.0`
 * header, and the report's "pts rule name description" table (descriptions wrap onto following
 * lines). E_SPAM_UNAVAILABLE when spamd answered with an error or the answer is cut short.
 */
export function parseSpamReport(answer: string): SpamScore {
  const split = answer.indexOf('\r\n\r\n');
  const head = split < 0 ? answer : answer.slice(0, split);
  const body = split < 0 ? '' : answer.slice(split + 4);
  const status = /^SPAMD\/[\d.]+ (\d+) (.*)$/.exec(head.split('\r\n')[0] ?? '');
  if (!status) throw unreadable(`it does not start with a SPAMD status line (got "${clip(head)}")`);
  if (status[1] !== '0') throw unreadable(`it answered ${status[1]} ${status[2]}`);
  const spam = SPAM_HEADER.exec(head);
  if (!spam) throw unreadable(`its answer has no Spam header (got "${clip(head)}")`);
  const length = /^Content-length:\s*(\d+)\s*$/im.exec(head);
  if (length && Buffer.byteLength(body) < Number(length[1])) {
    throw unreadable(`its answer stopped after ${Buffer.byteLength(body)} of ${length[1]} bytes`);
  }
  return { score: points(spam[2]), threshold: points(spam[3]), ...ruleTable(body) };
}

/** `-0.0` (a rule worth -0.001) reads as 0. */
function points(text: string | undefined): number {
  return Number(text) || 0;
}

/**
 * The rows under the table's dashed line, up to the first blank line, and the version line after
 * them. The last dashed line at the start of a line is the table's: the content preview above it
 * is indented, and so are wrapped descriptions.
 */
function ruleTable(body: string): Pick<SpamScore, 'rules' | 'version'> {
  const lines = body.replace(/\r\n/g, '\n').split('\n');
  const start = lines.findLastIndex((line) => /^-{4} -{10,}/.test(line));
  if (start < 0) return { rules: [], version: 'unknown' };
  const rules: SpamRule[] = [];
  let end = start + 1;
  for (; end < lines.length; end++) {
    const line = lines[end] as string;
    if (line.trim() === '') break;
    const row = ROW.exec(line);
    const last = rules.at(-1);
    if (row) rules.push({ name: row[2] as string, points: points(row[1]), description: (row[3] ?? '').trim() });
    else if (last) last.description = `${last.description} ${line.trim()}`.trim();
  }
  const version = lines.slice(end).join('\n');
  return { rules, version: VERSION_LINE.exec(version)?.[1] ?? 'unknown' };
}

function unreadable(why: string): DispatchError {
  return new DispatchError('E_SPAM_UNAVAILABLE', `spamd did not score the message: ${why}`);
}

function clip(text: string): string {
  const line = text.split(/\r?\n/)[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
