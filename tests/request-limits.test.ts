import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, refuseBody } from '../io/read-body.js';
import { hostAllowed } from '../src/http/allowed-host.js';
import { DEFAULT_UNSUBSCRIBE_SECRET, defaultSecretProblem } from '../src/links/default-secret-problem.js';
import { httpRequest, rawExchange } from './helpers/http-request.js';

describe('readBody, on a real server', () => {
  let server: Server;
  let port: number;
  let base: string;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const body = await readBody(req, {
        maxBytes: 100,
        timeoutMs: 300,
        types: req.url === '/form' ? ['application/x-www-form-urlencoded'] : undefined,
      });
      if (!body.ok) return refuseBody(res, body);
      res.end(`got ${body.text.length}: ${body.text}`);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('reads a body up to the limit whole', async () => {
    const response = await httpRequest(base, '/', { method: 'POST', body: 'é'.repeat(50) });
    expect(response.status).toBe(200);
    expect(response.body).toBe(`got 50: ${'é'.repeat(50)}`);
  });

  it('refuses one byte over the limit with 413, declared or chunked, and closes the connection', async () => {
    const declared = await httpRequest(base, '/', { method: 'POST', body: 'a'.repeat(101) });
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');
    // A Content-Length that lies low is cut by the HTTP parser; a chunked body is counted as it comes.
    const chunked = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n${'a'.repeat(64)}\r\n40\r\n${'b'.repeat(64)}\r\n`,
    );
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunked).toMatch(/larger than 100 bytes/);
  });

  it('refuses a body that trickles in slower than the time limit with 408, and does not wait for the rest', async () => {
    const started = Date.now();
    const answer = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nonly ten b', 4000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses another media type with 415 when types are given, parameters aside', async () => {
    const wrong = await httpRequest(base, '/form', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'a=1',
    });
    expect(wrong.status).toBe(415);
    const none = await httpRequest(base, '/form', { method: 'POST', body: 'a=1' });
    expect(none.status).toBe(415);
    const right = await httpRequest(base, '/form', {
      method: 'POST',
      headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' },
      body: 'a=1',
    });
    expect(right.status).toBe(200);
  });
});

describe('hostAllowed', () => {
  const local = { bound: '127.0.0.1', names: [] };
  const cases: [string, string | undefined, { bound: string; names: string[] }, boolean][] = [
    ['the bound address with its port', '127.0.0.1:3000', local, true],
    ['localhost', 'localhost:3000', local, true],
    ['a name under .localhost', 'app.localhost', local, true],
    ['IPv6 loopback', '[::1]:3000', local, true],
    ['IPv6 loopback written out', '[0:0:0:0:0:0:0:1]:3000', local, true],
    ['another loopback address', '127.0.0.2:3000', local, true],
    ['a listed name', 'preview.corp.test:3000', { bound: '127.0.0.1', names: ['preview.corp.test'] }, true],
    ['a listed name in capitals', 'PREVIEW.corp.test', { bound: '127.0.0.1', names: ['preview.corp.test'] }, true],
    ['a specific bound address', '192.168.1.5:3000', { bound: '192.168.1.5', names: [] }, true],
    ['bound to all: an IP literal', '192.168.1.5:3000', { bound: '0.0.0.0', names: [] }, true],
    ['bound to all (IPv6): an IPv6 literal', '[fd00::5]:3000', { bound: '::', names: [] }, true],
    ['bound to all: still no foreign name', 'attacker.example', { bound: '0.0.0.0', names: [] }, false],
    ['a foreign name', 'attacker.example', local, false],
    ['loopback as a prefix of a foreign name', '127.0.0.1.attacker.example', local, false],
    ['localhost as a prefix of a foreign name', 'localhost.attacker.example:3000', local, false],
    [
      'a listed name as a prefix',
      'preview.corp.test.attacker.example',
      { bound: '127.0.0.1', names: ['preview.corp.test'] },
      false,
    ],
    ['localhost with a trailing dot (resolved by DNS)', 'localhost.', local, false],
    ['another address than the bound one', '10.0.0.1:3000', local, false],
    ['IPv6 without brackets', '::1', local, false],
    ['userinfo', 'evil@127.0.0.1', local, false],
    ['a path', '127.0.0.1/x', local, false],
    ['a port out of range', 'localhost:70000', local, false],
    ['empty', '', local, false],
    ['missing', undefined, local, false],
  ];
  for (const [name, header, policy, expected] of cases) {
    it(`${name}: ${JSON.stringify(header)} → ${expected ? 'allowed' : 'refused'}`, () => {
      expect(hostAllowed(header, policy)).toBe(expected);
    });
  }
});

describe('defaultSecretProblem', () => {
  const local = {
    UNSUBSCRIBE_SECRET: DEFAULT_UNSUBSCRIBE_SECRET,
    PUBLIC_URL: 'http://127.0.0.1:3001',
    SMTP_URL: 'smtp://127.0.0.1:2525',
  };
  const own = 'a'.repeat(64);
  const cases: [string, typeof local, RegExp | null][] = [
    ['the defaults (local development)', local, null],
    ['localhost names', { ...local, PUBLIC_URL: 'http://localhost:3001', SMTP_URL: 'smtp://localhost:2525' }, null],
    ['IPv6 loopback', { ...local, PUBLIC_URL: 'http://[::1]:3001' }, null],
    [
      'an https PUBLIC_URL',
      { ...local, PUBLIC_URL: 'https://news.example.org' },
      /while PUBLIC_URL is https:\/\/news\.example\.org: set it/,
    ],
    [
      'a LAN PUBLIC_URL',
      { ...local, PUBLIC_URL: 'http://192.168.1.5:3001' },
      /PUBLIC_URL is http:\/\/192\.168\.1\.5:3001/,
    ],
    [
      'a real SMTP server, its password not shown',
      { ...local, SMTP_URL: 'smtps://user:hunter22@smtp.example.org:465' },
      /while SMTP_URL is smtps:\/\/smtp\.example\.org:465: /,
    ],
    ['a name that only starts with localhost', { ...local, PUBLIC_URL: 'https://localhost.example.org' }, /PUBLIC_URL/],
    [
      'an own secret with an https PUBLIC_URL',
      { ...local, UNSUBSCRIBE_SECRET: own, PUBLIC_URL: 'https://news.example.org' },
      null,
    ],
    [
      'an own secret with a real SMTP server',
      { ...local, UNSUBSCRIBE_SECRET: own, SMTP_URL: 'smtp://smtp.example.org' },
      null,
    ],
  ];
  for (const [name, config, expected] of cases) {
    it(name, () => {
      const problem = defaultSecretProblem(config);
      if (expected === null) expect(problem).toBeNull();
      else {
        expect(problem).toMatch(expected);
        expect(problem).toMatch(/UNSUBSCRIBE_SECRET=\$\(openssl rand -hex 32\) in \.env$/);
        expect(problem).not.toMatch(/hunter22/);
      }
    });
  }
});
