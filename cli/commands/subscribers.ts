import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { DispatchError } from '../../src/errors.js';
import { normalizeAddress } from '../../src/subscribers/normalize-address.js';
import { parseSubscribers } from '../../src/subscribers/parse-subscribers.js';
import { openContext } from '../context.js';

/** `dispatch subscribers import <file.csv|file.jsonl>`. */
export async function importCommand(file: string): Promise<void> {
  const format = /\.jsonl?$/i.test(extname(file)) ? 'jsonl' : 'csv';
  const text = await readFile(file, 'utf8').catch((cause) => {
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file: ${file}`, { cause });
  });
  const parsed = parseSubscribers(text, format);
  const ctx = await openContext();
  try {
    const report = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).importSubscribers(
      parsed.subscribers,
      new Date(),
    );
    for (const r of parsed.rejected) process.stderr.write(`${file} line ${r.line}: ${r.reason}\n`);
    process.stdout.write(
      `${report.added} added, ${report.updated} updated, ${parsed.duplicates} duplicate(s) merged, ` +
        `${report.stillSuppressed} kept unsubscribed, ${parsed.rejected.length} rejected\n`,
    );
  } finally {
    await ctx.close();
  }
}

/** `dispatch subscribers list`. */
export async function listCommand(options: { json?: boolean }): Promise<void> {
  const ctx = await openContext();
  try {
    const all = await createSubscriberStore(ctx.redis, ctx.config.REDIS_PREFIX).list();
    if (options.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    else {
      for (const s of all) process.stdout.write(`${s.email}\t${s.name ?? ''}\t${s.status}\n`);
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
    process.stdout.write(`removed ${email}\n`);
  } finally {
    await ctx.close();
  }
}
