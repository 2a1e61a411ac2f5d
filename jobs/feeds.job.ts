import type { Job } from 'bullmq';
import { fetchUrl } from '../io/fetch-url.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { articleId } from '../src/ingest/article-id.js';
import { countWords } from '../src/ingest/clean-text.js';
import { decodeInput } from '../src/ingest/decode-input.js';
import { parseFeed } from '../src/ingest/parse-feed.js';
import { parsePayload } from './job-error.js';
import { articleJobId, feedPayload, type Queues } from './queues.js';

/** Fewer words of content than this in a feed item means it is only a teaser: fetch the page. */
const FULL_CONTENT_WORDS = 80;

/**
 * feeds: polls one feed and enqueues an ingest job for each item not seen before (by guid or id,
 * else link). Items with their full content are ingested from the feed; the rest from their page.
 */
export function feedsJob(deps: { store: Store; queues: Queues; config: Config; now: () => Date }) {
  return async (job: Job): Promise<{ url: string; items: number; new: number }> => {
    const { url } = parsePayload(feedPayload, job.data, 'feeds');
    const { config } = deps;
    const page = await fetchUrl(url, { timeoutMs: config.FETCH_TIMEOUT_MS, maxBytes: config.MAX_INPUT_BYTES });
    const feed = parseFeed(
      decodeInput(page.bytes, { charset: page.charset, source: url, maxBytes: config.MAX_INPUT_BYTES }),
      url,
    );
    let added = 0;
    for (const item of feed.items) {
      if (!(await deps.store.markFeedItemSeen(url, item.key))) continue;
      const receivedAt = deps.now().toISOString();
      const content = item.contentHtml ?? item.summary ?? '';
      const full = countWords(content.replace(/<[^>]+>/g, ' ')) >= FULL_CONTENT_WORDS;
      if (!full && !item.link) continue;
      const data = full
        ? {
            input: JSON.stringify({
              title: item.title ?? undefined,
              html: `<article>${content}</article>`,
              url: item.link ?? undefined,
              publishedAt: item.publishedAt ?? undefined,
            }),
            format: 'json' as const,
            source: `${url} item ${item.key}`,
            receivedAt,
          }
        : { url: item.link as string, source: `${url} item ${item.key}`, receivedAt };
      const id = item.link ? articleId(item.link, '', '') : articleId(null, item.title ?? '', content);
      await deps.queues.ingest.add('ingest', data, { jobId: articleJobId(id) });
      added++;
    }
    return { url, items: feed.items.length, new: added };
  };
}
