import { createHash, randomBytes } from 'node:crypto';
import { createIssueEdits } from '../io/issue-edits.js';
import { createIssueFlow, type IssueFlow, type IssueFlowRecord } from '../io/issue-flow.js';
import type { Logger } from '../io/logger.js';
import { templatesDirOf } from '../io/paths.js';
import { loadSampleRecipient } from '../io/sample-recipient.js';
import { createSendLedger, type SendRecord } from '../io/send-ledger.js';
import type { StoredIssue } from '../io/store.js';
import { archiveUrlOf, type Config, previewUrlOf } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import { applyEdit, type Curation, type CurationEdit } from '../src/newsletter/curation.js';
import { parseIsoWeek, weekRange } from '../src/newsletter/iso-week.js';
import { oneLine } from '../src/text/one-line.js';
import type { BuildResult } from './build-week-issue.js';
import type { Context } from './context.js';
import type { CpuRunner } from './cpu-tasks.js';
import { describeSend } from './describe-send.js';
import { ensureIssue, waitForBuild } from './issue-operations.js';
import { isPermanent } from './job-error.js';
import { type ListSendReport, startListSend } from './list-send.js';
import type { EditorNoticePayload, ListSendPayload } from './queues.js';

/** Where a week's issue stands in the weekly loop, as `dispatch issue show`, status and the preview say it. */
export type IssueStateName =
  | 'not-built'
  | 'built'
  | 'empty'
  | 'failed'
  | 'held'
  | 'scheduled'
  | 'approved'
  | 'sending'
  | 'paused'
  | 'sent';

export interface IssueStatus {
  week: string;
  state: IssueStateName;
  /** One line for people, e.g. "scheduled for 2026-12-04T11:00:00.000Z (NEWSLETTER_SEND_AFTER=2h)". */
  summary: string;
  builtAt: string | null;
  /** When the list send starts by itself (NEWSLETTER_SEND_AFTER after the weekly build); null: it waits for approval. */
  sendAt: string | null;
  heldAt: string | null;
  approvedAt: string | null;
  /** When the latest proof was queued to the editors. */
  proofAt: string | null;
  /** The latest failure of the loop for this week, "E_CODE: message". */
  error: string | null;
  send: SendRecord | null;
  curation: Curation;
  /** The issue's page in the preview (PREVIEW_URL/issues/<week>) and on the public archive. */
  previewUrl: string;
  archiveUrl: string;
  /** Who gets the proof and the notices (EDITOR_EMAILS); empty: nobody, and the summary says so. */
  editors: string[];
}

/** A rebuild queued by an edit: the build it replaces (its builtAt) and the wait for it. */
export interface QueuedRebuild {
  replaces: string | null;
  wait(signal?: AbortSignal): Promise<StoredIssue>;
}

/** Where the loop writes what a person should know about (no editors to tell); the worker's logger. */
export type LoopLog = Pick<Logger, 'warn' | 'info'>;

const quiet: LoopLog = { warn() {}, info() {} } as unknown as LoopLog;

/** The job id of the week's timed list send (job "list-send" on the send queue): one per week. */
export function listSendJobId(week: string): string {
  return `list-send-${week}`;
}

/** The job id of a notice to the editors: one per week and cause ("empty", "build-failed-E_TEMPLATE"). */
export function noticeJobId(week: string, cause: string): string {
  return `notice-${week}-${cause}`;
}

const shortHash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** The job id of one editor's proof on one occasion: the same on every retry of what queued it. */
export function proofJobId(week: string, occasion: string, to: string): string {
  return `proof-${week}-${occasion}-${shortHash(to, 12)}`;
}

/** `2h`, `90m`, `30s`: a NEWSLETTER_SEND_AFTER duration as its variable says it. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

const flowOf = (ctx: Context): IssueFlow => createIssueFlow(ctx.redis, ctx.config.REDIS_PREFIX);
const ledgerOf = (ctx: Context) => createSendLedger(ctx.redis, ctx.config.REDIS_PREFIX);

/** "E_CODE: message", as the loop records a failure and a notice quotes it. */
function reasonOf(error: unknown): string {
  if (isDispatchError(error)) return `${error.code}: ${error.message}`;
  return `E_INTERNAL: ${error instanceof Error ? error.message : String(error)}`;
}

/** Whether the week's list send was claimed or exists: from then on the issue is frozen. */
async function sendStarted(ctx: Context, week: string, flow?: IssueFlowRecord): Promise<boolean> {
  const record = flow ?? (await flowOf(ctx).get(week));
  if (record.claimedAt) return true;
  if ((await ledgerOf(ctx).status(week)) !== null) return true;
  return Boolean((await ctx.store.getIssue(week))?.sentAt);
}

/** The sample recipient's first name, as test sends greet; none (the greeting's fallback) when it cannot be read. */
function sampleFirstName(config: Config): string | undefined {
  try {
    return loadSampleRecipient(templatesDirOf(config)).firstName ?? undefined;
  } catch {
    // A TEMPLATES_DIR without sample-recipient.json: the proof still goes, greeting no one by name.
    return undefined;
  }
}

/**
 * Queues one proof per editor (a test send marked "[Proof]", with the sample recipient's name) of
 * the stored issue, with job ids fixed by the occasion, so whatever queues them again (a retried
 * build) queues each once. Returns whom it went to; nobody when EDITOR_EMAILS is empty.
 */
async function queueProofs(ctx: Context, week: string, occasion: string, now: Date): Promise<string[]> {
  const editors = ctx.config.EDITOR_EMAILS;
  if (editors.length === 0) return [];
  const firstName = sampleFirstName(ctx.config);
  const suffix = shortHash(`${week}:${occasion}`, 4);
  await ctx.queues.send.addBulk(
    editors.map((to) => ({
      name: 'send',
      data: {
        week,
        to,
        firstName,
        token: `${week}.proof.${shortHash(`${occasion}:${to}`, 16)}`,
        testSuffix: suffix,
        proof: true,
      },
      opts: { jobId: proofJobId(week, occasion, to) },
    })),
  );
  await flowOf(ctx).markProof(week, now);
  return editors;
}

/**
 * Queues the week's timed list send (job "list-send", delayed until `sendAt`; at once when that has
 * passed). Its id is the week's own: a job of it still waiting or delayed is left as it is, and
 * one that already ran is removed first, since BullMQ adds nothing under the id of a job it keeps.
 */
async function scheduleListSend(ctx: Context, week: string, sendAt: string): Promise<void> {
  const id = listSendJobId(week);
  const queue = ctx.queues.send;
  const existing = await queue.getJob(id);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return;
    await existing.remove();
  }
  await queue.add('list-send', { week } satisfies ListSendPayload, {
    jobId: id,
    delay: Math.max(0, Date.parse(sendAt) - Date.now()),
  });
}

/** Takes the week's delayed or waiting list-send job out of the queue; one that is running finds the hold itself. */
async function unscheduleListSend(ctx: Context, week: string): Promise<void> {
  const job = await ctx.queues.send.getJob(listSendJobId(week));
  if (!job) return;
  const state = await job.getState();
  if (state === 'delayed' || state === 'waiting' || state === 'prioritized') await job.remove().catch(() => {});
}

/**
 * Tells the editors (job "editor-notice"), once per week and cause: the cause is the kind, and the
 * error's code for a failure, so the same failure at every firing of the schedule is told once.
 */
async function notifyEditors(
  ctx: Context,
  week: string,
  kind: EditorNoticePayload['kind'],
  detail: string | undefined,
  log: LoopLog,
): Promise<void> {
  const code = /^(E_[A-Z_]+):/.exec(detail ?? '')?.[1];
  const cause = code ? `${kind}-${code}` : kind;
  if (ctx.config.EDITOR_EMAILS.length === 0) {
    log.warn({ week, kind, detail }, 'EDITOR_EMAILS is empty: no editor is told');
    return;
  }
  const flow = flowOf(ctx);
  if (await flow.noticed(week, cause)) return;
  // Queued first, marked after: a crash in between queues it again under the same job id.
  const payload: EditorNoticePayload = { week, kind, ...(detail ? { detail: detail.slice(0, 2000) } : {}) };
  await ctx.queues.send.add('editor-notice', payload, { jobId: noticeJobId(week, cause) });
  await flow.markNoticed(week, cause);
}

/** What the weekly loop did after the scheduled build. */
export type LoopStep = 'empty' | 'already-sent' | 'looped' | 'looped-before';

/**
 * The weekly loop after the scheduled build of the week (the newsletter job with no week): once
 * per week, a proof to the editors and, with NEWSLETTER_SEND_AFTER, the timed list send at
 * `builtAt` + that long (its time stored once). A later firing of the schedule (a daily cron, a
 * restart) rebuilds the issue as before, and neither proofs nor schedules again. An empty week
 * tells the editors (once) and may be built by a later firing.
 */
export async function afterWeeklyBuild(
  ctx: Context,
  week: string,
  result: BuildResult,
  builtAt: Date,
  log: LoopLog = quiet,
): Promise<LoopStep> {
  const flow = flowOf(ctx);
  if (result.status === 'empty') {
    await flow.markEmpty(week, builtAt);
    await notifyEditors(ctx, week, 'empty', undefined, log);
    return 'empty';
  }
  if (result.status === 'already-sent') return 'already-sent';
  const after = ctx.config.NEWSLETTER_SEND_AFTER;
  const sendAt = after === undefined ? null : new Date(builtAt.getTime() + after);
  const begun = await flow.begin(week, builtAt, sendAt);
  if (!begun.first) return 'looped-before';
  // Sent by hand (`dispatch send`, an approval) before the schedule came: nothing left to prepare.
  if (await sendStarted(ctx, week)) {
    await flow.markLooped(week, builtAt);
    return 'already-sent';
  }
  if (ctx.config.EDITOR_EMAILS.length === 0) log.warn({ week }, 'EDITOR_EMAILS is empty: no proof is sent');
  else await queueProofs(ctx, week, 'weekly', builtAt);
  if (begun.sendAt) await scheduleListSend(ctx, week, begun.sendAt);
  await flow.markLooped(week, builtAt);
  log.info(
    { week, proofTo: ctx.config.EDITOR_EMAILS.length, sendAt: begun.sendAt },
    begun.sendAt
      ? `${week}: proof queued; the list send starts at ${begun.sendAt}`
      : `${week}: proof queued; it waits for approval`,
  );
  return 'looped';
}

/** The scheduled build failed for good: the failure is recorded and the editors told (once per code). */
export async function weeklyBuildFailed(
  ctx: Context,
  week: string,
  error: unknown,
  at: Date,
  log: LoopLog = quiet,
): Promise<void> {
  const reason = reasonOf(error);
  await flowOf(ctx).markError(week, reason, at);
  await notifyEditors(ctx, week, 'build-failed', reason, log);
}

/**
 * After a rebuild made by an edit (`before`: the build it replaced): when the new build changed
 * the issue's HTML or text and the issue goes out without another look (scheduled, or approved)
 * and has not started, the proof goes to the editors again. True when it did.
 */
export async function afterEditBuild(
  ctx: Context,
  week: string,
  before: StoredIssue | null,
  result: BuildResult,
  now: Date,
): Promise<boolean> {
  if (result.status !== 'saved') return false;
  const after = await ctx.store.getIssue(week);
  if (!after || (before && before.html === after.html && before.text === after.text)) return false;
  const flow = await flowOf(ctx).get(week);
  if (!(flow.sendAt || flow.approvedAt) || (await sendStarted(ctx, week, flow))) return false;
  const occasion = `edit-${after.curation ?? 0}-${Date.parse(after.builtAt)}`;
  return (await queueProofs(ctx, week, occasion, now)).length > 0;
}

/** What the timed list send (job "list-send") did. */
export interface ScheduledSendResult {
  week: string;
  outcome: 'held' | 'paused' | 'done' | 'started' | 'resumed';
}

/**
 * The timed list send, when its time comes: claims the week's send unless an editor holds it
 * (the claim and a hold exclude each other), then starts it through `startListSend`, the one
 * path of `dispatch send`. A send that exists and is paused or done is left as it is: a send an
 * operator paused is never resumed by the schedule. A failure that will not pass (or the last
 * try of one that might) drops the claim, records the error and tells the editors; a transient
 * one is thrown for the queue to retry.
 */
export async function runScheduledSend(
  ctx: Context,
  week: string,
  now: Date,
  options: { lastAttempt: boolean; log?: LoopLog; cpu?: CpuRunner },
): Promise<ScheduledSendResult> {
  parseIsoWeek(week);
  const flow = flowOf(ctx);
  if ((await flow.claim(week, 'schedule', now)) === 'held') return { week, outcome: 'held' };
  const status = await ledgerOf(ctx).status(week);
  if (status === 'paused' || status === 'done') return { week, outcome: status };
  try {
    const report = await startListSend(ctx, { week, rate: 0, now, cpu: options.cpu, keepPaused: true });
    return { week, outcome: report.outcome };
  } catch (error) {
    if (isPermanent(error) || options.lastAttempt) {
      const reason = reasonOf(error);
      // The schedule's claim is the one 'schedule' claim of the week (an earlier try of this job
      // may have made it); an approval's claim is not this job's to drop.
      await flow.unclaim(week, reason, now, { by: 'schedule' });
      await notifyEditors(ctx, week, 'send-failed', reason, options.log ?? quiet);
    }
    throw error;
  }
}

function describeState(
  state: IssueStateName,
  week: string,
  flow: IssueFlowRecord,
  send: SendRecord | null,
  config: Config,
): string {
  const after = config.NEWSLETTER_SEND_AFTER;
  switch (state) {
    case 'sent':
      return send
        ? `${week}: sent ${send.finishedAt ?? send.createdAt}: ${send.sent} of ${send.total} delivered, ${send.failed} failed, ${send.skipped} skipped`
        : `${week}: sent`;
    case 'sending':
    case 'paused':
      return send ? describeSend(send) : `${week}: its list send is starting (claimed ${flow.claimedAt})`;
    case 'failed':
      return `${week}: failed: ${flow.error}`;
    case 'held':
      return `${week}: held since ${flow.heldAt}; nothing goes out until: dispatch issue release ${week}${flow.error ? `; last failure: ${flow.error}` : ''}`;
    case 'empty':
      return `${week}: empty: no articles were published in it, nothing is sent`;
    case 'not-built':
      return `${week}: not built yet (the weekly build runs at NEWSLETTER_CRON "${config.NEWSLETTER_CRON}")`;
    case 'scheduled':
      return `${week}: scheduled for ${flow.sendAt}${after === undefined ? '' : ` (NEWSLETTER_SEND_AFTER=${formatDuration(after)})`}; to stop it: dispatch issue hold ${week}`;
    case 'approved':
      return `${week}: approved ${flow.approvedAt}; its list send starts: dispatch issue approve ${week} starts it again`;
    case 'built':
      return `${week}: built; waits for approval: dispatch issue approve ${week}`;
  }
}

/** The week's state in the loop. */
export async function issueStatus(ctx: Context, week: string): Promise<IssueStatus> {
  parseIsoWeek(week);
  const { config } = ctx;
  const [flow, send, stored, curation] = await Promise.all([
    flowOf(ctx).get(week),
    ledgerOf(ctx).get(week),
    ctx.store.getIssue(week),
    createIssueEdits(ctx.redis, config.REDIS_PREFIX).get(week),
  ]);
  const state: IssueStateName = send
    ? send.status === 'done'
      ? 'sent'
      : send.status
    : flow.claimedAt
      ? 'sending'
      : flow.heldAt
        ? 'held'
        : flow.error
          ? 'failed'
          : !stored
            ? flow.emptyAt
              ? 'empty'
              : 'not-built'
            : flow.sendAt
              ? 'scheduled'
              : flow.approvedAt
                ? 'approved'
                : 'built';
  const unsent = state !== 'sent' && state !== 'sending' && state !== 'paused';
  const noEditors = config.EDITOR_EMAILS.length === 0 && unsent ? '; no proof: EDITOR_EMAILS is empty' : '';
  return {
    week,
    state,
    summary: describeState(state, week, flow, send, config) + noEditors,
    builtAt: stored?.builtAt ?? null,
    sendAt: flow.sendAt,
    heldAt: flow.heldAt,
    approvedAt: flow.approvedAt,
    proofAt: flow.proofAt,
    error: flow.error,
    send,
    curation,
    previewUrl: `${previewUrlOf(config)}/issues/${week}`,
    archiveUrl: `${archiveUrlOf(config)}/${week}`,
    editors: config.EDITOR_EMAILS,
  };
}

/** The weeks the loop knows (a stored issue, or a record of the loop such as an empty week), newest first. */
export async function loopWeeks(ctx: Context): Promise<string[]> {
  const [stored, flows] = await Promise.all([ctx.store.listIssues(), flowOf(ctx).weeks()]);
  return [...new Set([...stored, ...flows])].sort().reverse();
}

/**
 * An editor approves the week's issue: its list send starts now (`startListSend`, the one path).
 * E_ISSUE_HELD when it is held. A send that already started is reported as it stands, not as an
 * error: done, or resumed (its batches not done queued again) while sending; a send an operator
 * paused stays paused (`outcome: 'paused'`). A failure drops the claim and is recorded; it is
 * thrown with its code.
 */
export async function approveIssue(ctx: Context, week: string, now: Date): Promise<ListSendReport> {
  return await claimedSend(ctx, { week, rate: 0, now, keepPaused: true });
}

/**
 * `dispatch send`: the list send started by hand, through the loop's claim like an approval:
 * refused while an editor holds the issue (E_ISSUE_HELD), and claimed, so a hold or an edit made
 * after it says the issue has gone instead of reporting success. Running it again on a send that
 * exists goes on with that send (a paused one too), as `dispatch send` always did.
 */
export async function startHandSend(
  ctx: Context,
  options: { week: string; rate: number; now: Date },
): Promise<ListSendReport> {
  return await claimedSend(ctx, { ...options, keepPaused: false });
}

/**
 * What an approval and a send by hand share: the week claimed (E_ISSUE_HELD while held), then
 * `startListSend`. A done send is reported without starting anything. On a failure only this
 * call's own claim is dropped: one made before (the timed send's, going on in a worker) stays, or
 * a hold would report success while that send starts; the issue waits for an approval again.
 */
async function claimedSend(
  ctx: Context,
  options: { week: string; rate: number; now: Date; keepPaused: boolean },
): Promise<ListSendReport> {
  const { week, now } = options;
  parseIsoWeek(week);
  const flow = flowOf(ctx);
  const claim = await flow.claim(week, 'approve', now);
  if (claim === 'held') {
    throw new DispatchError('E_ISSUE_HELD', `${week} is held: dispatch issue release ${week} lets it go out`);
  }
  const existing = await ledgerOf(ctx).get(week);
  if (existing?.status === 'done') return { week, outcome: 'done', record: existing, requeued: null };
  let report: ListSendReport;
  try {
    report = await startListSend(ctx, options);
  } catch (error) {
    const reason = reasonOf(error);
    await (claim === 'claimed'
      ? flow.unclaim(week, reason, now, { by: 'approve', claimedAt: now })
      : flow.markError(week, reason, now)
    ).catch(() => {});
    throw error;
  }
  // Started now: the timed send has nothing left to do.
  await unscheduleListSend(ctx, week).catch(() => {});
  return report;
}

/** Holds the week's issue: no automatic send until it is released. E_ISSUE_SENT once its send started. */
export async function holdIssue(ctx: Context, week: string, now: Date): Promise<IssueStatus> {
  parseIsoWeek(week);
  if (!(await flowOf(ctx).hold(week, now))) {
    throw new DispatchError(
      'E_ISSUE_SENT',
      `${week} has started going to the list: it can no longer be held (dispatch send --pause ${week} pauses the send)`,
    );
  }
  await unscheduleListSend(ctx, week);
  return await issueStatus(ctx, week);
}

/**
 * Releases a held issue: its timed send is scheduled again at its stored time (at once when that
 * has passed); without one it waits for approval. Releasing an issue that is not held changes nothing.
 */
export async function releaseIssue(ctx: Context, week: string, _now: Date): Promise<IssueStatus> {
  parseIsoWeek(week);
  const flow = flowOf(ctx);
  if (await flow.release(week)) {
    const record = await flow.get(week);
    if (record.sendAt && !(await sendStarted(ctx, week, record))) await scheduleListSend(ctx, week, record.sendAt);
  }
  return await issueStatus(ctx, week);
}

/** The article ids an edit names. */
function idsOf(edit: CurationEdit): string[] {
  return [
    ...(typeof edit.lead === 'string' ? [edit.lead] : []),
    ...(edit.drop ?? []),
    ...(edit.keep ?? []),
    ...(edit.order ?? []),
  ];
}

/**
 * Saves an editor's edit of the week's issue (E_ISSUE_SENT once its send started; E_NOT_FOUND for
 * an article not published that week) and queues a rebuild that applies it (`direct`: builds here
 * and waits). When the rebuild changes an issue that is approved or scheduled and not sent, the
 * proof goes to the editors again. No rebuild (null) when the week has no stored issue yet: the
 * weekly build applies the edit.
 */
export async function editIssue(
  ctx: Context,
  week: string,
  edit: CurationEdit,
  options: { now: Date; direct?: boolean },
): Promise<{ curation: Curation; rebuild: QueuedRebuild | null }> {
  parseIsoWeek(week);
  const { config, store } = ctx;
  const frozen = () =>
    new DispatchError('E_ISSUE_SENT', `${week} has started going to the list: its issue can no longer be edited`);
  if (await sendStarted(ctx, week)) throw frozen();
  const edits = createIssueEdits(ctx.redis, config.REDIS_PREFIX);
  // The edit's own checks first (an id that is no id, a note too long), then whether its ids are the week's.
  applyEdit(await edits.get(week), edit);
  const { start, end } = weekRange(week, config.TZ);
  const published = new Set((await store.articlesBetween(start, end)).map((a) => a.id));
  const unknown = idsOf(edit).find((id) => !published.has(id));
  if (unknown !== undefined) {
    throw new DispatchError(
      'E_NOT_FOUND',
      `no article ${JSON.stringify(oneLine(unknown, 80))} was published in ${week}`,
    );
  }
  const curation = await edits.update(week, (current) => applyEdit(current, edit), options.now);
  // A send claimed while the edit was saved went out without it: say so rather than claim it applies.
  if (await sendStarted(ctx, week)) throw frozen();
  const stale = await store.getIssue(week);
  if (!stale) return { curation, rebuild: null };
  if (options.direct) {
    // Loaded only here: `issue show` and the other commands never build (MJML).
    const { buildWeekIssue } = await import('./build-week-issue.js');
    const built = (async () => {
      const deps = { store, config, templatesDir: templatesDirOf(config), edits };
      const result = await buildWeekIssue(deps, week, new Date());
      if (result.status === 'empty') throw new DispatchError('E_ISSUE_EMPTY', `every story of ${week} is left out`);
      await afterEditBuild(ctx, week, stale, result, options.now);
      const stored = await store.getIssue(week);
      if (!stored) throw new DispatchError('E_NOT_FOUND', `the ${week} issue was not built`);
      if (stored.sentAt && (stored.curation ?? 0) < curation.revision) throw frozen();
      return stored;
    })();
    built.catch(() => {}); // the caller's wait sees the failure
    return { curation, rebuild: { replaces: stale.builtAt, wait: () => built } };
  }
  const job = await ctx.queues.newsletter.add('newsletter', { week, edit: true });
  const jobId = job.id as string;
  const wait = async (signal?: AbortSignal): Promise<StoredIssue> => {
    let last = stale;
    for (;;) {
      const stored = await waitForBuild(ctx, week, jobId, last, signal);
      // Frozen by a send before this edit was applied: it went out without it, and must not read as applied.
      if (stored.sentAt && (stored.curation ?? 0) < curation.revision) throw frozen();
      if (stored.sentAt || (stored.curation ?? 0) >= curation.revision) return stored;
      // A build that read the edits before this one was saved (the schedule's, say) landed first:
      // the edit's own build comes after it, unless that one is done already.
      if ((await ctx.queues.newsletter.getJobState(jobId)) === 'completed') return stored;
      last = stored;
    }
  };
  return { curation, rebuild: { replaces: stale.builtAt, wait } };
}

/**
 * Queues the week's proof ("[Proof]", with the preview's address of the issue) to EDITOR_EMAILS,
 * of the issue as it goes out (rebuilt first through the queue when its templates or edits
 * changed, as a test send is). E_CONFIG without editors; E_ISSUE_SENT once its send started.
 */
export async function sendProof(ctx: Context, week: string, now: Date): Promise<{ to: string[] }> {
  parseIsoWeek(week);
  if (ctx.config.EDITOR_EMAILS.length === 0) {
    throw new DispatchError('E_CONFIG', 'EDITOR_EMAILS is empty: there is nobody to send the proof to');
  }
  if (await sendStarted(ctx, week)) {
    throw new DispatchError('E_ISSUE_SENT', `${week} has gone to the list; dispatch send-test sends it as it went`);
  }
  await ensureIssue(ctx, week, false, templatesDirOf(ctx.config));
  return { to: await queueProofs(ctx, week, `asked-${randomBytes(4).toString('hex')}`, now) };
}
