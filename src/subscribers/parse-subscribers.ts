import { normalizeAddress } from './normalize-address.js';

/** A subscriber as an import file gives it. */
export interface SubscriberInput {
  email: string;
  name: string | null;
  fields: Record<string, string>;
}

export interface ParsedSubscribers {
  subscribers: SubscriberInput[];
  /** Lines that are not subscribers, with their line numbers. */
  rejected: { line: number; reason: string }[];
  /** Addresses that appeared more than once (merged into one). */
  duplicates: number;
}

/** Splits one CSV line (RFC 4180 quoting: "a, b" and "" inside quotes). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells.map((v) => v.trim());
}

/**
 * Subscribers from a CSV file (a header row with an `email` column, optional `name` and any other
 * columns) or JSON lines (`{"email": ..., "name": ..., ...}`). Addresses are validated and
 * normalized; a repeated address is merged into one (later non-empty fields win).
 */
export function parseSubscribers(text: string, format: 'csv' | 'jsonl'): ParsedSubscribers {
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  const rejected: ParsedSubscribers['rejected'] = [];
  const rows: { line: number; record: Record<string, unknown> }[] = [];
  if (format === 'csv') {
    const header = csvCells(lines[0] ?? '').map((h) => h.toLowerCase());
    if (!header.includes('email'))
      return { subscribers: [], rejected: [{ line: 1, reason: 'no "email" column in the header' }], duplicates: 0 };
    lines.slice(1).forEach((line, i) => {
      if (!line.trim()) return;
      const cells = csvCells(line);
      rows.push({ line: i + 2, record: Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ''])) });
    });
  } else {
    lines.forEach((line, i) => {
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
  }
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
