import { writeFile } from 'node:fs/promises';
import type { PostPlanRecord } from '../../io/post-plan.js';
import {
  cancelPost,
  credentialedNetworks,
  type NetworkPosting,
  networkPostings,
  planDepsOf,
  resumePosting,
} from '../../jobs/plan-posts.js';
import { DispatchError } from '../../src/errors.js';
import type { Article } from '../../src/ingest/article.js';
import { isoWeekOf, parseIsoWeek, wallClock, weekRange } from '../../src/newsletter/iso-week.js';
import { EXPORT_TOOLS, type ExportPost, type ExportTool, exportRows, toCsv } from '../../src/social/export-csv.js';
import {
  isNetwork,
  NETWORKS,
  type Network,
  PUBLISHABLE_NETWORKS,
  type PublishableNetwork,
} from '../../src/social/network-post.js';
import { type PlannedPost, planArticlePosts } from '../../src/social/schedule/plan-posts.js';
import { oneLine } from '../../src/text/one-line.js';
import { terminalSafe, terminalSafeJson } from '../../src/text/terminal-safe.js';
import { type CommandContext, openContext } from '../context.js';

export interface PostsScheduleOptions {
  week?: string;
  json?: boolean;
  dryRun?: boolean;
}

export interface PostsExportOptions {
  /** Only csv. @defaultValue csv */
  format?: string;
  /** @defaultValue buffer */
  tool?: string;
  week?: string;
  /** One network, or all. @defaultValue all */
  network?: string;
  /** Where to write the CSV. @defaultValue standard output */
  out?: string;
}

/** Characters of a post's text and of a title on the schedule's lines. */
const TEXT_CHARS = 90;
const TITLE_CHARS = 50;

function weekOf(week: string | undefined, timeZone: string): string {
  const chosen = week ?? isoWeekOf(new Date(), timeZone);
  parseIsoWeek(chosen);
  return chosen;
}

const pad = (n: number) => String(n).padStart(2, '0');

function localTime(iso: string, timeZone: string): string {
  const c = wallClock(new Date(iso), timeZone);
  return `${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(c.hour)}:${pad(c.minute)}`;
}

/** Two lines per post: when, where, what and its state; then its title and text, one line each, shortened. */
function describePost(post: PlannedPost & Partial<PostPlanRecord>, timeZone: string): string[] {
  const first = post.parts[0]?.text ?? '';
  const parts = post.parts.length > 1 ? ` (${post.parts.length} parts)` : '';
  const lines = [
    `${localTime(post.at, timeZone)}  ${post.network.padEnd(9)} ${post.kind.padEnd(14)} ${(post.state ?? 'would plan').padEnd(10)} ${post.id}`,
    `    ${oneLine(post.title, TITLE_CHARS)}: ${oneLine(first, TEXT_CHARS)}${parts}`,
  ];
  const url = post.published?.[0]?.url;
  if (url) lines.push(`    posted: ${oneLine(url, 300)}`);
  if (post.error && post.state !== 'posted')
    lines.push(`    ${post.state === 'failed' ? 'failed' : 'last error'}: ${oneLine(post.error, 300)}`);
  return lines.map((line) => terminalSafe(line));
}

function describePosting(posting: NetworkPosting, timeZone: string): string {
  const what =
    posting.state === 'paused'
      ? `paused since ${localTime(posting.at, timeZone)}: ${oneLine(posting.reason, 300)} (fix the credentials, then: dispatch posts resume ${posting.network})`
      : posting.state === 'off'
        ? 'posting off (SOCIAL_POSTING=false)'
        : posting.state === 'no-credentials'
          ? 'no credentials'
          : 'active';
  return terminalSafe(`  ${posting.network.padEnd(9)} ${what}`);
}

/** The week's stored articles with their composed posts. */
async function weekArticles(ctx: CommandContext, week: string) {
  const { start, end } = weekRange(week, ctx.config.TZ);
  const articles = await ctx.store.articlesBetween(start, end);
  const socials = await ctx.store.getSocials(articles.map((a) => a.id));
  return articles.map((article, i) => ({ article, social: socials[i] ?? null }));
}

/** When a plan made now for `article` would start: now, or its publication if that is later. */
const planStart = (article: Article, now: Date) => new Date(Math.max(now.getTime(), Date.parse(article.publishedAt)));

/** `dispatch posts schedule`: the week's planned posts by time, then each network's posting. */
export async function postsScheduleCommand(options: PostsScheduleOptions): Promise<void> {
  const ctx = await openContext();
  try {
    const { config } = ctx;
    const week = weekOf(options.week, config.TZ);
    const deps = planDepsOf(ctx);
    const networks = await networkPostings(deps);
    if (options.dryRun) {
      // What planning would store now for the week's articles that have no plan yet; nothing is stored.
      const credentialed = await credentialedNetworks(config);
      // With no account set up yet, the plan each network would get: what goes out once one is.
      const posting = credentialed.length > 0 ? credentialed : [...PUBLISHABLE_NETWORKS];
      const items = await weekArticles(ctx, week);
      const planned = await deps.plans.havePlans(items.map((i) => i.article.id));
      const now = new Date();
      const posts = items.flatMap(({ article, social }, i) =>
        planned[i] || !social?.networks
          ? []
          : planArticlePosts(
              {
                articleId: article.id,
                title: article.title,
                posts: social.networks,
                networks: posting,
                now: planStart(article, now),
              },
              config,
            ),
      );
      posts.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      if (options.json) {
        process.stdout.write(`${terminalSafeJson({ week, timeZone: config.TZ, dryRun: true, posts, networks })}\n`);
        return;
      }
      const lines = [`${week}: would plan ${posts.length} post(s) (times in ${config.TZ}); nothing stored or queued`];
      if (!config.SOCIAL_POSTING) lines.push('(SOCIAL_POSTING is off: nothing is planned until it is on)');
      if (credentialed.length === 0) {
        lines.push('(no network has credentials: shown for each, as it would go once its account is set)');
      }
      for (const post of posts) lines.push(...describePost(post, config.TZ));
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    const { start, end } = weekRange(week, config.TZ);
    const posts = await deps.plans.between(start, end);
    if (options.json) {
      process.stdout.write(`${terminalSafeJson({ week, timeZone: config.TZ, posts, networks })}\n`);
      return;
    }
    const lines = [`${week}: ${posts.length} planned post(s) (times in ${config.TZ})`];
    for (const post of posts) lines.push(...describePost(post, config.TZ));
    lines.push('', 'Networks:', ...networks.map((n) => describePosting(n, config.TZ)));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await ctx.close();
  }
}

/** `dispatch posts cancel <id>`: a planned post not yet posted is never posted. */
export async function postsCancelCommand(id: string): Promise<void> {
  const ctx = await openContext();
  try {
    const result = await cancelPost(planDepsOf(ctx), id);
    const { record } = result;
    if (result.outcome === 'posted') {
      const url = record.published[0]?.url;
      throw new DispatchError(
        'E_POST_POSTED',
        `${id} is already posted${url ? ` (${oneLine(url, 300)})` : ''}: delete it on ${record.network} itself`,
      );
    }
    process.stdout.write(
      `${terminalSafe(
        result.outcome === 'already-cancelled'
          ? `${id}: already cancelled`
          : `${id}: cancelled (${record.network} ${record.kind}, was due ${localTime(record.at, ctx.config.TZ)} ${ctx.config.TZ})`,
      )}\n`,
    );
  } finally {
    await ctx.close();
  }
}

function publishableNetwork(value: string): PublishableNetwork {
  if ((PUBLISHABLE_NETWORKS as readonly string[]).includes(value)) return value as PublishableNetwork;
  throw new DispatchError(
    'E_INPUT_FORMAT',
    `not a network Dispatch posts to: "${oneLine(value, 40)}" (networks: ${PUBLISHABLE_NETWORKS.join(', ')})`,
  );
}

/** `dispatch posts resume <network>`: a paused network posts again (after its credentials are fixed). */
export async function postsResumeCommand(network: string): Promise<void> {
  const chosen = publishableNetwork(network);
  const ctx = await openContext();
  try {
    const pause = await resumePosting(planDepsOf(ctx), chosen);
    process.stdout.write(
      `${terminalSafe(
        pause
          ? `${chosen}: resumed (it was paused since ${localTime(pause.at, ctx.config.TZ)}: ${oneLine(pause.reason, 300)})`
          : `${chosen}: was not paused; its queue is running`,
      )}\n`,
    );
  } finally {
    await ctx.close();
  }
}

/**
 * `dispatch posts export`: the week's posts as a scheduling tool's bulk upload (CSV), times from
 * the stored plan, or from the planner for posts with none (the networks Dispatch does not post
 * to, and articles not planned).
 */
export async function postsExportCommand(options: PostsExportOptions): Promise<void> {
  if ((options.format ?? 'csv') !== 'csv')
    throw new DispatchError('E_INPUT_FORMAT', `--format must be csv (got "${oneLine(options.format ?? '', 40)}")`);
  const tool = (options.tool ?? 'buffer') as ExportTool;
  if (!EXPORT_TOOLS.includes(tool))
    throw new DispatchError(
      'E_INPUT_FORMAT',
      `--tool must be one of ${EXPORT_TOOLS.join(', ')} (got "${oneLine(tool, 40)}")`,
    );
  // `all` (the default of `dispatch posts --network`, which `export` shares) is every network.
  const network = options.network === 'all' ? undefined : options.network;
  if (network !== undefined && !isNetwork(network))
    throw new DispatchError(
      'E_INPUT_FORMAT',
      `--network must be one of ${NETWORKS.join(', ')} or all (got "${oneLine(network, 40)}")`,
    );
  const networks: readonly Network[] = network ? [network as Network] : NETWORKS;
  const ctx = await openContext();
  try {
    const { config } = ctx;
    const week = weekOf(options.week, config.TZ);
    const { start, end } = weekRange(week, config.TZ);
    const items = await weekArticles(ctx, week);
    const images = new Map(items.map(({ article }) => [article.id, article.image?.url ?? null]));
    const stored = (await planDepsOf(ctx).plans.between(start, end)).filter(
      (p) => networks.includes(p.network) && p.state !== 'cancelled',
    );
    const storedFor = new Set(stored.map((p) => `${p.network} ${p.articleId ?? p.week}`));
    const now = new Date();
    const planned = items.flatMap(({ article, social }) => {
      if (!social?.networks) return [];
      const missing = networks.filter((n) => !storedFor.has(`${n} ${article.id}`));
      return planArticlePosts(
        {
          articleId: article.id,
          title: article.title,
          posts: social.networks,
          networks: missing,
          now: planStart(article, now),
        },
        config,
      );
    });
    const posts: ExportPost[] = [...stored, ...planned].map((p) => ({
      network: p.network,
      kind: p.kind,
      parts: p.parts,
      at: p.at,
      image: (p.articleId ? images.get(p.articleId) : null) ?? null,
    }));
    const rows = exportRows(tool, posts, config.TZ);
    const csv = toCsv(rows);
    if (!options.out) {
      process.stdout.write(csv);
      return;
    }
    try {
      await writeFile(options.out, csv);
    } catch (cause) {
      throw new DispatchError('E_OUTPUT_WRITE', `cannot write ${options.out} (${(cause as Error).message})`, { cause });
    }
    const count = tool === 'buffer' ? rows.length - 1 : rows.length;
    process.stderr.write(
      `${terminalSafe(`${week}: ${posts.length} post(s) in ${count} row(s) for ${tool} written to ${options.out}`)}\n`,
    );
  } finally {
    await ctx.close();
  }
}
