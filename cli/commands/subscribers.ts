import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { createSendLedger } from '../../io/send-ledger.js';
import {
  createSubscriberStore,
  SUBSCRIBER_STATUSES,
  type Subscriber,
  type SubscriberStatus,
} from '../../io/subscriber-store.js';
import { describeCounts, describeListHealth, listHealth } from '../../jobs/list-health.js';
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
      const counts = Object.fromEntries(SUBSCRIBER_STATUSES.map((status) => [status, 0])) as Record<
        SubscriberStatus,
        number
      >;
      for (const subscriber of all) counts[subscriber.status]++;
      process.stdout.write(`${describeCounts(counts)}\n`);
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

/** The address a command names, checked as every address Dispatch takes is. */
function addressArgument(address: string): string {
  const email = normalizeAddress(address);
  if (!email) throw new DispatchError('E_INPUT_FORMAT', `not an email address: "${address.slice(0, 80)}"`);
  return email;
}

/** "2026-11-27T09:00:00.000Z (reason)", or "-" when it never happened. */
const when = (at: string | null, reason?: string | null) => (at ? `${at}${reason ? ` (${reason})` : ''}` : '-');

/**
 * `dispatch subscribers show <email>`: the status, the consent record and the trail. Every value
 * came from outside at some point (a form, a file, a bounce report): each is shown on one line
 * with its controls as escapes, so none can drive the terminal or forge a line of its own.
 */
export async function showSubscriberCommand(address: string, options: { json?: boolean }): Promise<void> {
  const email = addressArgument(address);
  const ctx = await openContext();
  try {
    const store = createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX);
    const subscriber = await store.get(email);
    if (!subscriber) throw new DispatchError('E_NOT_FOUND', `no subscriber ${email}`);
    const trail = await store.trail(email);
    if (options.json) {
      process.stdout.write(`${terminalSafeJson({ ...subscriber, trail })}\n`);
      return;
    }
    const rows: [string, string][] = [
      ['status', subscriber.status],
      ['name', subscriber.name ?? '-'],
      ['added', subscriber.subscribedAt || '-'],
      ['source', subscriber.source ?? '-'],
      ['signed up', when(subscriber.signupAt)],
      ['sign-up IP', subscriber.signupIp ?? '-'],
      ['user agent', subscriber.signupUserAgent ?? '-'],
      ['confirmed', when(subscriber.confirmedAt)],
      ['pending until', when(subscriber.pendingUntil)],
      ['unsubscribed', when(subscriber.unsubscribedAt)],
      ['bounced', when(subscriber.bouncedAt, subscriber.bounceReason)],
      ['complained', when(subscriber.complainedAt, subscriber.complaintReason)],
      ...Object.entries(subscriber.fields).map(([name, value]): [string, string] => [`field ${name}`, value]),
    ];
    const width = Math.max(...rows.map(([label]) => label.length)) + 2;
    const lines = [terminalSafe(subscriber.email)];
    for (const [label, value] of rows) lines.push(`  ${terminalSafe(label).padEnd(width)}${terminalSafe(value)}`);
    lines.push('Trail:');
    if (trail.length === 0) lines.push('  none');
    for (const event of trail) {
      lines.push(`  ${terminalSafe(`${event.at} ${event.event}${event.detail ? `: ${event.detail}` : ''}`)}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await ctx.close();
  }
}

/** `dispatch subscribers stats`: readers per status, and this week's (or the latest) issue's bounce and complaint rates. */
export async function statsCommand(options: { json?: boolean }): Promise<void> {
  const ctx = await openContext();
  try {
    const health = await listHealth(
      {
        subscribers: createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX),
        ledger: createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX),
        config: ctx.config,
      },
      new Date(),
    );
    if (options.json) process.stdout.write(`${terminalSafeJson(health)}\n`);
    else
      process.stdout.write(
        `${describeListHealth(health)
          .map((line) => terminalSafe(line))
          .join('\n')}\n`,
      );
  } finally {
    await ctx.close();
  }
}

/** The export's columns, in order, and what each holds. */
const EXPORT_COLUMNS: readonly [string, (s: Subscriber) => string | null][] = [
  ['email', (s) => s.email],
  ['name', (s) => s.name],
  ['status', (s) => s.status],
  ['source', (s) => s.source],
  ['signup_at', (s) => s.signupAt],
  ['signup_ip', (s) => s.signupIp],
  ['signup_user_agent', (s) => s.signupUserAgent],
  ['confirmed_at', (s) => s.confirmedAt],
  ['unsubscribed_at', (s) => s.unsubscribedAt],
  ['bounced_at', (s) => s.bouncedAt],
  ['bounce_reason', (s) => s.bounceReason],
  ['complained_at', (s) => s.complainedAt],
  ['complaint_reason', (s) => s.complaintReason],
];

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, a comma or a line break, quotes doubled.
 * Never a formula: the export is made to be opened in a spreadsheet.
 */
function csvCell(value: string | null): string {
  const cell = spreadsheetSafe(value ?? '');
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** RFC 4180 ends every record with CRLF. */
const csvRow = (cells: readonly (string | null)[]) => `${cells.map(csvCell).join(',')}\r\n`;

/** Rows written per chunk: a list of 100,000 is never one string. */
const EXPORT_CHUNK = 1000;

async function writeChunks(out: Writable, rows: Subscriber[]): Promise<void> {
  if (!out.write(csvRow(EXPORT_COLUMNS.map(([name]) => name)))) await once(out, 'drain');
  for (let from = 0; from < rows.length; from += EXPORT_CHUNK) {
    let chunk = '';
    for (const s of rows.slice(from, from + EXPORT_CHUNK)) chunk += csvRow(EXPORT_COLUMNS.map(([, value]) => value(s)));
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

export interface ExportOptions {
  /** Only this status (commander checks it is one). */
  status?: SubscriberStatus;
  out?: string;
}

/**
 * `dispatch subscribers export [--status S] [--out file]`: CSV with the consent record. A file is
 * written beside its place and renamed into it when complete, so a failed export leaves no half
 * a list; it is readable by its owner only, as it holds readers' addresses and IPs.
 */
export async function exportCommand(options: ExportOptions): Promise<void> {
  const status = options.status;
  const ctx = await openContext();
  try {
    const all = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).list();
    const rows = status ? all.filter((s) => s.status === status) : all;
    if (!options.out) {
      await writeChunks(process.stdout, rows);
      return;
    }
    const target = options.out;
    const partial = `${target}.${randomBytes(4).toString('hex')}.partial`;
    const cannotWrite = (cause: unknown) =>
      new DispatchError(
        'E_OUTPUT_WRITE',
        `cannot write ${target}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
        { cause },
      );
    const file = createWriteStream(partial, { mode: 0o600 });
    try {
      // An error (no such folder, no permission, disk full) fails the export, not the process.
      const failed = once(file, 'error').then(([error]) => Promise.reject(error));
      failed.catch(() => {});
      await Promise.race([once(file, 'open'), failed]);
      await Promise.race([writeChunks(file, rows), failed]);
      file.end();
      await Promise.race([once(file, 'finish'), failed]);
      await rename(partial, target);
    } catch (cause) {
      file.destroy();
      await rm(partial, { force: true });
      throw cannotWrite(cause);
    }
    process.stdout.write(`wrote ${rows.length} subscriber(s) to ${terminalSafe(target)}\n`);
  } finally {
    await ctx.close();
  }
}
