import type { Redis } from 'ioredis';
import { type Curation, NO_CURATION } from '../src/newsletter/curation.js';

/** The editors' curation of each week's issue, kept apart from its build: `<prefix>:issue:<week>:edits`. */
export interface IssueEdits {
  /** The week's curation; {@link NO_CURATION} when no editor touched it. */
  get(week: string): Promise<Curation>;
  /**
   * Replaces the week's curation with what `change` makes of the current one, atomically (an edit
   * made meanwhile by someone else is read again and `change` runs again), the revision one up.
   * Returns the curation saved.
   */
  update(
    week: string,
    change: (current: Curation) => Omit<Curation, 'revision' | 'updatedAt'>,
    now: Date,
  ): Promise<Curation>;
}

/** Tries of one update before it gives up (only under a storm of concurrent edits). */
const UPDATE_TRIES = 20;

// Compare and set: the curation is replaced only if its revision is still the one the change read.
const SAVE_IF_REVISION = `
local current = redis.call('GET', KEYS[1])
local revision = 0
if current then revision = cjson.decode(current).revision or 0 end
if revision ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

export function createIssueEdits(redis: Redis, prefix: string): IssueEdits {
  const key = (week: string) => `${prefix}:issue:${week}:edits`;
  const read = (json: string | null): Curation =>
    json ? { ...NO_CURATION, ...(JSON.parse(json) as Partial<Curation>) } : NO_CURATION;
  return {
    async get(week) {
      return read(await redis.get(key(week)));
    },
    async update(week, change, now) {
      for (let i = 0; i < UPDATE_TRIES; i++) {
        const current = read(await redis.get(key(week)));
        const next: Curation = { ...change(current), revision: current.revision + 1, updatedAt: now.toISOString() };
        if ((await redis.eval(SAVE_IF_REVISION, 1, key(week), String(current.revision), JSON.stringify(next))) === 1)
          return next;
      }
      throw new Error(`the edits of ${week} changed ${UPDATE_TRIES} times while being saved`);
    },
  };
}
