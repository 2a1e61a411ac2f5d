import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadEnvironment } from '../../io/load-environment.js';
import { readSource } from '../../io/read-source.js';
import { DispatchError, isDispatchError } from '../../src/errors.js';
import type { ArticleFormat } from '../../src/ingest/article.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import { composePosts } from '../../src/social/compose-posts.js';
import { tweetsForRecord } from '../../src/social/tweets-for-record.js';
import { summarize } from '../../src/summarize/summarize.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { formatPost } from '../format-post.js';
import { progressBar } from '../progress-bar.js';

export interface TweetsOptions {
  json?: boolean;
  jsonl?: string;
  out?: string;
  url?: string;
  format?: ArticleFormat;
}

export async function tweetsCommand(input: string | undefined, options: TweetsOptions): Promise<void> {
  const config = loadEnvironment();
  if (options.jsonl) return await tweetsJsonl(options.jsonl, options.out, config);
  if (!input) throw new DispatchError('E_INPUT_NOT_FOUND', 'give an article (file, URL or -) or --jsonl IN --out OUT');

  const source = await readSource(input, {
    maxBytes: config.MAX_INPUT_BYTES,
    timeoutMs: config.FETCH_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_URLS,
  });
  const article = parseArticle(source.bytes, {
    receivedAt: new Date(),
    format: options.format ?? source.format,
    url: options.url ?? source.url,
    charset: source.charset,
    maxBytes: config.MAX_INPUT_BYTES,
    source: source.name,
  });
  const summary = summarize(article);
  const posts = composePosts(article, summary, config);
  if (options.json) {
    process.stdout.write(`${terminalSafeJson({ id: article.id, summary, posts })}\n`);
  } else {
    process.stdout.write(`${terminalSafe(article.title)}\n\n${posts.map(formatPost).join('\n')}`);
  }
}

async function tweetsJsonl(inPath: string, outPath: string | undefined, config: ReturnType<typeof loadEnvironment>) {
  if (!outPath) throw new DispatchError('E_INPUT_NOT_FOUND', '--jsonl needs --out FILE for the results');
  let total: number;
  try {
    total = statSync(inPath).size;
  } catch (cause) {
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file: ${inPath}`, { cause });
  }
  const out = createWriteStream(outPath);
  const bar = progressBar('tweets');
  const receivedAt = new Date();
  let lineNumber = 0;
  let bytes = 0;
  let written = 0;
  let postCount = 0;
  let invalid = 0;
  const bad: string[] = [];
  const lines = createInterface({ input: createReadStream(inPath), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    lineNumber++;
    bytes += Buffer.byteLength(line) + 1;
    bar.update(bytes, total);
    if (!line.trim()) continue;
    try {
      const record = tweetsForRecord(line, config, receivedAt);
      postCount += record.posts.length;
      invalid += record.posts.filter((p) => !p.valid).length;
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
      written++;
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      bad.push(`${inPath} line ${lineNumber}: ${error.code}: ${error.message}`);
    }
  }
  out.end();
  await once(out, 'finish');
  bar.done();
  for (const message of bad) process.stderr.write(`${terminalSafe(message)}\n`);
  process.stdout.write(
    `wrote ${written} records with ${postCount} posts to ${terminalSafe(outPath)}: ` +
      `${invalid === 0 ? 'all posts valid' : `${invalid} posts INVALID`}` +
      `${bad.length ? `; skipped ${bad.length} bad line(s), listed above` : ''}\n`,
  );
}
