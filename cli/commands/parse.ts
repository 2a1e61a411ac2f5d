import { loadEnvironment } from '../../io/load-environment.js';
import { readSource } from '../../io/read-source.js';
import type { ArticleFormat } from '../../src/ingest/article.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import { terminalSafeJson } from '../../src/text/terminal-safe.js';
import { formatArticle } from '../format-article.js';

export async function parseCommand(input: string, options: { format?: ArticleFormat; json?: boolean }): Promise<void> {
  const config = loadEnvironment();
  const source = await readSource(input, {
    maxBytes: config.MAX_INPUT_BYTES,
    timeoutMs: config.FETCH_TIMEOUT_MS,
    allowPrivate: config.ALLOW_PRIVATE_URLS,
  });
  const article = parseArticle(source.bytes, {
    receivedAt: new Date(),
    format: options.format ?? source.format,
    url: source.url,
    charset: source.charset,
    maxBytes: config.MAX_INPUT_BYTES,
    source: source.name,
  });
  process.stdout.write(options.json ? `${terminalSafeJson(article)}\n` : formatArticle(article));
}
