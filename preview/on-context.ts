import type { ListenAs } from '../io/listen.js';
import { mailboxDir } from '../io/mailbox.js';
import { templatesDirOf } from '../io/paths.js';
import { createSendLedger } from '../io/send-ledger.js';
import { createSubscriberStore } from '../io/subscriber-store.js';
import type { Context } from '../jobs/context.js';
import { describeSend } from '../jobs/describe-send.js';
import { ensureIssue, parseAddresses, queueRebuild, queueTestSends } from '../jobs/issue-operations.js';
import { listHealth } from '../jobs/list-health.js';
import { approveIssue, editIssue, holdIssue, issueStatus, loopWeeks, releaseIssue } from '../jobs/weekly-loop.js';
import type { Config } from '../src/config.js';
import { weekRange } from '../src/newsletter/iso-week.js';
import { startPreview } from './server.js';

/** Starts the preview server on a context: what `dispatch preview` and `npm start` run. */
export async function previewOn(ctx: Context, config: Config, host: string, port: number, listenAs?: ListenAs) {
  const templatesDir = templatesDirOf(config);
  const sends = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  const subscribers = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
  return await startPreview({
    config,
    store: ctx.store,
    queues: ctx.queues,
    sends,
    listHealth: () => listHealth({ subscribers, ledger: sends, config }, new Date()),
    templatesDir,
    mailboxDir: mailboxDir(config.DATA_DIR),
    host,
    port,
    listenAs,
    async sendTest(week, addresses) {
      // Checked (and capped at TEST_SEND_MAX_RECIPIENTS) before an issue is built for it.
      const to = parseAddresses(addresses.join(','), config.TEST_SEND_MAX_RECIPIENTS);
      // An unsent issue whose templates changed is rebuilt first: the test shows what the page will.
      await ensureIssue(ctx, week, false, templatesDir);
      const { suffix } = await queueTestSends(ctx, week, to, templatesDir);
      return `Queued a test of ${week} (${suffix}) to ${to.join(', ')}: see the mailbox.`;
    },
    async rebuild(week, signal) {
      const queued = await queueRebuild(ctx, week);
      if (!queued) return { flash: `The ${week} issue was sent: it is frozen and not rebuilt.`, built: null };
      return {
        flash: `Queued a rebuild of ${week}: this page reloads when a worker has stored it.`,
        // The build it replaces (its builtAt), read once, by the queueing itself.
        built: { replaces: queued.stale?.builtAt ?? null, wait: queued.built(signal) },
      };
    },
    loop: {
      weeks: () => loopWeeks(ctx),
      status: (week) => issueStatus(ctx, week),
      async stories(week) {
        const { start, end } = weekRange(week, config.TZ);
        return await ctx.store.articlesBetween(start, end);
      },
      readers: async () => (await subscribers.counts()).active,
      async approve(week) {
        // An out-of-date build (changed templates, an edit not rebuilt yet) is rebuilt by a worker
        // first: the send would otherwise render it here, on the preview's own thread.
        await ensureIssue(ctx, week, false, templatesDir);
        const report = await approveIssue(ctx, week, new Date());
        if (report.outcome === 'started') {
          const { total, batches } = report.record;
          return `Approved ${week}: its list send started, to ${total} ${total === 1 ? 'reader' : 'readers'} in ${batches} ${batches === 1 ? 'batch' : 'batches'}.`;
        }
        if (report.outcome === 'paused')
          return `${week}: its list send is paused, and an approval does not resume it (${describeSend(report.record)}).`;
        if (report.outcome === 'resumed')
          return `Approved ${week}: its list send was under way and goes on (${describeSend(report.record)}).`;
        return `The ${week} issue was sent already (${describeSend(report.record)}).`;
      },
      hold: async (week) => `Held ${week}: ${(await holdIssue(ctx, week, new Date())).summary}`,
      release: async (week) => `Released ${week}: ${(await releaseIssue(ctx, week, new Date())).summary}`,
      async edit(week, edit, signal) {
        const { curation, rebuild } = await editIssue(ctx, week, edit, { now: new Date() });
        const saved = `Saved edit ${curation.revision} of ${week}`;
        // No build stored yet: the week's build applies the edit when it runs.
        if (!rebuild) return { flash: `${saved}: the week's build applies it.`, built: null };
        return {
          flash: `${saved} and queued a rebuild: this page reloads when a worker has stored it.`,
          built: { replaces: rebuild.replaces, wait: rebuild.wait(signal) },
        };
      },
    },
  });
}
