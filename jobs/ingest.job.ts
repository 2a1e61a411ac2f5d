import type { Job } from 'bullmq';
import { fetchUrl } from '../io/fetch-url.js';
import type { Store } from '../io/store.js';
import type { Config } from '../src/config.js';
import { type CpuRunner, transferable } from './cpu-tasks.js';
import { parsePayload } from './job-error.js';
import { articleJobId, ingestPayload, type Queues } from './queues.js';

export interface IngestResult {
  articleId: string;
  title: string;
  duplicate: boolean;
}

/**
 * ingest: parse (fetching first when given a URL), store, then start the article's social job.
 * The parse runs on `cpu` (a worker thread, within JOB_TIMEOUT_MS); the fetch and the writes stay here.
 */
export function ingestJob(deps: { store: Store; queues: Queues; config: Config; cpu: CpuRunner }) {
  return async (job: Job): Promise<IngestResult> => {
    const payload = parsePayload(ingestPayload, job.data, 'ingest');
    const { config } = deps;
    let input: string | Uint8Array | undefined = payload.input;
    let url = payload.url;
    let charset: string | undefined;
    let format = payload.format;
    if (input === undefined && url) {
      const page = await fetchUrl(url, {
        timeoutMs: config.FETCH_TIMEOUT_MS,
        maxBytes: config.MAX_INPUT_BYTES,
        allowPrivate: config.ALLOW_PRIVATE_URLS,
      });
      input = page.bytes;
      url = page.url;
      charset = page.charset;
      format ??= /json/i.test(page.contentType) ? 'json' : /html/i.test(page.contentType) ? 'html' : undefined;
    }
    // Fetched bytes are moved to the parsing thread, not copied: nothing here reads them again.
    const moved = input instanceof Uint8Array ? transferable(input) : undefined;
    const parsed = await deps.cpu.run(
      'parseArticle',
      [
        moved?.bytes ?? input ?? '',
        {
          receivedAt: new Date(payload.receivedAt),
          format,
          url,
          charset,
          maxBytes: config.MAX_INPUT_BYTES,
          source: payload.source,
        },
      ],
      { what: `parsing ${payload.source}`, transfer: moved?.transfer },
    );
    const article = payload.publishedAt ? { ...parsed, publishedAt: payload.publishedAt } : parsed;
    const created = await deps.store.saveArticle(article);
    // jobId = article id: a retry of this job, or the same article again, adds no second social job.
    await deps.queues.social.add('social', { articleId: article.id }, { jobId: articleJobId(article.id) });
    return { articleId: article.id, title: article.title, duplicate: !created };
  };
}
