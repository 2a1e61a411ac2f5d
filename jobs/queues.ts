import { type DefaultJobOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../src/config.js';
import type { PublishableNetwork } from '../src/social/network-post.js';
import { normalizeAddress } from '../src/subscribers/normalize-address.js';

/**
 * The queues, one per kind of job; posting has one per network, so that a network's pause or
 * rate limit holds only its own posts.
 */
export const QUEUE_NAMES = [
  'ingest',
  'social',
  'newsletter',
  'feeds',
  'send',
  'post-x',
  'post-bluesky',
  'post-mastodon',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** The queue of one network's posts. */
export type PostQueueName = `post-${PublishableNetwork}`;

export function postQueueName(network: PublishableNetwork): PostQueueName {
  return `post-${network}`;
}

/**
 * The job id of an article's ingest and social jobs: "article-" and its id. (BullMQ refuses ids
 * that look like integers, and one hex id in a few thousand is all digits.)
 */
export function articleJobId(articleId: string): string {
  return `article-${articleId}`;
}

/** ingest: parse an article (given inline, or fetched from `url`) and store it. */
export const ingestPayload = z
  .object({
    input: z.string().optional(),
    url: z.string().optional(),
    format: z.enum(['text', 'html', 'json']).optional(),
    source: z.string(),
    receivedAt: z.iso.datetime(),
    /** Stamps the article as published at this instant (the demo articles of `npm start`). */
    publishedAt: z.iso.datetime().optional(),
    /** The feed item this article comes from: marked seen once the article is stored or fails for good. */
    feed: z.object({ url: z.string(), itemKey: z.string() }).optional(),
  })
  .refine((p) => p.input !== undefined || p.url !== undefined, { message: 'needs input or url' });
export type IngestPayload = z.infer<typeof ingestPayload>;

/** social: summarize an article and compose its posts. */
export const socialPayload = z.object({ articleId: z.string().min(1) });
export type SocialPayload = z.infer<typeof socialPayload>;

/**
 * newsletter: build and render a week's issue; without `week`, the week of the job's own time.
 * The scheduler's job (no `week`) runs the weekly loop: proof, then approval or the timed send.
 * `edit`: a rebuild after an editor's edit (the proof goes again if it changed an approved or
 * scheduled issue).
 */
export const newsletterPayload = z.object({ week: z.string().optional(), edit: z.boolean().optional() });
export type NewsletterPayload = z.infer<typeof newsletterPayload>;

/** feeds: poll one RSS or Atom feed and enqueue its new items. */
export const feedPayload = z.object({ url: z.url({ protocol: /^https?$/ }) });
export type FeedPayload = z.infer<typeof feedPayload>;

/** post-x, post-bluesky, post-mastodon (job name "post"): one planned post (io/post-plan.ts), its job id the plan's id. */
export const postPayload = z.object({ planId: z.string().min(1) });
export type PostPayload = z.infer<typeof postPayload>;

/** send: one message of a stored issue to one address. */
export const sendPayload = z.object({
  week: z.string(),
  /** Checked as every address Dispatch takes is (normalizeAddress): one rule for the CLI, the preview and the queue. */
  to: z.string().refine((to) => normalizeAddress(to) !== null, 'not an email address'),
  firstName: z.string().optional(),
  /** The Message-ID's left-hand side: the same for every retry of this message. */
  token: z.string().min(8),
  /** Test sends: the subject gets "[Test] " and this suffix. */
  testSuffix: z.string().optional(),
  /** A proof for the editors (a test send): "[Proof] " instead of "[Test] ", and where to review and approve the issue. */
  proof: z.boolean().optional(),
});
export type SendPayload = z.infer<typeof sendPayload>;

/** send (job name "batch"): one batch of a list send, about 100 recipients. */
export const batchPayload = z.object({
  week: z.string(),
  batch: z.number().int().min(0),
  batchSize: z.number().int().positive(),
});
export type BatchPayload = z.infer<typeof batchPayload>;

/**
 * send (job name "signup-mail"): a sign-up's confirmation mail, or the welcome mail once confirmed.
 * It carries no link: the job makes it from the reader's record when it runs, so a mail for a
 * sign-up that was confirmed, expired or left meanwhile is not sent.
 */
export const signupMailPayload = z.object({
  kind: z.enum(['confirm', 'welcome']),
  email: z.string().refine((to) => normalizeAddress(to) === to, 'not a normalized email address'),
});
export type SignupMailPayload = z.infer<typeof signupMailPayload>;

/**
 * send (job name "list-send"): starts the week's list send when its time comes (NEWSLETTER_SEND_AFTER
 * after the weekly build), unless an editor holds the issue. One per week, by a fixed job id.
 */
export const listSendPayload = z.object({ week: z.string() });
export type ListSendPayload = z.infer<typeof listSendPayload>;

/** send (job name "editor-notice"): tells the editors (EDITOR_EMAILS) what the weekly loop could not do. */
export const editorNoticePayload = z.object({
  week: z.string(),
  kind: z.enum(['empty', 'build-failed', 'send-failed']),
  /** "E_CODE: message", for a failure. */
  detail: z.string().max(2000).optional(),
});
export type EditorNoticePayload = z.infer<typeof editorNoticePayload>;

/** Queues a sign-up mail on the send queue (job name "signup-mail"). */
export async function queueSignupMail(queues: Pick<Queues, 'send'>, payload: SignupMailPayload): Promise<void> {
  // Ahead of the queue's waiting batches (lifo): a reader who just signed up is not kept waiting
  // for a list send of thousands to get through.
  await queues.send.add('signup-mail', signupMailPayload.parse(payload), { lifo: true });
}

/** send (job name "expire-pending"), every few minutes: ends the sign-ups nobody confirmed in time. */
export const EXPIRE_PENDING_EVERY_MS = 15 * 60_000;

/** Retries with exponential backoff and jitter; failed jobs kept for inspection, completed ones trimmed. */
export function defaultJobOptions(config: Config): DefaultJobOptions {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS, jitter: 0.5 },
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { age: config.FAILED_JOB_DAYS * 24 * 3600 },
  };
}

/** BullMQ keys live under `<REDIS_PREFIX>:bull`, beside the store's keys. */
export function queuePrefix(config: Config): string {
  return `${config.REDIS_PREFIX}:bull`;
}

export type Queues = Record<QueueName, Queue>;

/**
 * One Queue per name, sharing a connection. Connection errors go to `onError` (the connection
 * retries by itself; the calls that needed it fail or wait).
 */
export function createQueues(connection: Redis, config: Config, onError: (error: Error) => void = () => {}): Queues {
  const prefix = queuePrefix(config);
  const options = { connection, prefix, defaultJobOptions: defaultJobOptions(config) };
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => {
      const queue = new Queue(name, options);
      queue.on('error', onError);
      return [name, queue];
    }),
  ) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
