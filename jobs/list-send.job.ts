import type { Job } from 'bullmq';
import type { Context } from './context.js';
import type { CpuRunner } from './cpu-tasks.js';
import { isLastAttempt, parsePayload } from './job-error.js';
import { listSendPayload } from './queues.js';
import { type LoopLog, runScheduledSend, type ScheduledSendResult } from './weekly-loop.js';

/**
 * send, job "list-send": the week's timed list send (NEWSLETTER_SEND_AFTER after the weekly
 * build), delayed until its time under one job id per week. Claims the send unless an editor
 * holds it, then starts it as `dispatch send` does (see `runScheduledSend`). However many workers
 * run it, and however often, the week is sent once: the claim, and the send ledger's start, are atomic.
 */
export function listSendJob(deps: { ctx: Context; now: () => Date; log: LoopLog; cpu?: CpuRunner }) {
  return async (job: Job): Promise<ScheduledSendResult> => {
    const { week } = parsePayload(listSendPayload, job.data, 'list-send');
    return await runScheduledSend(deps.ctx, week, deps.now(), {
      lastAttempt: isLastAttempt(job),
      log: deps.log,
      cpu: deps.cpu,
    });
  };
}
