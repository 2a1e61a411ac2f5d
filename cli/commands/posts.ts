import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadEnvironment } from '../../io/load-environment.js';
import { mastodonCharacterLimit } from '../../io/mastodon-instance.js';
import { readSource } from '../../io/read-source.js';
import type { Config } from '../../src/config.js';
import { DispatchError, isDispatchError } from '../../src/errors.js';
import type { ArticleFormat } from '../../src/ingest/article.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import { composeNetworkPosts, type NetworkComposeOptions } from '../../src/social/compose-network-posts.js';
import { isNetwork, NETWORKS, type Network, type NetworkPost } from '../../src/social/network-post.js';
import { MASTODON_DEFAULT_LIMIT } from '../../src/social/networks/index.js';
import { articleForRecord } from '../../src/social/tweets-for-record.js';
import { summarize } from '../../src/summarize/summarize.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { progressBar } from '../progress-bar.js';

export interface PostsOptions {
  /** One network, or `all`. @defaultValue all */
  network?: string;
  json?: boolean;
  jsonl?: string;
  out?: string;
  url?: string;
  format?: ArticleFormat;
}

/** Where the command reads its configuration and writes: the process's own unless a caller (a test) gives others. */
export interface PostsIo {
  config?: Config;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

function networksOf(choice: string | undefined): Network[] {
  if (choice === undefined || choice === 'all') return [...NETWORKS];
  if (isNetwork(choice)) return [choice];
  throw new DispatchError('E_INPUT_FORMAT', `--network must be one of ${NETWORKS.join(', ')} or all (got "${choice}")`);
}

/** A post with its kind, its length out of its network's limit and its text, as a terminal may show it. */
function formatNetworkPost(post: NetworkPost): string {
  const part = post.part ? ` ${post.part.index}/${post.part.total}` : '';
  const mark = post.valid ? 'ok' : 'INVALID';
  const card = post.card ? `\n(card: ${terminalSafe(post.card.uri)})` : '';
  return `[${terminalSafe(post.kind)}${part}] ${post.length}/${post.limit} ${mark}\n${terminalSafe(post.text, { multiline: true })}${card}\n`;
}

/**
 * Mastodon's limit on the configured instance (MASTODON_URL), when Mastodon's posts are asked
 * for; Mastodon's default 500 without one, or with one warning line when the instance does not say.
 */
async function mastodonLimit(config: Config, networks: Network[], stderr: (text: string) => void): Promise<number> {
  if (!networks.includes('mastodon') || !config.MASTODON_URL) return MASTODON_DEFAULT_LIMIT;
  try {
    return await mastodonCharacterLimit(config.MASTODON_URL, { timeoutMs: config.FETCH_TIMEOUT_MS });
  } catch (error) {
    if (!isDispatchError(error)) throw error;
    stderr(
      `dispatch: warning: ${error.code}: ${terminalSafe(error.message)}; Mastodon posts are composed for ${MASTODON_DEFAULT_LIMIT} characters\n`,
    );
    return MASTODON_DEFAULT_LIMIT;
  }
}

/**
 * `dispatch posts`: an article's posts for each network (or one), each with its length out of the
 * network's limit; `--json` prints `{id, summary, posts}`; `--jsonl IN --out OUT` composes a line of
 * `{id, summary, posts}` per article record, reports bad lines and ends with a line per network.
 */
export async function postsCommand(input: string | undefined, options: PostsOptions, io: PostsIo = {}): Promise<void> {
  const config = io.config ?? loadEnvironment();
  const stdout = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  // Not a commander choice: `--format` is the parent's option, and `posts export --format csv` reads it too.
  if (options.format !== undefined && !['text', 'html', 'json'].includes(options.format)) {
    throw new DispatchError(
      'E_INPUT_FORMAT',
      `--format must be text, html or json (got "${options.format.slice(0, 40)}")`,
    );
  }
  const networks = networksOf(options.network);
  const compose: NetworkComposeOptions = { mastodonLimit: await mastodonLimit(config, networks, stderr) };
  if (options.jsonl) return await postsJsonl(options.jsonl, options.out, { config, networks, compose, stdout, stderr });
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
  const posts = networks.flatMap((network) => composeNetworkPosts(network, article, summary, config, compose));
  if (options.json) return stdout(`${terminalSafeJson({ id: article.id, summary, posts })}\n`);
  const groups = networks.map((network) => {
    const own = posts.filter((p) => p.network === network);
    return `== ${network} (${own.length} posts) ==\n\n${own.map(formatNetworkPost).join('\n')}`;
  });
  stdout(`${terminalSafe(article.title)}\n\n${groups.join('\n')}`);
}

interface JsonlContext {
  config: Config;
  networks: Network[];
  compose: NetworkComposeOptions;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

async function postsJsonl(inPath: string, outPath: string | undefined, context: JsonlContext): Promise<void> {
  const { config, networks, compose, stdout, stderr } = context;
  if (!outPath) throw new DispatchError('E_INPUT_NOT_FOUND', '--jsonl needs --out FILE for the results');
  let total: number;
  try {
    total = statSync(inPath).size;
  } catch (cause) {
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file: ${inPath}`, { cause });
  }
  const out = createWriteStream(outPath);
  const opened = once(out, 'open').catch((cause: unknown) => {
    throw new DispatchError('E_OUTPUT_WRITE', `cannot write ${outPath} (${(cause as Error).message})`, { cause });
  });
  await opened;
  // A write that fails later (a full disk) is reported once the input is read, not left to crash.
  let writeError: Error | undefined;
  out.on('error', (error) => {
    writeError ??= error;
  });
  const bar = progressBar('posts');
  const receivedAt = new Date();
  const counts = new Map(networks.map((n) => [n, { posts: 0, invalid: 0 }]));
  let lineNumber = 0;
  let bytes = 0;
  let written = 0;
  const bad: string[] = [];
  const lines = createInterface({ input: createReadStream(inPath), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    lineNumber++;
    bytes += Buffer.byteLength(line) + 1;
    bar.update(bytes, total);
    if (!line.trim()) continue;
    try {
      const { id, article } = articleForRecord(line, config, receivedAt);
      const summary = summarize(article);
      const posts = networks.flatMap((network) => composeNetworkPosts(network, article, summary, config, compose));
      for (const post of posts) {
        const count = counts.get(post.network) as { posts: number; invalid: number };
        count.posts++;
        if (!post.valid) count.invalid++;
      }
      if (!out.write(`${JSON.stringify({ id, summary, posts })}\n`)) {
        await once(out, 'drain').catch((error: Error) => (writeError ??= error));
      }
      if (writeError) break;
      written++;
    } catch (error) {
      if (!isDispatchError(error)) throw error;
      bad.push(`${inPath} line ${lineNumber}: ${error.code}: ${error.message}`);
    }
  }
  out.end();
  if (!writeError) await once(out, 'finish').catch((error: Error) => (writeError ??= error));
  bar.done();
  if (writeError) {
    throw new DispatchError('E_OUTPUT_WRITE', `cannot write ${outPath} (${writeError.message})`, { cause: writeError });
  }
  for (const message of bad) stderr(`${terminalSafe(message)}\n`);
  const perNetwork = [...counts].map(
    ([network, c]) => `${network}: ${c.posts} posts, ${c.invalid === 0 ? 'all valid' : `${c.invalid} INVALID`}\n`,
  );
  stdout(
    `wrote ${written} records to ${terminalSafe(outPath)}` +
      `${bad.length ? `; skipped ${bad.length} bad line(s), listed above` : ''}\n${perNetwork.join('')}`,
  );
}
