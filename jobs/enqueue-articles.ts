import type { JobsOptions } from 'bullmq';
import { expandInputs } from '../io/expand-inputs.js';
import { readSource } from '../io/read-source.js';
import { type DispatchError, isDispatchError } from '../src/errors.js';
import { articleId } from '../src/ingest/article-id.js';
import { decodeInput } from '../src/ingest/decode-input.js';
import { parseArticle } from '../src/ingest/parse-article.js';
import { checkUrl } from '../src/net/url-policy.js';
import type { Context } from './context.js';
import { articleJobId, type IngestPayload } from './queues.js';

export interface EnqueueOptions {
  feed?: string[];
  /** Stamp every article as published now (what `npm start` does with the examples). */
  publishedNow?: boolean;
}

interface Prepared {
  id: string;
  data: IngestPayload;
  label: string;
}

/** Parses a file here (bad input is reported now, and the article id becomes the job id); URLs are fetched by the worker. */
async function prepare(input: string, ctx: Context, now: Date, publishedNow: boolean): Promise<Prepared> {
  const receivedAt = now.toISOString();
  const publishedAt = publishedNow ? receivedAt : undefined;
  if (/^https?:\/\//i.test(input)) {
    // What can be told without DNS is told now (a literal internal address, a localhost name);
    // the worker's fetcher checks the resolved address.
    checkUrl(input, { allowPrivate: ctx.config.ALLOW_PRIVATE_URLS });
    return { id: articleId(input, '', ''), data: { url: input, source: input, receivedAt, publishedAt }, label: input };
  }
  const { config } = ctx;
  const source = await readSource(input, {
    maxBytes: config.MAX_INPUT_BYTES,
    timeoutMs: config.FETCH_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_URLS,
  });
  const text = decodeInput(source.bytes, { charset: source.charset, maxBytes: config.MAX_INPUT_BYTES, source: input });
  const article = parseArticle(text, { receivedAt: now, format: source.format, source: input });
  return {
    id: article.id,
    data: { input: text, format: source.format, source: input, receivedAt, publishedAt },
    label: article.title,
  };
}

export interface EnqueueReport {
  added: string[];
  duplicates: string[];
  /** One line per input that was not enqueued: `path: E_CODE: message`. */
  failed: string[];
  feeds: string[];
}

/** Adds ingest jobs (job id from the article id), skipping articles already stored or queued. */
export async function enqueueArticles(
  ctx: Context,
  inputs: string[],
  options: EnqueueOptions,
  now = new Date(),
  onProgress: (done: number, total: number) => void = () => {},
): Promise<EnqueueReport> {
  const report: EnqueueReport = { added: [], duplicates: [], failed: [], feeds: [] };
  const fail = (input: string, error: DispatchError) => report.failed.push(`${input}: ${error.code}: ${error.message}`);
  // A missing path or an unreadable folder is one more bad input: reported, and the rest go on.
  const files = await expandInputs(inputs, { urls: true, onError: fail });
  const prepared: Prepared[] = [];
  for (const [i, input] of files.entries()) {
    onProgress(i, files.length);
    try {
      prepared.push(await prepare(input, ctx, now, options.publishedNow ?? false));
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      fail(input, error);
    }
  }
  onProgress(files.length, files.length);
  const stored = await ctx.store.hasArticles(prepared.map((p) => p.id));
  const fresh: Prepared[] = [];
  const seen = new Set<string>();
  for (const [i, p] of prepared.entries()) {
    const queued = await ctx.queues.ingest.getJob(articleJobId(p.id));
    if (stored[i] || (queued && !(await queued.isFailed())) || seen.has(p.id)) report.duplicates.push(p.label);
    else {
      fresh.push(p);
      seen.add(p.id);
    }
  }
  const opts = (p: Prepared): JobsOptions => ({ jobId: articleJobId(p.id) });
  // A failed job of the same id is replaced, so that fixing an input and enqueueing it again works.
  for (const p of fresh) await (await ctx.queues.ingest.getJob(articleJobId(p.id)))?.remove();
  await ctx.queues.ingest.addBulk(fresh.map((p) => ({ name: 'ingest', data: p.data, opts: opts(p) })));
  report.added.push(...fresh.map((p) => p.label));
  for (const url of options.feed ?? []) {
    checkUrl(url, { allowPrivate: ctx.config.ALLOW_PRIVATE_URLS });
    await ctx.queues.feeds.add('feeds', { url });
    report.feeds.push(url);
  }
  return report;
}
