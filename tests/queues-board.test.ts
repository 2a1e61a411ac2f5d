import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendLedger } from '../io/send-ledger.js';
import { buildWeekIssue } from '../jobs/build-week-issue.js';
import { QUEUE_NAMES } from '../jobs/queues.js';
import { previewOn } from '../preview/on-context.js';
import { BOARD_CSP, QUEUES_BOARD_TITLE } from '../preview/queues-board.js';
import { admit, createFormTokens } from '../preview/request-gate.js';
import { PREVIEW_BODY_BYTES } from '../preview/server.js';
import type { Config } from '../src/config.js';
import { httpRequest } from './helpers/http-request.js';
import { NOW, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';
import { startTestRedis, testConfig, testContext, testWorker, waitFor } from './helpers/queue-harness.js';
import { ROOT } from './helpers/run-cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-queues-board-'));
const FAILED = 'bad-send';

let redis: Awaited<ReturnType<typeof startTestRedis>>;
let config: Config;
let ctx: ReturnType<typeof testContext>;
/** The preview as it starts by default: PREVIEW_QUEUE_ACTIONS off. */
let readOnly: Awaited<ReturnType<typeof previewOn>>;
/** The same queues, with PREVIEW_QUEUE_ACTIONS=true. */
let actions: Awaited<ReturnType<typeof previewOn>>;

const retryPath = `/queues/api/queues/send/${FAILED}/retry`;
const stateOfFailed = async () => (await ctx.queues.send.getJob(FAILED))?.getState();
/** A PUT to the board, as its UI sends one (no body, no type), with these headers. */
const put = (base: string, path: string, headers: Record<string, string>, body?: string) =>
  httpRequest(base, path, { method: 'PUT', headers, body });

beforeAll(async () => {
  redis = await startTestRedis();
  config = testConfig({ DATA_DIR: join(tmp, 'data'), TEMPLATES_DIR: join(ROOT, 'templates') });
  ctx = testContext(redis.url, config);
  // A job that fails as a real worker fails it (bad data: E_JOB_PAYLOAD, not retried); the worker
  // is gone before the tests, so a retried job waits and stays where the retry put it.
  const worker = await testWorker(redis.url, config);
  try {
    await ctx.queues.send.add('send', { nonsense: true }, { jobId: FAILED });
    await waitFor('the job to fail', async () => (await stateOfFailed()) === 'failed');
  } finally {
    await worker.close();
  }
  for (const article of weekOfArticles(5)) await ctx.store.saveArticle(article);
  await buildWeekIssue({ store: ctx.store, config, templatesDir: join(ROOT, 'templates') }, WEEK, NOW);
  const ledger = createSendLedger(ctx.redis, config.REDIS_PREFIX);
  await ledger.start(WEEK, ['a@example.org', 'b@example.org'], { batchSize: 100, rate: 0, now: NOW });
  await ledger.pause(WEEK, 'E_SMTP_REFUSED: 550 relay denied', NOW);
  readOnly = await previewOn(ctx, config, '127.0.0.1', 0);
  actions = await previewOn(ctx, { ...config, PREVIEW_QUEUE_ACTIONS: true }, '127.0.0.1', 0);
});

afterAll(async () => {
  await readOnly?.close();
  await actions?.close();
  await ctx?.close();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the front page', () => {
  it('keeps Dispatch’s own summary: schedules, failures with their codes, sends, and a link to the board', async () => {
    const page = await httpRequest(readOnly.url, '/');
    expect(page.status).toBe(200);
    const panel = /<section id="queues"[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? '';
    expect(panel).toContain('href="/queues"');
    // The worker set its schedules when it started.
    expect(panel).toMatch(/<table id="schedules">[\s\S]*newsletter\//);
    expect(panel).toMatch(
      new RegExp(
        `<tr data-queue="send"><td>[^<]+</td><td><a href="/queues/queue/send/${FAILED}">send/${FAILED}</a></td><td class="bad">E_JOB_PAYLOAD</td>`,
      ),
    );
    expect(panel).toMatch(/<ul id="sends"><li class="bad">2026-W48: paused, .*E_SMTP_REFUSED: 550 relay denied/);
    // Counts per state are the board's to show now.
    expect(panel).not.toMatch(/prioritized/);
  });
});

describe('Bull Board at /queues', () => {
  it('answers the board page, with its title, under the board policy and nothing from another origin', async () => {
    const page = await httpRequest(readOnly.url, '/queues');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain(`<title>${QUEUES_BOARD_TITLE}</title>`);
    expect(page.body).toContain('<base href="/queues/" />');
    expect(page.body).toMatch(/<script defer src="static\/js\/main\.[0-9a-f]+\.js">/);
    // The page ships with a Google Fonts link: taken out, as any address on another origin.
    expect(page.body).not.toMatch(/fonts\.googleapis|(?:href|src)="(?:https?:)?\/\//);
    // Its config is a JSON data block, which no CSP runs: no inline script to allow.
    expect(page.body).not.toMatch(/<script>|<script (?![^>]*(?:src=|type="application\/json"))/);
    expect(page.headers['content-security-policy']).toBe(BOARD_CSP);
    expect(BOARD_CSP).toMatch(/script-src 'self';/);
    expect(BOARD_CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect(BOARD_CSP).toMatch(/frame-ancestors 'self'/);
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');

    const script = /src="(static\/js\/main\.[0-9a-f]+\.js)"/.exec(page.body)?.[1];
    const asset = await httpRequest(readOnly.url, `/queues/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect(asset.headers['content-security-policy']).toBe(BOARD_CSP);
  });

  it('answers HEAD, sends /queues/ back to /queues, and serves nothing outside its files', async () => {
    expect((await httpRequest(readOnly.url, '/queues', { method: 'HEAD' })).status).toBe(200);
    const slash = await httpRequest(readOnly.url, '/queues/');
    expect(slash.status).toBe(308);
    expect(slash.headers.location).toBe('/queues');
    for (const path of [
      '/queues/static/../../../package.json',
      '/queues/static/..%2f..%2f..%2fpackage.json',
      '/queues/static/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/queues/nothing',
      '/queues/api/nothing',
    ]) {
      const response = await httpRequest(readOnly.url, path);
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain('"dependencies"');
    }
    // Not the board's path: the preview's own 404.
    expect((await httpRequest(readOnly.url, '/queuesx')).status).toBe(404);
  });

  it('lists every Dispatch queue, read-only, and the failed job with its reason', async () => {
    const list = await httpRequest(readOnly.url, '/queues/api/queues');
    expect(list.status).toBe(200);
    const { queues } = JSON.parse(list.body) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    expect(QUEUE_NAMES).toEqual(expect.arrayContaining(['post-x', 'post-bluesky', 'post-mastodon']));
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);

    const failed = await httpRequest(readOnly.url, '/queues/api/queues?activeQueue=send&status=failed&page=1');
    const send = (
      JSON.parse(failed.body) as { queues: { name: string; jobs: { id: string; failedReason: string }[] }[] }
    ).queues.find((q) => q.name === 'send');
    expect(send?.jobs.map((j) => j.id)).toEqual([FAILED]);
    expect(send?.jobs[0]?.failedReason).toMatch(/^E_JOB_PAYLOAD: send job/);

    const job = await httpRequest(readOnly.url, `/queues/api/queues/send/${FAILED}`);
    expect(job.status).toBe(200);
    expect(JSON.parse(job.body)).toMatchObject({
      status: 'failed',
      job: { failedReason: expect.stringMatching(/^E_JOB_PAYLOAD/) },
    });
    expect(job.headers['cache-control']).toBe('no-store');
  });

  it('with PREVIEW_QUEUE_ACTIONS off, refuses a retry from its own page with 403: the job stays failed', async () => {
    const response = await put(readOnly.url, retryPath, { origin: readOnly.url });
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toMatch(/^Refused: the queues board is read-only\. Set PREVIEW_QUEUE_ACTIONS=true/);
    // Every change the board's UI can send, JSON bodies too.
    for (const [method, path, body] of [
      ['PUT', '/queues/api/queues/send/retry/failed', undefined],
      ['PUT', '/queues/api/queues/send/pause', undefined],
      ['PUT', '/queues/api/queues/send/clean/failed', undefined],
      ['PUT', `/queues/api/queues/send/${FAILED}/clean`, undefined],
      ['POST', '/queues/api/queues/send/add', JSON.stringify({ name: 'send', data: {} })],
      ['PATCH', `/queues/api/queues/send/${FAILED}/update-data`, JSON.stringify({ jobData: {} })],
    ] as const) {
      const headers: Record<string, string> = { origin: readOnly.url };
      if (body) headers['content-type'] = 'application/json';
      const refused = await httpRequest(readOnly.url, path, { method, headers, body });
      expect(refused.status, `${method} ${path}`).toBe(403);
    }
    expect(await stateOfFailed()).toBe('failed');
    expect(await ctx.queues.send.isPaused()).toBe(false);
    expect(await ctx.queues.send.getJobs(['wait', 'prioritized'])).toEqual([]);
  });

  it('refuses the board to another Host (DNS rebinding), pages and API alike', async () => {
    for (const path of [
      '/queues',
      '/queues/api/queues',
      `/queues/api/queues/send/${FAILED}`,
      '/queues/static/favicon.ico',
    ]) {
      const response = await httpRequest(readOnly.url, path, { headers: { host: 'attacker.example' } });
      expect(response.status, path).toBe(403);
      expect(response.body, path).toMatch(/PREVIEW_ALLOWED_HOSTS/);
      expect(response.body, path).not.toMatch(/E_JOB_PAYLOAD|<html/);
    }
    const port = new URL(actions.url).port;
    const rebound = await put(actions.url, retryPath, {
      host: `attacker.example:${port}`,
      origin: `http://attacker.example:${port}`,
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/PREVIEW_ALLOWED_HOSTS/);
    expect(await stateOfFailed()).toBe('failed');
  });

  it('with PREVIEW_QUEUE_ACTIONS on, still refuses a change from another origin, a bad type or a large body', async () => {
    const port = Number(new URL(actions.url).port);
    for (const origin of [
      'http://attacker.example',
      `http://127.0.0.1:${port + 1}`,
      `http://localhost:${port}`,
      'null',
    ]) {
      const response = await put(actions.url, retryPath, { origin });
      expect(response.status, origin).toBe(403);
      expect(response.body).toMatch(/does not come from a page of the preview/);
    }
    expect((await put(actions.url, retryPath, {})).status).toBe(403);
    expect((await put(actions.url, retryPath, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const plain = await put(actions.url, retryPath, { origin: actions.url, 'content-type': 'text/plain' }, '{}');
    expect(plain.status).toBe(415);
    const form = { origin: actions.url, 'content-type': 'application/x-www-form-urlencoded' };
    expect((await put(actions.url, retryPath, form, 'a=1')).status).toBe(415);
    const big = JSON.stringify({ jobData: { text: 'a'.repeat(PREVIEW_BODY_BYTES) } });
    const large = await httpRequest(actions.url, `/queues/api/queues/send/${FAILED}/update-data`, {
      method: 'PATCH',
      headers: { origin: actions.url, 'content-type': 'application/json' },
      body: big,
    });
    expect(large.status).toBe(413);
    expect(await stateOfFailed()).toBe('failed');
    expect((await ctx.queues.send.getJob(FAILED))?.data).toEqual({ nonsense: true });
  });

  it('with PREVIEW_QUEUE_ACTIONS on, takes the retry from its own page: the job leaves failed', async () => {
    const list = JSON.parse((await httpRequest(actions.url, '/queues/api/queues')).body) as {
      queues: { readOnlyMode: boolean }[];
    };
    expect(list.queues.every((q) => !q.readOnlyMode)).toBe(true);
    // A JSON body reaches the board through the gate's reader: a change of the job's data.
    const edit = await httpRequest(actions.url, `/queues/api/queues/send/${FAILED}/update-data`, {
      method: 'PATCH',
      headers: { origin: actions.url, 'content-type': 'application/json' },
      body: JSON.stringify({ jobData: { nonsense: 'edited' } }),
    });
    expect(edit.status, edit.body).toBe(200);
    expect((await ctx.queues.send.getJob(FAILED))?.data).toEqual({ nonsense: 'edited' });

    const response = await put(actions.url, retryPath, { origin: actions.url });
    expect(response.status, response.body).toBe(204);
    expect(await stateOfFailed()).toBe('waiting');
  });
});

describe('the gate with the setting given', () => {
  let server: Server;
  let base: string;
  let reached = 0;

  beforeAll(async () => {
    const rules = {
      hosts: { bound: '127.0.0.1', names: [] },
      body: { maxBytes: 1024, timeoutMs: 1000 },
      tokens: createFormTokens(),
      queueActions: false,
    };
    server = createServer(async (req, res) => {
      if (!(await admit(req, res, rules))) return;
      reached++;
      res.end('reached');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('refuses a change under /queues at once when queueActions is false, and lets reads through', async () => {
    const refused = await put(base, retryPath, { origin: base });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/PREVIEW_QUEUE_ACTIONS=true/);
    expect(reached).toBe(0);
    expect((await httpRequest(base, '/queues/api/queues')).status).toBe(200);
    expect(reached).toBe(1);
  });
});
