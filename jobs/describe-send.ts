import type { SendRecord } from '../io/send-ledger.js';

/** One line on a send: its status and counts; a paused send says why and how to go on. */
export function describeSend(record: SendRecord): string {
  const remaining = record.total - record.sent - record.failed - record.skipped;
  const line =
    `${record.week}: ${record.status}, ${record.sent} sent, ${record.failed} failed, ${record.skipped} skipped ` +
    `(unsubscribed meanwhile), ${remaining} remaining of ${record.total}` +
    `${record.possibleDuplicates ? `; ${record.possibleDuplicates} possible duplicate(s) after a crash` : ''}`;
  if (record.status !== 'paused') return line;
  return `${line}; ${record.pausedReason ? `paused by itself: ${record.pausedReason}` : 'paused by hand'}; fix the cause, then: npx dispatch send --resume ${record.week}`;
}
