import { parse } from 'csv-parse/sync';
import { normalizeAddress } from './normalize-address.js';

/** A subscriber as an import file gives it. */
export interface SubscriberInput {
  email: string;
  name: string | null;
  fields: Record<string, string>;
}

export interface ParsedSubscribers {
  subscribers: SubscriberInput[];
  /** Rows that are not subscribers, with the line each starts on. */
  rejected: { line: number; reason: string }[];
  /** Addresses that appeared more than once (merged into one). */
  duplicates: number;
}

interface Row {
  line: number;
  record: Record<string, unknown>;
}

/** Why csv-parse gave up on a record, in the words of someone fixing the file. */
const CSV_ERRORS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed (a " is missing), so the rest of the file was read into it',
};

/**
 * CSV rows (RFC 4180: quoted cells may hold commas, doubled quotes and line breaks), with the line
 * each row starts on; a row whose cell count differs from the header's is rejected, not guessed at.
 */
function csvRows(text: string, rejected: ParsedSubscribers['rejected']): Row[] {
  const records: { line: number; cells: string[] }[] = [];
  let lastLine = 0;
  // Line ends are made LF first: csv-parse counts a CRLF inside a quoted cell as two lines, and a
  // line break inside a cell should read the same whichever system wrote the file.
  parse(text.replace(/\r\n?/g, '\n'), {
    bom: true,
    // A stray quote inside an unquoted cell is text, as spreadsheets read it; without this, one
    // bad cell would make the parser lose every row after it.
    relax_quotes: true,
    ltrim: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_record: (cells: string[], context) => {
      records.push({ line: lastLine + 1, cells: cells.map((c) => c.trim()) });
      lastLine = context.lines;
      return undefined;
    },
    on_skip: (error) => {
      const reason = (error && CSV_ERRORS[error.code]) ?? `not a CSV row (${error?.message ?? 'unreadable'})`;
      rejected.push({ line: lastLine + 1, reason });
      const end = error?.lines;
      lastLine = typeof end === 'number' ? end : lastLine + 1;
      return undefined;
    },
  });
  const [first, ...rest] = records;
  const header = (first?.cells ?? []).map((h) => h.toLowerCase());
  if (!header.includes('email')) {
    rejected.push({ line: first?.line ?? 1, reason: 'no "email" column in the header' });
    return [];
  }
  const rows: Row[] = [];
  for (const { line, cells } of rest) {
    if (cells.every((c) => c === '')) continue;
    if (cells.length !== header.length) {
      rejected.push({ line, reason: `${cells.length} cell(s) where the header has ${header.length}` });
      continue;
    }
    rows.push({ line, record: Object.fromEntries(header.map((h, j) => [h, cells[j]])) });
  }
  return rows;
}

function jsonRows(text: string, rejected: ParsedSubscribers['rejected']): Row[] {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const value = JSON.parse(line) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value))
        rows.push({ line: i + 1, record: value as Record<string, unknown> });
      else rejected.push({ line: i + 1, reason: 'not a JSON object' });
    } catch {
      rejected.push({ line: i + 1, reason: 'invalid JSON' });
    }
  });
  return rows;
}

/**
 * Subscribers from a CSV file (a header row with an `email` column, optional `name` and any other
 * columns) or JSON lines (`{"email": ..., "name": ..., ...}`). Addresses are validated and
 * normalized; a repeated address is merged into one (later non-empty fields win).
 */
export function parseSubscribers(text: string, format: 'csv' | 'jsonl'): ParsedSubscribers {
  const rejected: ParsedSubscribers['rejected'] = [];
  const body = text.replace(/^\ufeff/, '');
  const rows = format === 'csv' ? csvRows(body, rejected) : jsonRows(body, rejected);
  const byEmail = new Map<string, SubscriberInput>();
  let duplicates = 0;
  for (const { line, record } of rows) {
    const email = normalizeAddress(String(record.email ?? ''));
    if (!email) {
      rejected.push({ line, reason: `not an email address: "${String(record.email ?? '')}"` });
      continue;
    }
    const name = String(record.name ?? '').trim() || null;
    const fields = Object.fromEntries(
      Object.entries(record)
        .filter(([k, v]) => k !== 'email' && k !== 'name' && v !== null && v !== undefined && String(v).trim() !== '')
        .map(([k, v]) => [k, String(v).trim()]),
    );
    const existing = byEmail.get(email);
    if (existing) {
      duplicates++;
      byEmail.set(email, { email, name: name ?? existing.name, fields: { ...existing.fields, ...fields } });
    } else byEmail.set(email, { email, name, fields });
  }
  return { subscribers: [...byEmail.values()], rejected: rejected.sort((a, b) => a.line - b.line), duplicates };
}
