import { QUEUE_NAMES, type Queues } from './queues.js';

export const JOB_STATES = ['wait', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

export interface QueueReport {
  queues: Record<string, Record<string, number>>;
  schedulers: { queue: string; id: string; next: string | null; pattern?: string; every?: number; tz?: string }[];
  /** The latest failures, newest first, with the error code their reason starts with. */
  failures: { queue: string; jobId?: string; code: string | null; reason: string; at: string | null }[];
}

/** Jobs per queue and state, the schedules and the latest failures: what `dispatch status` shows (the preview's front page shows the schedules and failures). */
export async function queueReport(queues: Queues, failuresPerQueue = 5): Promise<QueueReport> {
  const report: QueueReport = { queues: {}, schedulers: [], failures: [] };
  for (const name of QUEUE_NAMES) {
    const queue = queues[name];
    report.queues[name] = await queue.getJobCounts(...JOB_STATES);
    for (const s of await queue.getJobSchedulers()) {
      report.schedulers.push({
        queue: name,
        id: s.key,
        next: s.next ? new Date(s.next).toISOString() : null,
        pattern: s.pattern ?? undefined,
        every: s.every ? Number(s.every) : undefined,
        tz: s.tz ?? undefined,
      });
    }
    for (const job of await queue.getFailed(0, failuresPerQueue - 1)) {
      const reason = job.failedReason ?? '';
      report.failures.push({
        queue: name,
        jobId: job.id,
        code: /^(E_[A-Z_]+):/.exec(reason)?.[1] ?? null,
        reason,
        at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      });
    }
  }
  report.failures.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  return report;
}
