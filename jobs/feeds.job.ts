import type { Job, Processor } from 'bullmq';
import { fetchUrl } from '../io/fetch-url.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { isDispatchError } from '../src/errors.js';
import { articleId } from '../src/ingest/article-id.js';
import { countWords } from '../src/ingest/clean-text.js';
import { type CpuRunner, transferable } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { articleJobId, feedPayload, ingestPayload, type Queues } from './queues.js';

/** Fewer words of content than this in a feed item means it is only a teaser: fetch the page. */
const FULL_CONTENT_WORDS = 80;

/**
 * feeds: polls one feed and enqueues an ingest job for each item not yet seen (by guid or id, else
 * link). Items with their full content are ingested from the feed; the rest from their page.
 *
 * An item counts as seen only once its article is stored or its ingest failed for good (see
 * {@link marksFeedItems}): an item whose page was down until its job gave up is tried again by a
 * later poll. While its ingest job is still queued or retrying, a poll adds nothing: the job id is
 * the article's, and BullMQ adds no second job with an id it holds, in any state. That includes
 * failed jobs, so a poll that finds one retries it rather than adding.
 */
export function feedsJob(deps: { store: Store; queues: Queues; config: Config; now: () => Date; cpu: CpuRunner }) {
  return async (job: Job): Promise<{ url: string; items: number; new: number }> => {
    const { url } = parsePayload(feedPayload, job.data, 'feeds');
    const { config, store, queues } = deps;
    const page = await fetchUrl(url, {
      timeoutMs: config.FETCH_TIMEOUT_MS,
      maxBytes: config.MAX_INPUT_BYTES,
      allowPrivate: config.ALLOW_PRIVATE_URLS,
    });
    const { bytes, transfer } = transferable(page.bytes);
    const feed = await deps.cpu.run('parseFeed', [bytes, page.charset, url, config.MAX_INPUT_BYTES], {
      what: `parsing the feed ${url}`,
      transfer,
    });
    let added = 0;
    for (const item of feed.items) {
      if (await store.isFeedItemSeen(url, item.key)) continue;
      const receivedAt = deps.now().toISOString();
      const content = item.contentHtml ?? item.summary ?? '';
      const full = countWords(content.replace(/<[^>]+>/g, ' ')) >= FULL_CONTENT_WORDS;
      if (!full && !item.link) {
        // Nothing to ingest, now or later.
        await store.markFeedItemSeen(url, item.key);
        continue;
      }
      const source = `${url} item ${item.key}`;
      const from = { url, itemKey: item.key };
      const data = full
        ? {
            input: JSON.stringify({
              title: item.title ?? undefined,
              html: `<article>${content}</article>`,
              url: item.link ?? undefined,
              publishedAt: item.publishedAt ?? undefined,
            }),
            format: 'json' as const,
            source,
            receivedAt,
            feed: from,
          }
        : { url: item.link as string, source, receivedAt, feed: from };
      const id = item.link ? articleId(item.link, '', '') : articleId(null, item.title ?? '', content);
      const jobId = articleJobId(id);
      const existing = await queues.ingest.getJob(jobId);
      if (existing) {
        await settleExisting(existing, store, from);
        continue;
      }
      await queues.ingest.add('ingest', data, { jobId });
      added++;
    }
    return { url, items: feed.items.length, new: added };
  };
}

/**
 * An unseen item whose ingest job already exists: completed means its article is stored (the
 * mark was lost, or another feed or the CLI brought the same article), so it is marked now;
 * failed means it gave up on a temporary failure (a permanent one would have marked it, unless
 * the job was not the feed's), so it is tried again with fresh attempts; any other state means it
 * is on its way.
 */
async function settleExisting(job: Job, store: Store, item: { url: string; itemKey: string }): Promise<void> {
  const state = await job.getState();
  if (state === 'completed') {
    await store.markFeedItemSeen(item.url, item.itemKey);
  } else if (state === 'failed') {
    // The job may come from elsewhere (the CLI's enqueue of the same URL) and not name the item:
    // it does now, so this run marks it when it stores the article or fails for good.
    await job.updateData({ ...job.data, feed: item });
    // Two polls at once may both try: the second finds it no longer failed, which is what it wanted.
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(async (error) => {
      if ((await job.getState()) === 'failed') throw error;
    });
  }
}

/**
 * Wraps the ingest processor so a feed item is marked seen once its article is stored or its
 * ingest fails for good (a DispatchError not marked transient: bad input, a blocked URL, a 404).
 * A temporary failure leaves it unseen, whether the job retries or gives up.
 */
export function marksFeedItems(store: Store, processor: Processor): Processor {
  return async (job, token) => {
    const item = ingestPayload.safeParse(job.data).data?.feed;
    try {
      const result = await processor(job, token);
      if (item) await store.markFeedItemSeen(item.url, item.itemKey);
      return result;
    } catch (error) {
      if (item && isDispatchError(error) && !error.transient) await store.markFeedItemSeen(item.url, item.itemKey);
      throw error;
    }
  };
}
