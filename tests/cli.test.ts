import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../io/managed-redis.js';
import { type CliResult, runCli } from './helpers/run-cli.js';
import { hasSharedData, SAMPLE_ARTICLE, sharedDataNote } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'dispatch-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A bad-input failure: exit code 2, one line on stderr naming the code, no stack trace. */
function expectFailure(result: CliResult, code: string, message?: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^dispatch: ${code}: `));
  if (message) expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('dispatch --help', () => {
  it('lists the commands, each with an example', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['parse', 'redis', 'dev']) {
      expect(help.stdout).toContain(command);
      const own = await runCli([command, '--help']);
      expect(own.code).toBe(0);
      expect(own.stdout).toMatch(/Example:\n\s+\$ /);
    }
  });
  it('refuses an unknown format with exit code 2', async () => {
    const result = await runCli(['parse', 'examples/harbour-ferry-returns.txt', '--format', 'pdf']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Allowed choices are text, html, json/);
  });
});

describe(`dispatch parse of the sample${sharedDataNote}`, () => {
  it.skipIf(!hasSharedData)('prints the Article as JSON, with the same id on every run', async () => {
    const first = await runCli(['parse', SAMPLE_ARTICLE, '--json']);
    const second = await runCli(['parse', SAMPLE_ARTICLE, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const article = JSON.parse(first.stdout);
    expect(article.title).toBe('US and Russia bid to revive Syria peace talks');
    expect(article.attribution).toBe('Aljazeera, Agencies');
    expect(JSON.parse(second.stdout).id).toBe(article.id);
  });
});

describe('dispatch parse', () => {
  it('prints an article readably', async () => {
    const result = await runCli(['parse', 'examples/harbour-ferry-returns.txt']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Harbour ferry returns after two-year repair\n=+\n/);
    expect(result.stdout).toContain('## Timetable under review');
    expect(result.stdout).toContain('attribution Port Alder Gazette, Agencies');
  });
  it('reads standard input with -', async () => {
    const result = await runCli(['parse', '-', '--json'], { input: 'Stdin story\n\nIt came in through a pipe.\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ title: 'Stdin story', wordCount: 6 });
  });

  it('E_INPUT_NOT_FOUND for a missing file', async () => {
    expectFailure(
      await runCli(['parse', 'no/such/file.txt']),
      'E_INPUT_NOT_FOUND',
      /no such file: no\/such\/file\.txt$/,
    );
  });
  it('E_INPUT_EMPTY for an empty file and for whitespace', async () => {
    writeFileSync(join(tmp, 'empty.txt'), '');
    writeFileSync(join(tmp, 'blank.txt'), ' \n\n \t\n');
    expectFailure(await runCli(['parse', join(tmp, 'empty.txt')]), 'E_INPUT_EMPTY');
    expectFailure(await runCli(['parse', join(tmp, 'blank.txt')]), 'E_INPUT_EMPTY', /only whitespace/);
  });
  it('E_INPUT_BINARY for a file with NUL bytes', async () => {
    writeFileSync(join(tmp, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
    expectFailure(await runCli(['parse', join(tmp, 'image.png')]), 'E_INPUT_BINARY');
  });
  it('E_INPUT_ENCODING for text that is not UTF-8 and declares nothing', async () => {
    writeFileSync(join(tmp, 'latin1.txt'), Buffer.from('Caf\xe9 opens\n\nThe caf\xe9 opened today.', 'latin1'));
    expectFailure(await runCli(['parse', join(tmp, 'latin1.txt')]), 'E_INPUT_ENCODING', /not valid utf-8/);
  });
  it('E_INPUT_TOO_LARGE over MAX_INPUT_BYTES, read from .env in the working directory', async () => {
    const dir = mkdtempSync(join(tmp, 'envdir-'));
    writeFileSync(join(dir, '.env'), '# a small limit\nMAX_INPUT_BYTES=100\n');
    writeFileSync(join(dir, 'big.txt'), `Big story\n\n${'word '.repeat(100)}`);
    expectFailure(await runCli(['parse', 'big.txt'], { cwd: dir }), 'E_INPUT_TOO_LARGE', /MAX_INPUT_BYTES/);
  });
  it('E_HTML_NO_ARTICLE for a page with no article', async () => {
    writeFileSync(
      join(tmp, 'login.html'),
      '<html><body><nav><a href="/">Home</a></nav><form>Log in</form></body></html>',
    );
    expectFailure(await runCli(['parse', join(tmp, 'login.html')]), 'E_HTML_NO_ARTICLE');
  });
  it('E_ARTICLE_NO_TITLE for JSON without a title', async () => {
    writeFileSync(join(tmp, 'untitled.json'), JSON.stringify({ body: 'Text without a title.' }));
    expectFailure(await runCli(['parse', join(tmp, 'untitled.json')]), 'E_ARTICLE_NO_TITLE');
  });
  it('E_CONFIG for a bad variable, naming it', async () => {
    const result = await runCli(['parse', 'examples/harbour-ferry-returns.txt'], { env: { PREVIEW_PORT: 'eighty' } });
    expectFailure(result, 'E_CONFIG', /PREVIEW_PORT must be a port number \(0-65535\) \(got "eighty"\)/);
  });
});

describe('dispatch parse <url>', () => {
  // The pages are served on 127.0.0.1, which the default address policy refuses.
  const allow = { ALLOW_PRIVATE_URLS: 'true' };
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/story') {
        res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' });
        const body =
          '<html><head><title>Caf\xe9 wins award</title></head><body><article><h1>Caf\xe9 wins award</h1>' +
          '<p>The caf\xe9 on Mill Street has won the county award for the best breakfast, the judges said on Monday.</p>' +
          '<p>It opened three years ago and now serves four hundred customers every weekend, its owner said.</p>' +
          '</article></body></html>';
        res.end(Buffer.from(body, 'latin1'));
      } else if (req.url === '/slow') {
        // Never answers: the client's timeout must end it.
      } else {
        res.writeHead(404).end('not here');
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('fetches a page, decodes its declared charset and keeps its URL', async () => {
    const result = await runCli(['parse', `${base}/story`, '--json'], { env: allow });
    expect(result.code, result.stderr).toBe(0);
    const article = JSON.parse(result.stdout);
    expect(article.title).toBe('Café wins award');
    expect(article.url).toBe(`${base}/story`);
  });
  it('E_FETCH_STATUS for a non-2xx answer', async () => {
    expectFailure(await runCli(['parse', `${base}/missing`], { env: allow }), 'E_FETCH_STATUS', /answered 404/);
  });
  it('E_FETCH_TIMEOUT when the server does not answer in time', async () => {
    const result = await runCli(['parse', `${base}/slow`], { env: { ...allow, FETCH_TIMEOUT_MS: '300' } });
    expectFailure(result, 'E_FETCH_TIMEOUT', /within 300 ms/);
  });
  it('E_FETCH_FAILED for a refused connection', async () => {
    const port = await freePort();
    const result = await runCli(['parse', `http://127.0.0.1:${port}/x`], { env: allow });
    expectFailure(result, 'E_FETCH_FAILED', /ECONNREFUSED/);
  });
  it('E_URL_INVALID for a URL that is not http(s)', async () => {
    expectFailure(await runCli(['parse', 'ftp://example.com/story.txt']), 'E_URL_INVALID', /not an http\(s\) URL/);
  });
  it('E_INPUT_TOO_LARGE for a page over the limit', async () => {
    const result = await runCli(['parse', `${base}/story`], { env: { ...allow, MAX_INPUT_BYTES: '64' } });
    expectFailure(result, 'E_INPUT_TOO_LARGE');
  });
});
