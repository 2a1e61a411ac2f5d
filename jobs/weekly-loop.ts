import type { SendRecord } from '../io/send-ledger.js';
import type { StoredIssue } from '../io/store.js';
import { DispatchError } from '../src/errors.js';
import type { Curation, CurationEdit } from '../src/newsletter/curation.js';
import type { Context } from './context.js';
import type { ListSendReport } from './list-send.js';

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
}

/** A rebuild queued by an edit: the build it replaces (its builtAt) and the wait for the new one. */
export interface QueuedRebuild {
  replaces: string | null;
  wait(signal?: AbortSignal): Promise<StoredIssue>;
}

const notYet = (): never => {
  throw new DispatchError('E_INTERNAL', 'the weekly loop is not built yet');
};

/** The week's state in the loop. */
export async function issueStatus(_ctx: Context, _week: string): Promise<IssueStatus> {
  return notYet();
}

/**
 * An editor approves the week's issue: its list send starts now (`startListSend`, the one path).
 * E_ISSUE_HELD when it is held.
 */
export async function approveIssue(_ctx: Context, _week: string, _now: Date): Promise<ListSendReport> {
  return notYet();
}

/** Holds the week's issue: no automatic send until it is released. E_ISSUE_SENT once its send started. */
export async function holdIssue(_ctx: Context, _week: string, _now: Date): Promise<IssueStatus> {
  return notYet();
}

/** Releases a held issue: an automatic send is scheduled again (at once when its time has passed). */
export async function releaseIssue(_ctx: Context, _week: string, _now: Date): Promise<IssueStatus> {
  return notYet();
}

/**
 * Saves an editor's edit of the week's issue (E_ISSUE_SENT once its send started; E_NOT_FOUND for
 * an article not published that week) and queues a rebuild that applies it (`direct`: builds here
 * and waits). When the rebuild changes an issue that is approved or scheduled and not sent, the
 * proof goes to the editors again.
 */
export async function editIssue(
  _ctx: Context,
  _week: string,
  _edit: CurationEdit,
  _options: { now: Date; direct?: boolean },
): Promise<{ curation: Curation; rebuild: QueuedRebuild | null }> {
  return notYet();
}

/** Queues the week's proof ("[Proof]", with the preview's address of the issue) to EDITOR_EMAILS. */
export async function sendProof(_ctx: Context, _week: string, _now: Date): Promise<{ to: string[] }> {
  return notYet();
}
