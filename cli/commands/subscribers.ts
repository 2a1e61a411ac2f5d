import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { DispatchError } from '../../src/errors.js';
import { decodeInput } from '../../src/ingest/decode-input.js';
import { normalizeAddress } from '../../src/subscribers/normalize-address.js';
import { parseSubscribers } from '../../src/subscribers/parse-subscribers.js';
import { spreadsheetSafe } from '../../src/text/spreadsheet-safe.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { openContext } from '../context.js';

/** How many of the reasons an import that rejected every row quotes in its error. */
const REASONS_SHOWN = 3;

/** `dispatch subscribers import <file.csv|file.jsonl>`. */
export async function importCommand(file: string): Promise<void> {
  const format = /\.jsonl?$/i.test(extname(file)) ? 'jsonl' : 'csv';
  const bytes = await readFile(file).catch((cause) => {
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file: ${file}`, { cause });
  });
  // UTF-8, or UTF-16 LE/BE by its byte order mark (what spreadsheets export as "Unicode text").
  const text = decodeInput(bytes, { source: file, maxBytes: Number.MAX_SAFE_INTEGER });
  const parsed = parseSubscribers(text, format);
  if (parsed.subscribers.length === 0 && parsed.rejected.length > 0) {
    const shown = parsed.rejected.slice(0, REASONS_SHOWN).map((r) => `line ${r.line}: ${r.reason}`);
    const more = parsed.rejected.length - shown.length;
    throw new DispatchError(
      'E_IMPORT_REJECTED',
      `${file}: all ${parsed.rejected.length} row(s) rejected, nothing imported (${shown.join('; ')}` +
        `${more > 0 ? `; and ${more} more` : ''})`,
    );
  }
  const ctx = await openContext();
  try {
    const report = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).importSubscribers(
      parsed.subscribers,
      new Date(),
    );
    for (const r of parsed.rejected) process.stderr.write(`${terminalSafe(`${file} line ${r.line}: ${r.reason}`)}\n`);
    process.stdout.write(
      `${report.added} added, ${report.updated} updated, ${parsed.duplicates} duplicate(s) merged, ` +
        `${report.stillSuppressed} kept unsubscribed, ${parsed.rejected.length} rejected\n`,
    );
  } finally {
    await ctx.close();
  }
}

/**
 * One row of `subscribers list`: tab-separated cells, each on one line with its controls shown
 * as escapes (a tab or line break in a name cannot forge a column or a row), and none a
 * spreadsheet formula (the list is often pasted into one).
 */
function subscriberRow(cells: readonly string[]): string {
  return cells.map((cell) => terminalSafe(spreadsheetSafe(cell))).join('\t');
}

/** `dispatch subscribers list`. */
export async function listCommand(options: { json?: boolean }): Promise<void> {
  const ctx = await openContext();
  try {
    const all = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).list();
    if (options.json) process.stdout.write(`${terminalSafeJson(all)}\n`);
    else {
      for (const s of all) process.stdout.write(`${subscriberRow([s.email, s.name ?? '', s.status])}\n`);
      process.stdout.write(
        `${all.filter((s) => s.status === 'active').length} active, ${all.filter((s) => s.status !== 'active').length} unsubscribed\n`,
      );
    }
  } finally {
    await ctx.close();
  }
}

/** `dispatch subscribers remove <email>`: deletes the record; an unsubscribe stays remembered. */
export async function removeCommand(address: string): Promise<void> {
  const email = normalizeAddress(address);
  if (!email) throw new DispatchError('E_INPUT_FORMAT', `not an email address: "${address}"`);
  const ctx = await openContext();
  try {
    const removed = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).remove(email);
    if (!removed) throw new DispatchError('E_NOT_FOUND', `no subscriber ${email}`);
    process.stdout.write(`removed ${terminalSafe(email)}\n`);
  } finally {
    await ctx.close();
  }
}

/** `dispatch subscribers show <email>`. */
export async function showSubscriberCommand(_address: string, _options: { json?: boolean }): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'subscribers show: being built');
}

/** `dispatch subscribers stats`. */
export async function statsCommand(_options: { json?: boolean }): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'subscribers stats: being built');
}

/** `dispatch subscribers export`. */
export async function exportCommand(_options: { status?: string; out?: string }): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'subscribers export: being built');
}
