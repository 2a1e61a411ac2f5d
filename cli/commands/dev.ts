import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEnvironment } from '../../io/load-environment.js';
import { readSource } from '../../io/read-source.js';
import { isDispatchError } from '../../src/errors.js';
import { parseArticle } from '../../src/ingest/parse-article.js';

/** `npm start`: ingests every example article and prints what came out, one line each. */
export async function devCommand(options: { examples: string }): Promise<void> {
  const config = loadEnvironment();
  const files = (await readdir(options.examples)).filter((f) => !f.startsWith('.')).sort();
  let failed = 0;
  for (const file of files) {
    const path = join(options.examples, file);
    try {
      const source = await readSource(path, { maxBytes: config.MAX_INPUT_BYTES, timeoutMs: config.FETCH_TIMEOUT_MS });
      const article = parseArticle(source.bytes, { receivedAt: new Date(), format: source.format, source: path });
      const quotes = article.quotes.filter((q) => q.speaker).map((q) => q.speaker);
      process.stdout.write(
        `${article.id}  ${article.title}\n` +
          `    ${path}: ${article.wordCount} words, ${article.sections.length} section(s), ` +
          `${article.quotes.length} quote(s)${quotes.length ? ` by ${[...new Set(quotes)].join(', ')}` : ''}` +
          `${article.byline ? `, by ${article.byline}` : ''}\n`,
      );
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      failed++;
      process.stdout.write(`${path}: ${error.code}: ${error.message}\n`);
    }
  }
  process.stdout.write(
    `\n${files.length - failed} of ${files.length} example articles ingested. See one in full: npx dispatch parse ${join(options.examples, files[0] ?? '')}\n`,
  );
}
