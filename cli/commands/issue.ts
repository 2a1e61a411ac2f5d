import { open } from 'node:fs/promises';
import { describeSend } from '../../jobs/describe-send.js';
import {
  approveIssue,
  editIssue,
  holdIssue,
  type IssueStatus,
  issueStatus,
  releaseIssue,
  sendProof,
} from '../../jobs/weekly-loop.js';
import { DispatchError } from '../../src/errors.js';
import { type Curation, type CurationEdit, NOTE_MAX_CHARS } from '../../src/newsletter/curation.js';
import { isoWeekOf, parseIsoWeek } from '../../src/newsletter/iso-week.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { type CommandContext, openContext } from '../context.js';

export interface IssueEditOptions {
  lead?: string;
  drop?: string[];
  keep?: string[];
  order?: string;
  note?: string;
  noteFile?: string;
  reset?: boolean;
  direct?: boolean;
}

/** Prints lines as they may reach a terminal: anything from outside (titles, notes, errors) shown, never obeyed. */
function print(...lines: string[]): void {
  process.stdout.write(`${lines.map((line) => terminalSafe(line)).join('\n')}\n`);
}

/** Checks the week before anything connects: a typo is one line, with or without Redis. */
async function withWeek<T>(week: string, work: (ctx: CommandContext) => Promise<T>): Promise<T> {
  parseIsoWeek(week);
  const ctx = await openContext();
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}

/** "edits: revision 2 (lead pinned, 1 dropped, order of 3, a note)", or "no edits". */
function describeCuration(curation: Curation): string {
  if (curation.revision === 0) return 'no edits';
  const parts = [
    curation.lead ? `lead ${curation.lead}` : 'lead automatic',
    `${curation.drop.length} dropped`,
    curation.order.length ? `order of ${curation.order.length}` : 'newest first',
    curation.note ? `a note of ${[...curation.note].length} characters` : 'no note',
  ];
  return `edits: revision ${curation.revision} (${parts.join(', ')})`;
}

function details(status: IssueStatus): string {
  const parts = [`preview ${status.previewUrl}`, `archive ${status.archiveUrl}`];
  if (status.builtAt) parts.push(`built ${status.builtAt}`);
  if (status.proofAt) parts.push(`proof queued ${status.proofAt} to ${status.editors.length} editor(s)`);
  parts.push(describeCuration(status.curation));
  return `  ${parts.join('; ')}`;
}

/** `dispatch issue show [week]`: where the week's issue stands in the weekly loop. */
export async function issueShowCommand(week: string | undefined, options: { json?: boolean }): Promise<void> {
  if (week !== undefined) parseIsoWeek(week);
  const ctx = await openContext();
  try {
    const status = await issueStatus(ctx, week ?? isoWeekOf(new Date(), ctx.config.TZ));
    if (options.json) process.stdout.write(`${terminalSafeJson(status)}\n`);
    else print(status.summary, details(status));
  } finally {
    await ctx.close();
  }
}

/** `dispatch issue approve <week>`: the list send starts now. */
export async function issueApproveCommand(week: string): Promise<void> {
  await withWeek(week, async (ctx) => {
    const report = await approveIssue(ctx, week, new Date());
    const { record } = report;
    if (report.outcome === 'started') {
      print(`${week}: approved; queued ${record.total} recipient(s) in ${record.batches} batch(es)`);
    } else if (report.outcome === 'resumed') {
      print(`${week}: its send had started; every batch not done is queued again`, describeSend(record));
    } else if (report.outcome === 'paused') {
      print(`${week}: its send is paused and stays so`, describeSend(record));
    } else {
      print(`${week}: already sent, nothing new sent`, describeSend(record));
    }
  });
}

/** `dispatch issue hold <week>`. */
export async function issueHoldCommand(week: string): Promise<void> {
  await withWeek(week, async (ctx) => {
    await holdIssue(ctx, week, new Date());
    print(`${week}: held; nothing goes out until: dispatch issue release ${week}`);
  });
}

/** `dispatch issue release <week>`. */
export async function issueReleaseCommand(week: string): Promise<void> {
  await withWeek(week, async (ctx) => {
    const before = await issueStatus(ctx, week);
    const after = await releaseIssue(ctx, week, new Date());
    print(before.heldAt ? `${week}: released` : `${week}: was not held`, after.summary);
  });
}

/** At most this many bytes of a note file are read: room for NOTE_MAX_CHARS characters in any script. */
const NOTE_FILE_BYTES = NOTE_MAX_CHARS * 4 + 1024;

/** A note file (or standard input for "-"), bounded and checked as UTF-8. */
async function readNote(file: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const take = (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size > NOTE_FILE_BYTES) {
      throw new DispatchError(
        'E_INPUT_TOO_LARGE',
        `the note in ${file === '-' ? 'stdin' : file} is over ${NOTE_FILE_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  };
  if (file === '-') {
    for await (const chunk of process.stdin) take(Buffer.from(chunk as Uint8Array));
  } else {
    const handle = await open(file, 'r').catch((cause: Error) => {
      throw new DispatchError('E_INPUT_NOT_FOUND', `cannot read the note file ${file}: ${cause.message}`, { cause });
    });
    try {
      for await (const chunk of handle.createReadStream({ highWaterMark: 16 * 1024 })) take(chunk as Buffer);
    } finally {
      await handle.close();
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (cause) {
    throw new DispatchError('E_INPUT_ENCODING', `the note in ${file} is not UTF-8 text`, { cause });
  }
}

/** "a,b c" -> ["a", "b", "c"]: ids may come as several arguments or comma-separated. */
const idList = (values: readonly string[]) =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** The edit the options describe; E_INPUT_FORMAT when they describe none, or two notes. */
export async function editFromOptions(options: IssueEditOptions): Promise<CurationEdit> {
  if (options.note !== undefined && options.noteFile !== undefined) {
    throw new DispatchError('E_INPUT_FORMAT', 'give the note with --note or --note-file, not both');
  }
  const edit: CurationEdit = {};
  if (options.reset) edit.reset = true;
  if (options.lead !== undefined) edit.lead = options.lead.trim().toLowerCase() === 'auto' ? null : options.lead.trim();
  if (options.drop) edit.drop = idList(options.drop);
  if (options.keep) edit.keep = idList(options.keep);
  if (options.order !== undefined)
    edit.order = options.order.trim().toLowerCase() === 'none' ? [] : idList([options.order]);
  if (options.note !== undefined) edit.note = options.note === '' ? null : options.note;
  if (options.noteFile !== undefined) edit.note = await readNote(options.noteFile);
  if (Object.keys(edit).length === 0) {
    throw new DispatchError(
      'E_INPUT_FORMAT',
      'nothing to edit: give --lead, --drop, --keep, --order, --note, --note-file or --reset',
    );
  }
  return edit;
}

/** `dispatch issue edit <week> ...`: saves the edit and waits for the rebuild that applies it. */
export async function issueEditCommand(week: string, options: IssueEditOptions): Promise<void> {
  parseIsoWeek(week);
  const edit = await editFromOptions(options);
  await withWeek(week, async (ctx) => {
    const { curation, rebuild } = await editIssue(ctx, week, edit, { now: new Date(), direct: options.direct });
    print(`${week}: edit saved; ${describeCuration(curation)}`);
    if (!rebuild) {
      print(`${week}: not built yet; the weekly build applies the edit`);
      return;
    }
    const built = await rebuild.wait();
    print(
      `${week}: rebuilt ${built.builtAt} (${built.issue.articleCount} stories); see it: dispatch issue show ${week}`,
    );
  });
}

/** `dispatch issue proof <week>`: the proof to EDITOR_EMAILS again. */
export async function issueProofCommand(week: string): Promise<void> {
  await withWeek(week, async (ctx) => {
    const { to } = await sendProof(ctx, week, new Date());
    print(`${week}: proof queued to ${to.join(', ')}`);
  });
}
