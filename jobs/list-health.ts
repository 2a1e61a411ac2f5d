import type { SendLedger, SendStatus } from '../io/send-ledger.js';
import { SUBSCRIBER_STATUSES, type SubscriberStatus, type SubscriberStore } from '../io/subscriber-store.js';
import type { Config } from '../src/config.js';
import { isoWeekOf } from '../src/newsletter/iso-week.js';

/**
 * Complaints per delivered message at which the list is in trouble: Gmail's bulk-sender rules ask
 * senders to stay under 0.1% and never reach 0.3%; at 0.3% Gmail starts refusing mail.
 */
export const COMPLAINT_RATE_WARNING = 0.003;

/**
 * Bounces per message handed to SMTP at which the list is in trouble. Dispatch's own line: ESPs
 * act at about 5% (Amazon SES reviews an account there), and a confirmed list whose bounces are
 * processed stays well under 1%, so 2% already means something changed (an old list imported,
 * a typo'd domain) while there is time to look before a provider does.
 */
export const BOUNCE_RATE_WARNING = 0.02;

/** How one issue's send did, by what came back. */
export interface IssueHealth {
  week: string;
  /** Whether `week` is this week's issue, or the latest one sent before it (this week has none yet). */
  which: 'this week' | 'latest';
  status: SendStatus;
  /** Messages the SMTP server accepted (the ledger's sent count). */
  delivered: number;
  /** Messages refused for good at RCPT TO (the ledger's failed count): hard bounces, not delivered. */
  refused: number;
  /** Hard bounces counted against the issue: refusals at RCPT TO and bounce reports. */
  bounced: number;
  /** Soft bounces (4.x.x, delayed) reported for the issue; not in the rate. */
  softBounced: number;
  complained: number;
  /** bounced / (delivered + refused), the messages handed to SMTP; null when there were none. */
  bounceRate: number | null;
  /** complained / delivered; null when nothing was delivered. */
  complaintRate: number | null;
}

/** The list's health: readers per status, and how the current issue's send did. */
export interface ListHealth {
  counts: Record<SubscriberStatus, number>;
  /** Null when no issue was ever sent to the list. */
  issue: IssueHealth | null;
  /** True when a rate is at or over its line ({@link BOUNCE_RATE_WARNING}, {@link COMPLAINT_RATE_WARNING}). */
  warning: boolean;
  /** One sentence per rate over its line. */
  warnings: string[];
}

export interface ListHealthDeps {
  subscribers: Pick<SubscriberStore, 'counts' | 'issueEvents'>;
  ledger: Pick<SendLedger, 'get' | 'list'>;
  config: Pick<Config, 'TZ'>;
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/**
 * The list's health at `now`: counts per status, and for this week's issue (the ISO week of `now`
 * in TZ) or, when it has no send yet, the latest week before it that has one, what was delivered
 * and what came back (the ledger's counts and the issue's bounce and complaint events).
 */
export async function listHealth(deps: ListHealthDeps, now: Date): Promise<ListHealth> {
  const thisWeek = isoWeekOf(now, deps.config.TZ);
  const [counts, weeks] = await Promise.all([deps.subscribers.counts(), deps.ledger.list()]);
  // ISO weeks sort as strings ("2026-W09" < "2026-W48" < "2027-W01"); a send of a later week is not "this week's".
  const week = weeks
    .filter((w) => w <= thisWeek)
    .sort()
    .at(-1);
  const record = week ? await deps.ledger.get(week) : null;
  if (!week || !record) return { counts, issue: null, warning: false, warnings: [] };
  const events = await deps.subscribers.issueEvents(week);
  const issue: IssueHealth = {
    week,
    which: week === thisWeek ? 'this week' : 'latest',
    status: record.status,
    delivered: record.sent,
    refused: record.failed,
    bounced: events.bounced,
    softBounced: events.softBounced,
    complained: events.complained,
    bounceRate: rate(events.bounced, record.sent + record.failed),
    complaintRate: rate(events.complained, record.sent),
  };
  const warnings: string[] = [];
  if (issue.bounceRate !== null && issue.bounceRate >= BOUNCE_RATE_WARNING) {
    warnings.push(
      `bounce rate ${percent(issue.bounceRate)} is at or over ${percent(BOUNCE_RATE_WARNING)}: check where the bounced addresses came from`,
    );
  }
  if (issue.complaintRate !== null && issue.complaintRate >= COMPLAINT_RATE_WARNING) {
    warnings.push(
      `complaint rate ${percent(issue.complaintRate)} is at or over ${percent(COMPLAINT_RATE_WARNING)}, where Gmail starts refusing mail`,
    );
  }
  return { counts, issue, warning: warnings.length > 0, warnings };
}

/** A rate as a percentage with two decimals ("0.30%"); "-" for none. */
export function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(2)}%`;
}

/** "3 active, 1 pending, 1 unsubscribed, 0 bounced, 0 complained". */
export function describeCounts(counts: Record<SubscriberStatus, number>): string {
  return SUBSCRIBER_STATUSES.map((s) => `${counts[s]} ${s}`).join(', ');
}

/** The lines `dispatch status` and `dispatch subscribers stats` print for the list's health. */
export function describeListHealth(health: ListHealth): string[] {
  const lines = [describeCounts(health.counts)];
  const { issue } = health;
  if (!issue) lines.push('no issue sent to the list yet');
  else {
    const when = issue.which === 'this week' ? "this week's issue" : 'the latest issue (none sent this week yet)';
    lines.push(
      `${issue.week}, ${when}, ${issue.status}: ${issue.delivered} delivered, ` +
        `${issue.bounced} bounced (${percent(issue.bounceRate)}), ${issue.complained} complained (${percent(issue.complaintRate)})` +
        `${issue.softBounced ? `, ${issue.softBounced} soft bounce(s)` : ''}`,
    );
  }
  for (const warning of health.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
