import type { Redis } from 'ioredis';
import type { PublishableNetwork } from '../src/social/network-post.js';
import type { PlannedPost } from '../src/social/schedule/plan-posts.js';
import type { PublishedPost } from './publishers/publisher.js';

/**
 * Where a planned post stands: `scheduled` (its job waits for its time), `posting` (an attempt
 * began; a retry goes on from the parts not yet posted), `posted`, `failed` (for good, with the
 * network's message), `cancelled` (by `dispatch posts cancel`: never posted).
 */
export type PostState = 'scheduled' | 'posting' | 'posted' | 'failed' | 'cancelled';

/** A planned post as Redis keeps it: the plan, its state, and what the network answered for each part posted. */
export interface PostPlanRecord extends PlannedPost<PublishableNetwork> {
  state: PostState;
  /** One per part posted, in order: a retry posts only the parts after these. */
  published: PublishedPost[];
  /** When the first attempt began: the earliest a copy of the post could have reached the network. */
  firstAttemptAt?: string;
  /** The last failure, "E_CODE: message". */
  error?: string;
}

/** A network's posting, paused after it refused the credentials, until `dispatch posts resume <network>`. */
export interface PostingPause {
  state: 'paused';
  /** "E_POST_AUTH: ...": what the network answered. */
  reason: string;
  at: string;
}

/** What {@link PostPlanStore.begin} found: the post to go on with, or why there is nothing to do. */
export type BeginOutcome =
  | { state: 'missing' | 'cancelled' | 'posted' }
  | { state: 'posting'; record: PostPlanRecord; earlierAttempt: boolean };

/** The planned posts and each network's pause, in Redis under one key prefix. */
export interface PostPlanStore {
  /**
   * Stores a planned post unless one with its id exists (create-if-absent, in one step), indexed
   * by time and by its article (or week). Returns the stored record, the new one or the older.
   */
  create(post: PlannedPost<PublishableNetwork>): Promise<{ created: boolean; record: PostPlanRecord }>;
  get(id: string): Promise<PostPlanRecord | null>;
  /** The planned posts due in [start, end), by time. */
  between(start: Date, end: Date): Promise<PostPlanRecord[]>;
  /** Whether each article (or week) has any planned post. */
  havePlans(owners: readonly string[]): Promise<boolean[]>;
  /**
   * An attempt begins: a scheduled, posting or failed post becomes `posting` (firstAttemptAt kept
   * from the first attempt); a cancelled or posted one is left as it is.
   */
  begin(id: string, now: Date): Promise<BeginOutcome>;
  /** Records what the network answered for part `index`; returns the post's state (an operator may have cancelled it). */
  savePublished(id: string, index: number, published: PublishedPost): Promise<PostState | null>;
  /** The last failure, shown by the schedule; the post stays as it is (a retry follows). */
  noteError(id: string, error: string): Promise<void>;
  /** `posted`, or `failed` with the reason (a cancelled post stays cancelled). */
  finish(id: string, state: 'posted' | 'failed', error?: string): Promise<void>;
  /** Cancels a post not yet posted; returns the state it had ('missing' when there is none). */
  cancel(id: string): Promise<PostState | 'missing'>;
  /** Pauses a network's posting; a pause already recorded is kept (its reason and time). */
  pause(network: PublishableNetwork, reason: string, at: Date): Promise<void>;
  /** Clears a pause; false when the network was not paused. */
  clearPause(network: PublishableNetwork): Promise<boolean>;
  pauseOf(network: PublishableNetwork): Promise<PostingPause | null>;
}

// Create-if-absent with both indexes, in one step: two workers (or a re-run social job) planning
// the same post store one record.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'plan', ARGV[1], 'state', 'scheduled')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
return 1`;

const BEGIN = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', ''} end
if state == 'cancelled' or state == 'posted' then return {state, ''} end
local first = redis.call('HGET', KEYS[1], 'firstAttemptAt')
if not first then redis.call('HSET', KEYS[1], 'firstAttemptAt', ARGV[1]) end
redis.call('HSET', KEYS[1], 'state', 'posting')
return {'posting', first or ''}`;

const SAVE_PUBLISHED = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return state`;

const NOTE_ERROR = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'error', ARGV[1])
return 1`;

const FINISH = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[2]) else redis.call('HDEL', KEYS[1], 'error') end
return 1`;

const CANCEL = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if state == 'scheduled' or state == 'posting' or state == 'failed' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled')
end
return state`;

const PUBLISHED_FIELD = /^published:(\d+)$/;

function recordOf(fields: Record<string, string>): PostPlanRecord | null {
  if (!fields.plan || !fields.state) return null;
  const plan = JSON.parse(fields.plan) as PlannedPost<PublishableNetwork>;
  const published: PublishedPost[] = [];
  // Parts are posted in order, so the parts posted are 0..n-1: stop at the first gap.
  const byIndex = new Map<number, PublishedPost>();
  for (const [field, value] of Object.entries(fields)) {
    const match = PUBLISHED_FIELD.exec(field);
    if (match) byIndex.set(Number(match[1]), JSON.parse(value) as PublishedPost);
  }
  for (let i = 0; byIndex.has(i); i++) published.push(byIndex.get(i) as PublishedPost);
  return {
    ...plan,
    state: fields.state as PostState,
    published,
    ...(fields.firstAttemptAt ? { firstAttemptAt: fields.firstAttemptAt } : {}),
    ...(fields.error ? { error: fields.error } : {}),
  };
}

/**
 * The Redis store of planned posts. Keys: `<prefix>:post:<id>` (a hash: the plan, its state, one
 * field per part posted), `<prefix>:posts:at` (ids by time), `<prefix>:posts:of:<article id or
 * week>` (ids per article), `<prefix>:posting:<network>` (a network's pause).
 */
export function createPostPlanStore(redis: Redis, prefix: string): PostPlanStore {
  const key = (...parts: string[]) => [prefix, ...parts].join(':');
  const postKey = (id: string) => key('post', id);
  const get = async (id: string) => recordOf(await redis.hgetall(postKey(id)));

  return {
    async create(post) {
      const owner = post.articleId ?? post.week ?? '';
      const created = await redis.eval(
        CREATE,
        3,
        postKey(post.id),
        key('posts', 'at'),
        key('posts', 'of', owner),
        JSON.stringify(post),
        String(Date.parse(post.at)),
        post.id,
      );
      const record = await get(post.id);
      if (!record) throw new Error(`planned post ${post.id} is missing right after it was stored`);
      return { created: created === 1, record };
    },
    get,
    async between(start, end) {
      const ids = await redis.zrangebyscore(key('posts', 'at'), start.getTime(), `(${end.getTime()}`);
      const records = await Promise.all(ids.map(get));
      return records.filter((r): r is PostPlanRecord => r !== null);
    },
    async havePlans(owners) {
      if (owners.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const owner of owners) pipeline.exists(key('posts', 'of', owner));
      const results = (await pipeline.exec()) ?? [];
      return results.map(([, n]) => n === 1);
    },
    async begin(id, now) {
      const [state, first] = (await redis.eval(BEGIN, 1, postKey(id), now.toISOString())) as [string, string];
      if (state !== 'posting') return { state: state as 'missing' | 'cancelled' | 'posted' };
      const record = await get(id);
      if (!record) return { state: 'missing' };
      return { state: 'posting', record, earlierAttempt: first !== '' };
    },
    async savePublished(id, index, published) {
      const state = await redis.eval(SAVE_PUBLISHED, 1, postKey(id), `published:${index}`, JSON.stringify(published));
      return (state as PostState | null) ?? null;
    },
    async noteError(id, error) {
      await redis.eval(NOTE_ERROR, 1, postKey(id), error);
    },
    async finish(id, state, error = '') {
      await redis.eval(FINISH, 1, postKey(id), state, error);
    },
    async cancel(id) {
      return (await redis.eval(CANCEL, 1, postKey(id))) as PostState | 'missing';
    },
    async pause(network, reason, at) {
      const pause: PostingPause = { state: 'paused', reason, at: at.toISOString() };
      // The first refusal says since when: later jobs refused meanwhile leave it as it is.
      await redis.set(key('posting', network), JSON.stringify(pause), 'NX');
    },
    async clearPause(network) {
      return (await redis.del(key('posting', network))) === 1;
    },
    async pauseOf(network) {
      const json = await redis.get(key('posting', network));
      return json === null ? null : (JSON.parse(json) as PostingPause);
    },
  };
}
