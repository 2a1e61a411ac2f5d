import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { cliEnv, testConfig, useTestRedis } from './helpers/queue-harness.js';
import { type CliResult, runCli } from './helpers/run-cli.js';

const redis = useTestRedis('ports');
let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((done) => taken.close(done));
});

/** One line naming the code, exit code 2, no stack trace, and promptly (no server left open). */
async function expectOneLine(run: Promise<CliResult>, code: string, message: RegExp): Promise<void> {
  const started = Date.now();
  const result = await run;
  expect(Date.now() - started, result.stderr).toBeLessThan(15_000);
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^dispatch: ${code}: `));
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const env = (extra: Record<string, string> = {}) =>
  cliEnv(redis.url, testConfig(), { DATA_DIR: join(redis.tmp, 'data'), ...extra });

describe('a taken port', () => {
  it('dispatch serve --port: one line, E_PORT_IN_USE with host:port and the flag', async () => {
    await expectOneLine(
      runCli(['serve', '--port', String(port)], { env: env() }),
      'E_PORT_IN_USE',
      new RegExp(`dispatch serve: 127\\.0\\.0\\.1:${port} is taken .*--port`),
    );
  });

  it("dispatch serve on PUBLIC_URL's port: names that setting", async () => {
    await expectOneLine(
      runCli(['serve'], { env: env({ PUBLIC_URL: `http://127.0.0.1:${port}` }) }),
      'E_PORT_IN_USE',
      new RegExp(`127\\.0\\.0\\.1:${port} is taken .*PUBLIC_URL`),
    );
  });

  it('dispatch preview, by --port and by PREVIEW_PORT', async () => {
    await expectOneLine(
      runCli(['preview', '--port', String(port)], { env: env() }),
      'E_PORT_IN_USE',
      new RegExp(`dispatch preview: 127\\.0\\.0\\.1:${port} is taken .*--port`),
    );
    await expectOneLine(
      runCli(['preview'], { env: env({ PREVIEW_PORT: String(port) }) }),
      'E_PORT_IN_USE',
      new RegExp(`127\\.0\\.0\\.1:${port} is taken .*PREVIEW_PORT`),
    );
  });

  it("dispatch mailbox on SMTP_URL's port", async () => {
    await expectOneLine(
      runCli(['mailbox'], { env: env({ SMTP_URL: `smtp://127.0.0.1:${port}` }) }),
      'E_PORT_IN_USE',
      new RegExp(`dispatch mailbox: 127\\.0\\.0\\.1:${port} is taken .*SMTP_URL`),
    );
  });

  it('npm start (dispatch dev) with PREVIEW_PORT taken ends, closing what it started', async () => {
    const smtp = await freePort();
    await expectOneLine(
      runCli(['dev', '--once'], { env: env({ PREVIEW_PORT: String(port), SMTP_URL: `smtp://127.0.0.1:${smtp}` }) }),
      'E_PORT_IN_USE',
      new RegExp(`127\\.0\\.0\\.1:${port} is taken .*PREVIEW_PORT`),
    );
  });
});

describe('an invalid port', () => {
  for (const [command, value] of [
    ['serve', 'abc'],
    ['serve', '70000'],
    ['preview', '-1'],
    ['preview', '3000.5'],
    ['preview', ''],
  ] as const) {
    it(`dispatch ${command} --port ${JSON.stringify(value)}: E_PORT_INVALID`, async () => {
      await expectOneLine(
        runCli([command, '--port', value], { env: env() }),
        'E_PORT_INVALID',
        new RegExp(`--port must be a whole number from 0 to 65535 \\(got "${value.replace('.', '\\.')}"\\)`),
      );
    });
  }
});
