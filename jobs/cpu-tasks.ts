import type { Config } from '../src/config.js';
import { DispatchError, isDispatchError } from '../src/errors.js';
import type { Article } from '../src/ingest/article.js';
import type { BuildIssueOptions } from '../src/newsletter/build-issue.js';
import type { RenderedIssue, RenderOptions } from '../src/newsletter/render-issue.js';
import type { Templates } from '../src/newsletter/templates.js';
import type { NetworkPost } from '../src/social/network-post.js';
import type { Post } from '../src/social/post.js';
import type { Summary } from '../src/summarize/summarize.js';

/**
 * The CPU-heavy steps of the jobs, by name: pure functions of `src/` only (no Redis, no network,
 * no clock), so they can run in a worker thread and their arguments and results cross it by
 * structured clone. Each entry loads its code on first use: a thread that only parses articles
 * never loads MJML (some 60 MB).
 */
export const CPU_TASKS = {
  /** ingest: raw input (text, HTML, JSON; a string or bytes) to an {@link Article}. */
  parseArticle: async () => (await import('../src/ingest/parse-article.js')).parseArticle,

  /** feeds: a fetched feed's bytes to its items. */
  parseFeed: async () => {
    const [{ decodeInput }, { parseFeed }] = await Promise.all([
      import('../src/ingest/decode-input.js'),
      import('../src/ingest/parse-feed.js'),
    ]);
    return (bytes: Uint8Array, charset: string | undefined, url: string, maxBytes: number) =>
      parseFeed(decodeInput(bytes, { charset, source: url, maxBytes }), url);
  },

  /**
   * social: an article's summary, its X posts (`posts`, as `dispatch tweets` composes them) and its
   * posts for every network (`networks`, X's among them), Mastodon's for `mastodonLimit` (500 unless given).
   */
  composeSocial: async () => {
    const [{ summarize }, { composeAllNetworks }] = await Promise.all([
      import('../src/summarize/summarize.js'),
      import('../src/social/compose-network-posts.js'),
    ]);
    return (
      article: Article,
      config: Config,
      options: { mastodonLimit?: number } = {},
    ): { summary: Summary; posts: Post[]; networks: NetworkPost[] } => {
      const summary = summarize(article);
      const networks = composeAllNetworks(article, summary, config, { mastodonLimit: options.mastodonLimit });
      // X's network posts are composePosts' own, field for field: composed once, kept in both shapes.
      const posts = networks
        .filter((p) => p.network === 'x')
        .map(
          ({ kind, text, length, valid, part }): Post => ({
            kind,
            text,
            weightedLength: length,
            valid,
            ...(part ? { part } : {}),
          }),
        );
      return { summary, posts, networks };
    };
  },

  /**
   * newsletter: a week's articles (and its curation, in `build`) to its rendered issue, the
   * curation's warnings first among the render's (E_ISSUE_EMPTY when none qualify).
   */
  renderWeekIssue: async () => {
    const [{ buildIssue }, { renderIssue }] = await Promise.all([
      import('../src/newsletter/build-issue.js'),
      import('../src/newsletter/render-issue.js'),
    ]);
    return async (
      articles: readonly Article[],
      // No callback: the options cross the thread by structured clone.
      build: Omit<BuildIssueOptions, 'onWarning'>,
      templates: Templates,
      render: RenderOptions,
    ): Promise<{ rendered: RenderedIssue; articleCount: number }> => {
      const curationWarnings: string[] = [];
      const issue = buildIssue(articles, { ...build, onWarning: (w) => curationWarnings.push(w) });
      const rendered = await renderIssue(issue, templates, render);
      return {
        rendered: { ...rendered, warnings: [...curationWarnings, ...rendered.warnings] },
        articleCount: issue.articleCount,
      };
    };
  },

  /** send (job "signup-mail"): a sign-up's confirmation or welcome mail, rendered (MJML loads here). */
  renderSignupMail: async () => (await import('../src/signup/render-signup-mail.js')).renderSignupMail,
} satisfies Record<string, CpuTaskLoader>;

/** Loads a task's code and returns the function that does the work. */
export type CpuTaskLoader = () => Promise<(...args: never[]) => unknown>;

/** Task name to the function it runs. */
export type TaskMap = { [name: string]: CpuTaskLoader };

/** Dispatch's own tasks. */
export type CpuTasks = typeof CPU_TASKS;

export type TaskFn<T extends TaskMap, K extends keyof T> = Awaited<ReturnType<T[K]>>;

export interface RunOptions {
  /** Named in errors: "<what> ran longer than <n> ms". */
  what: string;
  /** Stops the work after this long in a thread. @defaultValue the pool's timeout (JOB_TIMEOUT_MS) */
  timeoutMs?: number;
  /** Buffers moved to the thread instead of copied; they are unusable here afterwards. */
  transfer?: ArrayBuffer[];
}

/** Runs a named task, in a worker thread or inline, and resolves with its result. */
export interface CpuRunner<T extends TaskMap = CpuTasks> {
  run<K extends keyof T & string>(
    task: K,
    args: Parameters<TaskFn<T, K>>,
    options: RunOptions,
  ): Promise<Awaited<ReturnType<TaskFn<T, K>>>>;
}

/** A Uint8Array's buffer when the view owns all of it (so it can be transferred); otherwise a copy's. */
export function transferable(bytes: Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const own =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes
      : new Uint8Array(bytes);
  return { bytes: own, transfer: [own.buffer as ArrayBuffer] };
}

/**
 * What a task's failure becomes: a DispatchError as it is (bad input keeps its code); anything else
 * is a bug in pure code, which fails the same way on every try: E_INTERNAL, not retried.
 */
export function taskFailure(error: unknown, what: string): DispatchError {
  if (isDispatchError(error)) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new DispatchError('E_INTERNAL', `${what} failed: ${detail}`, { cause: error });
}

/**
 * Runs tasks on the calling thread, with no time limit: for one-off commands (`send-test --direct`)
 * and tests that build an issue without a worker. The worker uses the thread pool instead.
 */
export const inlineCpu: CpuRunner = {
  async run(task, args, options) {
    const fn = (await CPU_TASKS[task]()) as (...a: unknown[]) => unknown;
    try {
      return (await fn(...args)) as never;
    } catch (error) {
      throw taskFailure(error, options.what);
    }
  },
};
