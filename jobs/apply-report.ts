import type { SubscriberStore } from '../io/subscriber-store.js';
import { type BounceReport, cleanDetail, type DsnRecipient, worstSeverity } from '../src/bounces/read-report.js';
import type { Config } from '../src/config.js';
import { bounceAddressOf, type MailTag, readMessageId, readVerpAddress, subscriberId } from '../src/links/mail-tags.js';

/**
 * How the reader of a report was found. `verp`: the address the report was delivered to is a
 * signed bounce address; `message-id`: the returned message's Message-ID is a signed one of
 * Dispatch's; `quoted-verp`: a signed bounce address quoted inside the report (the envelope
 * sender of the original, in an ARF's Original-Mail-From or the returned Return-Path).
 */
export type FoundVia = 'verp' | 'message-id' | 'quoted-verp';

/**
 * What a report did. `bounced`, `soft-bounce`, `complained`: the reader's record changed;
 * `unchanged`: it was already so (a report delivered twice), or the reader had left;
 * `ignored`: the report says the mail got through (delivered, relayed) or is no complaint
 * (not-spam); `unverified`: nothing in it is signed, so nobody is touched; `unknown-reader`: signed,
 * but for nobody the store knows; `unrecognized`: not a report at all.
 */
export interface AppliedReport {
  outcome:
    | 'bounced'
    | 'soft-bounce'
    | 'complained'
    | 'unchanged'
    | 'ignored'
    | 'unverified'
    | 'unknown-reader'
    | 'unrecognized';
  kind: BounceReport['kind'];
  via: FoundVia | null;
  /** {@link subscriberId} of the reader: logs name readers by it, not by address. */
  readerId: string | null;
  week: string | null;
  status: string | null;
  /** The words stored with the change (the reader's address in them shown as `<reader>`), or why nothing changed. */
  detail: string;
}

export interface ApplyReportDeps {
  subscribers: Pick<SubscriberStore, 'resolveId' | 'markBounced' | 'noteSoftBounce' | 'markComplained'>;
  config: Pick<
    Config,
    'BOUNCE_ADDRESS' | 'MAIL_FROM' | 'UNSUBSCRIBE_SECRET' | 'BOUNCE_SOFT_LIMIT' | 'BOUNCE_SOFT_WINDOW_DAYS'
  >;
}

const DAY_MS = 86_400_000;

interface Found {
  tag: MailTag;
  via: FoundVia;
}

/**
 * Whose mail the report is about, from signed tags only. Never from what the report says in the
 * clear: anyone can write a report naming any address, and believing one would let a stranger
 * unsubscribe a whole list. A signed tag can only come from a message Dispatch sent: the VERP
 * address the report was delivered to first; then the Message-ID of the returned message (a
 * provider that rewrites the envelope sender, or redacts the recipient, keeps the headers); then
 * a VERP address quoted in the report.
 */
function findReaders(report: BounceReport, rcptTo: readonly string[], deps: ApplyReportDeps): Found[] {
  const { config } = deps;
  const bounce = bounceAddressOf(config);
  const secret = config.UNSUBSCRIBE_SECRET;
  const byId = new Map<string, Found>();
  for (const rcpt of rcptTo) {
    const tag = readVerpAddress(rcpt, bounce, secret);
    if (tag && !byId.has(tag.id)) byId.set(tag.id, { tag, via: 'verp' });
  }
  if (byId.size > 0) return [...byId.values()];
  const fromId = report.messageId ? readMessageId(report.messageId, secret) : null;
  if (fromId) return [{ tag: fromId, via: 'message-id' }];
  for (const sender of report.senders) {
    const tag = readVerpAddress(sender, bounce, secret);
    if (tag) return [{ tag, via: 'quoted-verp' }];
  }
  return [];
}

/** The recipient block about this reader, else the worst one (the message was theirs: its failure is theirs). */
function blockFor(recipients: readonly DsnRecipient[], email: string): DsnRecipient | undefined {
  const own = recipients.filter((r) => r.finalRecipient === email || r.originalRecipient === email);
  const pool = own.length > 0 ? own : recipients;
  const worst = worstSeverity(pool);
  return pool.find((r) => r.severity === worst);
}

/**
 * Applies a report that came to the bounce address (`rcptTo`: its SMTP recipients) to the readers
 * it is about: a hard bounce makes them bounced, a soft one is counted (BOUNCE_SOFT_LIMIT within
 * BOUNCE_SOFT_WINDOW_DAYS make them bounced), a complaint makes them complained, and the issue of
 * the tag's week counts it. Only changes are counted, so a report delivered twice counts once
 * (a soft bounce counts once per message, however many delay notices come for it). Store failures are thrown: the
 * caller answers so that the sender tries again later.
 */
export async function applyReport(
  deps: ApplyReportDeps,
  report: BounceReport,
  rcptTo: readonly string[],
  now: Date,
): Promise<AppliedReport[]> {
  const { subscribers } = deps;
  const none = { via: null, readerId: null, week: null, status: null };
  const found = findReaders(report, rcptTo, deps);
  if (report.kind === 'unrecognized') {
    const first = found[0];
    return [
      {
        ...none,
        outcome: 'unrecognized',
        kind: report.kind,
        readerId: first?.tag.id ?? null,
        via: first?.via ?? null,
        detail: report.reason,
      },
    ];
  }
  if (found.length === 0) {
    const tagged = rcptTo.some((r) => r.slice(0, r.lastIndexOf('@')).includes('+'));
    const detail = tagged
      ? 'delivered to a bounce address whose tag is not signed with UNSUBSCRIBE_SECRET'
      : `nothing in the report is signed${report.namedRecipients.length > 0 ? ` (it names ${report.namedRecipients.length} address(es))` : ''}`;
    return [{ ...none, outcome: 'unverified', kind: report.kind, detail }];
  }
  const results: AppliedReport[] = [];
  for (const { tag, via } of found) {
    const base = { kind: report.kind, via, readerId: tag.id, week: tag.week, status: null };
    if (report.kind === 'ignored') {
      results.push({ ...base, outcome: 'ignored', detail: report.reason });
      continue;
    }
    // The signed id decides. An address the report names is used only when it hashes to that id
    // (a reader recorded before the store kept ids has none to resolve).
    const email =
      (await subscribers.resolveId(tag.id)) ?? report.namedRecipients.find((a) => subscriberId(a) === tag.id) ?? null;
    if (!email) {
      results.push({ ...base, outcome: 'unknown-reader', detail: 'signed for a reader the store does not know' });
      continue;
    }
    const result = await applyTo(deps, report, email, base, now);
    results.push({ ...result, detail: withoutAddress(result.detail, email) });
  }
  return results;
}

/** `text` with `email` (in any case) shown as `<reader>`: results go to logs, which name readers by id only. */
function withoutAddress(text: string, email: string): string {
  return text.replace(new RegExp(email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '<reader>');
}

/** One reader's part of a report: the change it makes, and the count against the issue. */
async function applyTo(
  { subscribers, config }: ApplyReportDeps,
  report: BounceReport,
  email: string,
  base: Omit<AppliedReport, 'outcome' | 'detail'>,
  now: Date,
): Promise<AppliedReport> {
  const { week } = base;
  if (report.kind === 'complaint') {
    const feedback = report.feedback;
    const reporter = [feedback?.reportingMta, feedback?.userAgent && `(${feedback.userAgent})`]
      .filter(Boolean)
      .join(' ');
    const detail = cleanDetail(`${feedback?.feedbackType ?? 'abuse'} report from ${reporter || 'an unnamed reporter'}`);
    // Counted against the issue in the same step, only when the status changed: a report twice counts once.
    const changed = await subscribers.markComplained(email, detail, now, week);
    return { ...base, outcome: changed ? 'complained' : 'unchanged', detail };
  }
  const block = blockFor(report.recipients, email);
  const severity = block?.severity ?? 'ignored';
  const status = block?.status ?? null;
  const detail = cleanDetail(
    [status, block?.diagnostic ?? (block?.action ? `(${block.action})` : null)].filter(Boolean).join(' '),
  );
  if (severity === 'hard') {
    const changed = await subscribers.markBounced(email, detail, now, week);
    return { ...base, kind: 'hard', status, outcome: changed ? 'bounced' : 'unchanged', detail };
  }
  if (severity === 'soft') {
    const rule = { limit: config.BOUNCE_SOFT_LIMIT, windowMs: config.BOUNCE_SOFT_WINDOW_DAYS * DAY_MS };
    // One issue's message (or the sign-up mails) counts once, however many delay notices its
    // mail server sends while it keeps trying.
    const soft = await subscribers.noteSoftBounce(email, detail, now, rule, {
      message: week ? `issue:${week}` : 'signup',
      week,
    });
    const outcome = soft.bounced ? 'bounced' : soft.counted ? 'soft-bounce' : 'unchanged';
    return {
      ...base,
      kind: 'soft',
      status,
      outcome,
      detail: soft.counted ? `${detail} (${soft.count} of ${rule.limit})` : detail,
    };
  }
  return { ...base, kind: 'ignored', status, outcome: 'ignored', detail: report.reason };
}
