import type { Redis } from 'ioredis';
import type { Article } from '../src/ingest/article.js';
import type { NewsletterIssue } from '../src/newsletter/newsletter-issue.js';
import type { NetworkPost } from '../src/social/network-post.js';
import type { Post } from '../src/social/post.js';
import type { Summary } from '../src/summarize/summarize.js';

/** An article's summary and posts, as the social job stores them. */
export interface StoredSocial {
  summary: Summary;
  posts: Post[];
  /** The posts for every network (X's among them); missing on socials composed before Dispatch wrote them. */
  networks?: NetworkPost[];
  composedAt: string;
}

/** A rendered issue, as the newsletter job stores it. */
export interface StoredIssue {
  issue: NewsletterIssue;
  subject: string;
  mjml: string;
  html: string;
  text: string;
  bytes: number;
  warnings: string[];
  builtAt: string;
  /**
   * The fingerprint of the templates this build was rendered with (`templatesFingerprint`).
   * Missing on builds stored before builds recorded it: those count as built with other templates.
   */
  templates?: string;
  /**
   * The issue as its public archive page shows it: the same build rendered for the web, for no
   * one (no reader's name, address or link, a sign-up call to action where a mail has its
   * unsubscribe links). Missing on builds stored before the archive had its own render.
   */
  web?: { html: string };
  /** The revision of the editors' curation this build applied (io/issue-edits.ts); missing: none (0). */
  curation?: number;
  /** Set once the issue went out to the list; a sent issue is never rebuilt. */
  sentAt?: string;
}

/** Everything Dispatch keeps, in Redis under one key prefix; nothing lives on a worker's disk. */
export interface Store {
  /** Saves an article; false when one with that id was already stored (it is then left as it was). */
  saveArticle(article: Article): Promise<boolean>;
  getArticle(id: string): Promise<Article | null>;
  hasArticles(ids: readonly string[]): Promise<boolean[]>;
  /** Articles published in [start, end), oldest first. */
  articlesBetween(start: Date, end: Date): Promise<Article[]>;
  countArticles(): Promise<number>;
  saveSocial(articleId: string, social: StoredSocial): Promise<void>;
  getSocial(articleId: string): Promise<StoredSocial | null>;
  getSocials(articleIds: readonly string[]): Promise<(StoredSocial | null)[]>;
  /**
   * Stores a built issue unless that week's issue was already sent, or the stored build applied a
   * later revision of the editors' curation ('superseded': a build that read the edits before an
   * edit was saved, finishing after that edit's own build, must not put the older issue back).
   */
  saveIssue(week: string, issue: StoredIssue): Promise<'saved' | 'already-sent' | 'superseded'>;
  getIssue(week: string): Promise<StoredIssue | null>;
  /** Marks a week's issue as sent (from now on it is never rebuilt); false when it was already. */
  markIssueSent(week: string, at: Date): Promise<boolean>;
  /** Weeks with a stored issue, newest first. */
  listIssues(): Promise<string[]>;
  /**
   * Records a feed item as seen, so no later poll enqueues it again; true the first time. An item
   * counts as seen once its article is stored or its ingest failed for good, not when it is enqueued.
   */
  markFeedItemSeen(feedUrl: string, key: string): Promise<boolean>;
  /** Whether {@link Store.markFeedItemSeen} has recorded this feed item. */
  isFeedItemSeen(feedUrl: string, key: string): Promise<boolean>;
}

// Atomic: the article and its place in the by-time index are written together or not at all, so a
// worker killed between the two cannot leave an article that no week finds.
const SAVE_ARTICLE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

// Atomic "save unless sent or superseded": two workers rebuilding the same week cannot overwrite a
// sent issue, nor a build of newer edits with one of older edits.
const SAVE_ISSUE_UNLESS_SENT = `
if redis.call('HEXISTS', KEYS[1], 'sentAt') == 1 then return 0 end
local stored = tonumber(redis.call('HGET', KEYS[1], 'curation') or '0')
if stored > tonumber(ARGV[4]) then return 2 end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'curation', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

/** The Redis store. Keys: `<prefix>:article:<id>`, `<prefix>:articles:published` (by time), ... */
export function createStore(redis: Redis, prefix: string): Store {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));

  return {
    async saveArticle(article) {
      const created = await redis.eval(
        SAVE_ARTICLE,
        2,
        key('article', article.id),
        key('articles', 'published'),
        JSON.stringify(article),
        String(Date.parse(article.publishedAt)),
        article.id,
      );
      return created === 1;
    },
    async getArticle(id) {
      return parse<Article>(await redis.get(key('article', id)));
    },
    async hasArticles(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.exists(key('article', id));
      const results = (await pipeline.exec()) ?? [];
      return results.map(([, n]) => n === 1);
    },
    async articlesBetween(start, end) {
      const ids = await redis.zrangebyscore(key('articles', 'published'), start.getTime(), `(${end.getTime()}`);
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map((id) => key('article', id)));
      return values.map((v) => parse<Article>(v)).filter((a): a is Article => a !== null);
    },
    async countArticles() {
      return await redis.zcard(key('articles', 'published'));
    },
    async saveSocial(articleId, social) {
      await redis.set(key('social', articleId), JSON.stringify(social));
    },
    async getSocial(articleId) {
      return parse<StoredSocial>(await redis.get(key('social', articleId)));
    },
    async getSocials(articleIds) {
      if (articleIds.length === 0) return [];
      const values = await redis.mget(articleIds.map((id) => key('social', id)));
      return values.map((v) => parse<StoredSocial>(v));
    },
    async saveIssue(week, issue) {
      const { sentAt: _ignored, ...built } = issue;
      const saved = await redis.eval(
        SAVE_ISSUE_UNLESS_SENT,
        2,
        key('issue', week),
        key('issues'),
        JSON.stringify(built),
        String(Date.parse(issue.builtAt)),
        week,
        String(issue.curation ?? 0),
      );
      return saved === 1 ? 'saved' : saved === 2 ? 'superseded' : 'already-sent';
    },
    async getIssue(week) {
      const [json, sentAt] = await redis.hmget(key('issue', week), 'json', 'sentAt');
      const issue = parse<StoredIssue>(json ?? null);
      return issue && sentAt ? { ...issue, sentAt } : issue;
    },
    async markIssueSent(week, at) {
      return (await redis.hsetnx(key('issue', week), 'sentAt', at.toISOString())) === 1;
    },
    async listIssues() {
      const weeks = await redis.zrange(key('issues'), '0', '-1');
      return weeks.sort().reverse();
    },
    async markFeedItemSeen(feedUrl, itemKey) {
      return (await redis.sadd(key('feed', feedUrl, 'seen'), itemKey)) === 1;
    },
    async isFeedItemSeen(feedUrl, itemKey) {
      return (await redis.sismember(key('feed', feedUrl, 'seen'), itemKey)) === 1;
    },
  };
}
