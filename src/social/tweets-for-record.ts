import { z } from 'zod';
import type { Config } from '../config.js';
import { DispatchError } from '../errors.js';
import type { Article } from '../ingest/article.js';
import { parseArticle } from '../ingest/parse-article.js';
import { type Summary, summarize } from '../summarize/summarize.js';
import { zodProblems } from '../zod-problems.js';
import { composePosts } from './compose-posts.js';
import type { Post } from './post.js';

/**
 * One line of `dispatch tweets --jsonl` input: an id and the article as `body` (or its synonym
 * `article`: paragraphs one per line, no title line), `text` (scraped text, title first) or `html`.
 */
const recordSchema = z
  .object({
    id: z.union([z.string().min(1), z.number()]),
    title: z.string().optional(),
    url: z.string().optional(),
    body: z.string().optional(),
    article: z.string().optional(),
    text: z.string().optional(),
    html: z.string().optional(),
  })
  .loose()
  .refine((r) => [r.body, r.article, r.text, r.html].some((v) => v !== undefined), {
    message: 'needs one of body, article, text or html',
  });

export interface TweetsRecord {
  id: string | number;
  summary: Summary;
  posts: Post[];
}

/**
 * The article of one JSON line (`dispatch tweets --jsonl`, `dispatch posts --jsonl`), with the
 * record's id. Throws {@link DispatchError} (E_INPUT_FORMAT, or the article's own code) for a bad line.
 */
export function articleForRecord(
  line: string,
  config: Config,
  receivedAt: Date,
): { id: string | number; article: Article } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new DispatchError('E_INPUT_FORMAT', `invalid JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    throw new DispatchError('E_INPUT_FORMAT', `not an article record (${zodProblems(parsed.error).join('; ')})`);
  }
  const record = parsed.data;
  const options = { receivedAt, maxBytes: config.MAX_INPUT_BYTES, url: record.url, source: `record ${record.id}` };
  const article =
    record.html !== undefined
      ? parseArticle(record.html, { ...options, format: 'html' })
      : record.text !== undefined && record.body === undefined && record.article === undefined
        ? parseArticle(record.text, { ...options, format: 'text' })
        : parseArticle(JSON.stringify({ title: record.title, body: record.body ?? record.article, url: record.url }), {
            ...options,
            format: 'json',
            titleFromBody: true,
          });
  return { id: record.id, article };
}

/** Parses, summarizes and composes the posts for one JSON line. Throws {@link DispatchError} for a bad line. */
export function tweetsForRecord(line: string, config: Config, receivedAt: Date): TweetsRecord {
  const { id, article } = articleForRecord(line, config, receivedAt);
  const summary = summarize(article);
  return { id, summary, posts: composePosts(article, summary, config) };
}
