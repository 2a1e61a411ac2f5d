import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createStore } from '../../io/store.js';
import { createSubscriberStore } from '../../io/subscriber-store.js';
import { buildWeekIssue } from '../../jobs/build-week-issue.js';
import type { Config } from '../../src/config.js';
import { parseArticle } from '../../src/ingest/parse-article.js';
import { isoWeekOf } from '../../src/newsletter/iso-week.js';
import { ROOT } from './run-cli.js';

/**
 * A store ready for a list send, straight through the store (no worker): the example articles
 * stamped as published `now`, this week's issue built from them, and `count` subscribers
 * named `<local><i>@example.org`. Returns the week.
 */
export async function seedList(redis: Redis, config: Config, count: number, local: string, now: Date): Promise<string> {
  const store = createStore(redis, config.REDIS_PREFIX);
  for (const file of readdirSync(join(ROOT, 'examples')).sort()) {
    const article = parseArticle(readFileSync(join(ROOT, 'examples', file)), { receivedAt: now });
    await store.saveArticle({ ...article, publishedAt: now.toISOString() });
  }
  const week = isoWeekOf(now, config.TZ);
  await buildWeekIssue({ store, config, templatesDir: join(ROOT, 'templates') }, week, now);
  await createSubscriberStore(redis, config.REDIS_PREFIX).importSubscribers(
    Array.from({ length: count }, (_, i) => ({ email: `${local}${i}@example.org`, name: `Reader ${i}`, fields: {} })),
    now,
  );
  return week;
}
