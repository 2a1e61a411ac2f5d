import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FetchOptions, FetchStatusError, fetchUrl } from '../io/fetch-url.js';
import { isDispatchError } from '../src/errors.js';
import { classifyAddress, isPublicAddress, parseIp, reachAllowed } from '../src/net/address-policy.js';
import { parseRetryAfter } from '../src/net/retry-after.js';
import { checkUrl } from '../src/net/url-policy.js';
import { ROOT, runCli } from './helpers/run-cli.js';

describe('the address policy', () => {
  // [name, address, public?, range it falls in]
  const cases: [string, string, boolean, string][] = [
    ['v4 public', '8.8.8.8', true, 'public'],
    ['v4 public, just below 172.16/12', '172.15.255.255', true, 'public'],
    ['v4 public, just above 172.16/12', '172.32.0.0', true, 'public'],
    ['v4 public, just below CGNAT', '100.63.255.255', true, 'public'],
    ['v4 public, just above CGNAT', '100.128.0.0', true, 'public'],
    ['v4 public, last before multicast', '223.255.255.255', true, 'public'],
    ['v6 public, compressed', '2606:4700:4700::1111', true, 'global unicast'],
    ['v6 public, full', '2606:4700:4700:0000:0000:0000:0000:1111', true, 'global unicast'],
    ['v6 public, bracketed', '[2606:4700:4700::1111]', true, 'global unicast'],
    ['v6 public, upper case', '2606:4700:4700::ABCD', true, 'global unicast'],
    ['NAT64 of a public v4', '64:ff9b::808:808', true, 'NAT64 of 8.8.8.8'],
    ['NAT64 of a public v4, dotted tail', '64:ff9b::8.8.8.8', true, 'NAT64 of 8.8.8.8'],
    ['6to4 of a public v4', '2002:808:808::1', true, '6to4 of 8.8.8.8'],

    ['v4 loopback', '127.0.0.1', false, 'loopback'],
    ['v4 loopback, end of 127/8', '127.255.255.254', false, 'loopback'],
    ['v4 private 10/8', '10.0.0.1', false, 'private'],
    ['v4 private 172.16/12', '172.16.0.1', false, 'private'],
    ['v4 private 172.16/12, last', '172.31.255.255', false, 'private'],
    ['v4 private 192.168/16', '192.168.1.1', false, 'private'],
    ['v4 CGNAT', '100.64.0.1', false, 'carrier-grade NAT'],
    ['v4 CGNAT, last', '100.127.255.255', false, 'carrier-grade NAT'],
    ['v4 link-local', '169.254.1.1', false, 'link-local'],
    ['v4 cloud metadata', '169.254.169.254', false, 'cloud metadata service'],
    ['v6 cloud metadata', 'fd00:ec2::254', false, 'cloud metadata service'],
    ['v4 multicast', '224.0.0.1', false, 'multicast'],
    ['v4 multicast SSDP', '239.255.255.250', false, 'multicast'],
    ['v4 unspecified', '0.0.0.0', false, 'unspecified'],
    ['v4 "this network"', '0.1.2.3', false, 'unspecified'],
    ['v4 broadcast', '255.255.255.255', false, 'broadcast'],
    ['v4 reserved 240/4', '240.0.0.1', false, 'reserved'],
    ['v4 documentation TEST-NET-1', '192.0.2.1', false, 'documentation'],
    ['v4 documentation TEST-NET-2', '198.51.100.7', false, 'documentation'],
    ['v4 documentation TEST-NET-3', '203.0.113.9', false, 'documentation'],
    ['v4 benchmarking', '198.18.0.1', false, 'benchmarking'],
    ['v6 loopback', '::1', false, 'loopback'],
    ['v6 loopback, full', '0:0:0:0:0:0:0:1', false, 'loopback'],
    ['v6 loopback, bracketed', '[::1]', false, 'loopback'],
    ['v6 unspecified', '::', false, 'unspecified'],
    ['v6 link-local', 'fe80::1', false, 'link-local'],
    ['v6 link-local with a zone id', 'fe80::1%eth0', false, 'link-local'],
    ['v6 link-local, top of fe80::/10', 'febf::1', false, 'link-local'],
    ['v6 unique-local fc00::/7 (fc)', 'fc00::1', false, 'unique-local'],
    ['v6 unique-local fc00::/7 (fd)', 'fd12:3456::1', false, 'unique-local'],
    ['v6 multicast', 'ff02::1', false, 'multicast'],
    ['v6 documentation', '2001:db8::1', false, 'documentation'],
    ['v6 Teredo', '2001::1', false, 'Teredo'],
    ['v6 outside 2000::/3', '4000::1', false, 'reserved'],
    ['IPv4-mapped loopback, dotted', '::ffff:127.0.0.1', false, 'IPv4-mapped of 127.0.0.1 (loopback)'],
    ['IPv4-mapped loopback, hex', '::ffff:7f00:1', false, 'IPv4-mapped of 127.0.0.1 (loopback)'],
    ['IPv4-mapped loopback, full', '0:0:0:0:0:ffff:7f00:1', false, 'IPv4-mapped of 127.0.0.1 (loopback)'],
    ['IPv4-mapped of a public v4 (never what DNS answers)', '::ffff:8.8.8.8', false, 'IPv4-mapped of 8.8.8.8'],
    ['IPv4-compatible loopback, dotted', '::127.0.0.1', false, 'IPv4-compatible of 127.0.0.1 (loopback)'],
    ['IPv4-compatible loopback, hex', '::7f00:1', false, 'IPv4-compatible of 127.0.0.1 (loopback)'],
    ['NAT64 of loopback', '64:ff9b::7f00:1', false, 'NAT64 of 127.0.0.1 (loopback)'],
    ['NAT64 of a private v4', '64:ff9b::10.0.0.1', false, 'NAT64 of 10.0.0.1 (private)'],
    ['NAT64 of cloud metadata', '64:ff9b::a9fe:a9fe', false, 'NAT64 of 169.254.169.254 (cloud metadata service)'],
    ['6to4 of loopback', '2002:7f00:1::', false, '6to4 of 127.0.0.1 (loopback)'],
    ['6to4 of a private v4', '2002:c0a8:101::1', false, '6to4 of 192.168.1.1 (private)'],
    // Spellings that only URL parsers accept: as addresses they are nothing, and nothing is refused.
    ['v4 decimal', '2130706433', false, 'not an IP address'],
    ['v4 hex', '0x7f000001', false, 'not an IP address'],
    ['v4 hex parts', '0x7f.0.0.1', false, 'not an IP address'],
    ['v4 octal', '0177.0.0.1', false, 'not an IP address'],
    ['v4 short', '127.1', false, 'not an IP address'],
    ['v4 leading zero', '127.0.0.01', false, 'not an IP address'],
    ['v4 five parts', '1.2.3.4.5', false, 'not an IP address'],
    ['v4 part over 255', '256.0.0.1', false, 'not an IP address'],
    ['v6 two "::"', '1::2::3', false, 'not an IP address'],
    ['v6 group of five digits', '12345::1', false, 'not an IP address'],
    ['v6 nine groups', '1:2:3:4:5:6:7:8:9', false, 'not an IP address'],
    ['v6 empty zone id', 'fe80::1%', false, 'not an IP address'],
    ['a host name', 'localhost', false, 'not an IP address'],
    ['empty', '', false, 'not an IP address'],
  ];
  for (const [name, address, isPublic, range] of cases) {
    it(`${name}: ${address || '(empty)'} is ${isPublic ? 'public' : `not public (${range})`}`, () => {
      expect(isPublicAddress(address)).toBe(isPublic);
      expect(classifyAddress(address).range).toBe(range);
    });
  }

  it('parses every v6 spelling of one address to the same bytes', () => {
    const spellings = [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:ffff:7f00:1',
      '0000::ffff:7f00:0001',
      '[::ffff:7f00:1]',
    ];
    const bytes = spellings.map((s) => parseIp(s)?.bytes);
    for (const b of bytes) expect(b).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]);
  });

  it('ALLOW_PRIVATE_URLS allows private ranges but never unspecified, multicast, broadcast, cloud metadata or non-addresses', () => {
    const allowed = (address: string) => reachAllowed(classifyAddress(address), true);
    for (const a of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])
      expect(allowed(a), a).toBe(true);
    for (const a of [
      '0.0.0.0',
      '::',
      '224.0.0.1',
      'ff02::1',
      '255.255.255.255',
      '240.0.0.1',
      '2130706433',
      '169.254.169.254',
      'fd00:ec2::254',
    ])
      expect(allowed(a), a).toBe(false);
    for (const a of ['127.0.0.1', '10.0.0.1', 'fd00::1'])
      expect(reachAllowed(classifyAddress(a), false), a).toBe(false);
  });
});

describe('the URL check', () => {
  // [name, URL, the hostname WHATWG URL gives it]: every spelling reaches the check as one form.
  const blocked: [string, string, string][] = [
    ['decimal', 'http://2130706433/', '127.0.0.1'],
    ['hex', 'http://0x7f000001/', '127.0.0.1'],
    ['hex, short', 'http://0x7f.1/', '127.0.0.1'],
    ['hex parts', 'http://0x7f.0x0.0x0.0x1/', '127.0.0.1'],
    ['octal', 'http://0177.0.0.1/', '127.0.0.1'],
    ['octal, whole', 'http://017700000001/', '127.0.0.1'],
    ['short', 'http://127.1/', '127.0.0.1'],
    ['short, three parts', 'http://127.0.1/', '127.0.0.1'],
    ['trailing dot', 'http://127.0.0.1./', '127.0.0.1'],
    ['percent-encoded', 'http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['full-width digits', 'http://１２７.０.０.１/', '127.0.0.1'],
    ['zero', 'http://0/', '0.0.0.0'],
    ['private with a port (Redis)', 'http://10.1.2.3:6379/', '10.1.2.3'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['v6 loopback, full', 'http://[0:0:0:0:0:0:0:1]/', '[::1]'],
    ['v6 unspecified', 'http://[::]/', '[::]'],
    ['v6 mapped, dotted', 'http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['v6 compatible', 'http://[::127.0.0.1]/', '[::7f00:1]'],
    ['NAT64 of loopback', 'http://[64:ff9b::127.0.0.1]/', '[64:ff9b::7f00:1]'],
    ['6to4 of loopback', 'http://[2002:7f00:1::]/', '[2002:7f00:1::]'],
    ['v6 unique-local', 'https://[fd00::1]:8443/', '[fd00::1]'],
    ['localhost', 'http://localhost/', 'localhost'],
    ['localhost, upper case', 'http://LOCALHOST:3000/', 'localhost'],
    ['localhost, trailing dot', 'http://localhost./', 'localhost.'],
    ['a name under localhost', 'http://app.localhost/', 'app.localhost'],
    ['a name under localhost, trailing dot', 'http://a.b.localhost./', 'a.b.localhost.'],
  ];
  for (const [name, url, hostname] of blocked) {
    it(`refuses ${name}: ${url}`, () => {
      expect(new URL(url).hostname).toBe(hostname);
      const unbracketed = hostname.replace(/^\[|\]$/g, '');
      expect(() => checkUrl(url, { allowPrivate: false })).toThrowError(
        expect.objectContaining({ code: 'E_URL_BLOCKED', message: expect.stringContaining(unbracketed) }),
      );
    });
  }

  it('lets the private ones through with ALLOW_PRIVATE_URLS, but never 0.0.0.0 or ::', () => {
    expect(checkUrl('http://2130706433:8080/x', { allowPrivate: true })).toMatchObject({
      host: '127.0.0.1',
      address: '127.0.0.1',
    });
    expect(checkUrl('http://[::ffff:127.0.0.1]/', { allowPrivate: true }).address).toBe('::ffff:7f00:1');
    expect(checkUrl('http://app.localhost/', { allowPrivate: true }).host).toBe('app.localhost');
    for (const url of ['http://0/', 'http://[::]/', 'http://224.0.0.1/']) {
      expect(() => checkUrl(url, { allowPrivate: true }), url).toThrowError(
        expect.objectContaining({ code: 'E_URL_BLOCKED' }),
      );
    }
  });

  it('passes public hosts, giving the address of literals and none for names (DNS decides those)', () => {
    const named = checkUrl('https://news.example.com/story', { allowPrivate: false });
    expect(named.host).toBe('news.example.com');
    expect(named.address).toBeUndefined();
    expect(checkUrl('http://8.8.8.8/', { allowPrivate: false }).address).toBe('8.8.8.8');
    expect(checkUrl('http://[2606:4700::1]/', { allowPrivate: false }).address).toBe('2606:4700::1');
    // A host name that merely contains "localhost" is not a localhost name.
    expect(checkUrl('https://localhost.example.com/', { allowPrivate: false }).host).toBe('localhost.example.com');
  });

  const invalid: [string, string][] = [
    ['file:', 'file:///etc/passwd'],
    ['ftp:', 'ftp://example.com/story.txt'],
    ['gopher:', 'gopher://example.com:70/_INFO'],
    ['data:', 'data:text/html,<p>hi</p>'],
    ['javascript:', 'javascript:alert(1)'],
    ['ws:', 'ws://example.com/socket'],
    ['relative', '//example.com/story'],
    ['garbage', 'not a url'],
    ['a zone id (WHATWG refuses it)', 'http://[fe80::1%25eth0]/'],
    ['credentials', 'https://user:secret@news.example.com/'],
  ];
  for (const [name, url] of invalid) {
    it(`E_URL_INVALID for ${name}, also with ALLOW_PRIVATE_URLS`, () => {
      for (const allowPrivate of [false, true]) {
        expect(() => checkUrl(url, { allowPrivate })).toThrowError(expect.objectContaining({ code: 'E_URL_INVALID' }));
      }
    });
  }
});

describe('Retry-After', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const cases: [string, string | undefined, number | undefined][] = [
    ['seconds', '120', 120_000],
    ['zero seconds', '0', 0],
    ['seconds with spaces', ' 5 ', 5_000],
    ['an HTTP date', 'Tue, 01 Dec 2026 12:00:30 GMT', 30_000],
    ['an HTTP date in the past', 'Tue, 01 Dec 2026 11:00:00 GMT', 0],
    ['absent', undefined, undefined],
    ['a fraction', '1.5', undefined],
    ['negative', '-5', undefined],
    ['garbage', 'soon', undefined],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name}: ${JSON.stringify(value)}`, () => expect(parseRetryAfter(value, now)).toBe(expected));
  }
});

/** An HTTP server on `host` port 0 that counts what it receives. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<{
  server: Server;
  port: number;
  requests: IncomingMessage[];
  localAddresses: string[];
  close(): Promise<void>;
}> {
  const requests: IncomingMessage[] = [];
  const localAddresses: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(req);
    localAddresses.push(req.socket.localAddress ?? '');
    handler(req, res);
  });
  await new Promise<void>((done) => server.listen(0, host, done));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    requests,
    localAddresses,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Rejects with the DispatchError `fetchUrl` throws, or fails the test when it resolves. */
async function fetchError(url: string, options: Partial<FetchOptions> = {}) {
  const error = await fetchUrl(url, { timeoutMs: 2000, maxBytes: 100_000, allowPrivate: false, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDispatchError(error)) throw new Error(`expected a DispatchError, got ${String(error)}`);
  return error;
}

/** A policy for tests: 127.0.0.1 counts as public (a stand-in for a site), everything else as usual. */
const loopbackOnePublic = (address: string) =>
  address === '127.0.0.1' ? { reach: 'public' as const, range: 'test site' } : classifyAddress(address);

describe('fetchUrl against real local servers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('refuses 127.0.0.1 by default, naming the host, before any connection (a TCP server sees none)', async () => {
    let connections = 0;
    const tcp: TcpServer = createTcpServer((socket) => {
      connections++;
      socket.end('-ERR not http\r\n');
    });
    await new Promise<void>((done) => tcp.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise((done) => tcp.close(() => done())));
    const port = (tcp.address() as AddressInfo).port;
    for (const url of [`http://127.0.0.1:${port}/`, `http://2130706433:${port}/`, `http://localhost:${port}/`]) {
      const error = await fetchError(url);
      expect(error.code).toBe('E_URL_BLOCKED');
      expect(error.transient).toBe(false);
      expect(error.message).toMatch(/127\.0\.0\.1|localhost/);
      expect(error.message).toContain('ALLOW_PRIVATE_URLS=true');
    }
    expect(connections).toBe(0);
  });

  it('refuses a name that resolves to a private address, naming both', async () => {
    const site = await serve((_req, res) => res.end('hi'));
    cleanups.push(site.close);
    const error = await fetchError(`http://intranet.test:${site.port}/`, {
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect(error.code).toBe('E_URL_BLOCKED');
    expect(error.message).toMatch(/^intranet\.test resolves to 127\.0\.0\.1, which is not public \(loopback\)/);
    expect(site.requests).toHaveLength(0);
  });

  it('refuses a name when any of its addresses is private, even if another is public', async () => {
    const error = await fetchError('http://mixed.test/', {
      resolve: async () => [
        { address: '8.8.8.8', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
    });
    expect(error.code).toBe('E_URL_BLOCKED');
    expect(error.message).toContain('10.0.0.7');
  });

  it('ALLOW_PRIVATE_URLS lets 127.0.0.1 through, keeping content type, charset and final URL', async () => {
    const site = await serve((req, res) => {
      if (req.url === '/old') res.writeHead(301, { location: '/new?x=1' }).end();
      else
        res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' }).end(Buffer.from('caf\xe9', 'latin1'));
    });
    cleanups.push(site.close);
    const page = await fetchUrl(`http://127.0.0.1:${site.port}/old`, {
      timeoutMs: 2000,
      maxBytes: 1000,
      allowPrivate: true,
    });
    expect(Buffer.from(page.bytes).toString('latin1')).toBe('caf\xe9');
    expect(page.contentType).toBe('text/html; charset=windows-1252');
    expect(page.charset).toBe('windows-1252');
    expect(page.url).toBe(`http://127.0.0.1:${site.port}/new?x=1`);
    expect(page.address).toBe('127.0.0.1');
  });

  it('refuses a redirect from an allowed site to a private address, and that server sees nothing', async () => {
    const inside = await serve((_req, res) => res.end('secret'), '127.0.0.2');
    cleanups.push(inside.close);
    const site = await serve((req, res) => {
      const to: Record<string, string> = {
        '/to-ip': `http://127.0.0.2:${inside.port}/admin`,
        '/to-name': `http://intranet.test:${inside.port}/admin`,
        '/to-mapped': `http://[::ffff:127.0.0.2]:${inside.port}/admin`,
        '/to-decimal': `http://2130706434:${inside.port}/admin`,
        '/to-file': 'file:///etc/passwd',
        '/to-gopher': 'gopher://127.0.0.2:6379/_INFO',
        '/to-garbage': 'http://[::1',
      };
      res.writeHead(302, { location: to[req.url ?? ''] ?? '/' }).end();
    });
    cleanups.push(site.close);
    const options: Partial<FetchOptions> = {
      classify: loopbackOnePublic,
      resolve: async (host) => [{ address: host === 'intranet.test' ? '127.0.0.2' : '127.0.0.1', family: 4 }],
    };
    for (const [path, code, named] of [
      ['/to-ip', 'E_URL_BLOCKED', '127.0.0.2'],
      ['/to-name', 'E_URL_BLOCKED', 'intranet.test resolves to 127.0.0.2'],
      ['/to-mapped', 'E_URL_BLOCKED', '::ffff:7f00:2'],
      ['/to-decimal', 'E_URL_BLOCKED', '127.0.0.2'],
      ['/to-file', 'E_URL_INVALID', 'file:///etc/passwd'],
      ['/to-gopher', 'E_URL_INVALID', 'gopher://'],
      ['/to-garbage', 'E_URL_INVALID', 'redirects to a malformed URL: "http://[::1"'],
    ] as const) {
      const error = await fetchError(`http://site.test:${site.port}${path}`, options);
      expect(error.code, path).toBe(code);
      expect(error.message, path).toContain(named);
      if (path !== '/to-garbage')
        expect(error.message).toContain(`a redirect from http://site.test:${site.port}${path}`);
      expect(error.transient).toBe(false);
    }
    expect(site.requests.length).toBe(7);
    expect(inside.requests).toHaveLength(0);
  });

  it('connects to the address it checked: a resolver that answers differently later changes nothing', async () => {
    const site = await serve((req, res) => res.end(`host ${req.headers.host}`));
    cleanups.push(site.close);
    const rebinder = await serve((_req, res) => res.end('rebound'), '127.0.0.2');
    cleanups.push(rebinder.close);
    const answers: string[] = [];
    // First answer public (127.0.0.1 stands for a site here), every later one private.
    const resolve = async () => {
      const address = answers.length === 0 ? '127.0.0.1' : '127.0.0.2';
      answers.push(address);
      return [{ address, family: 4 }];
    };
    const page = await fetchUrl(`http://rebind.test:${site.port}/`, {
      timeoutMs: 2000,
      maxBytes: 1000,
      allowPrivate: false,
      resolve,
      classify: loopbackOnePublic,
    });
    expect(answers).toEqual(['127.0.0.1']);
    expect(page.address).toBe('127.0.0.1');
    expect(site.localAddresses).toEqual(['127.0.0.1']);
    // The Host header (and, for https, SNI and the certificate check) keep the name.
    expect(Buffer.from(page.bytes).toString()).toBe(`host rebind.test:${site.port}`);
    expect(rebinder.requests).toHaveLength(0);
  });

  it('follows at most 5 redirects', async () => {
    const site = await serve((req, res) => {
      const n = Number(req.url?.slice(1));
      if (n >= 6) res.end('arrived');
      else res.writeHead(307, { location: `/${n + 1}` }).end();
    });
    cleanups.push(site.close);
    const five = await fetchUrl(`http://127.0.0.1:${site.port}/1`, {
      timeoutMs: 2000,
      maxBytes: 100,
      allowPrivate: true,
    });
    expect(Buffer.from(five.bytes).toString()).toBe('arrived');
    const error = await fetchError(`http://127.0.0.1:${site.port}/0`, { allowPrivate: true });
    expect(error.code).toBe('E_FETCH_FAILED');
    expect(error.message).toMatch(/redirects more than 5 times/);
  });

  it('5xx and 429 are transient, with the wait Retry-After asks for; 404 is permanent', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const site = await serve((req, res) => {
      if (req.url === '/503') res.writeHead(503, { 'retry-after': '120' }).end();
      else if (req.url === '/429') res.writeHead(429, { 'retry-after': at }).end();
      else if (req.url === '/500') res.writeHead(500, { 'retry-after': '5' }).end();
      else res.writeHead(404).end();
    });
    cleanups.push(site.close);
    const base = `http://127.0.0.1:${site.port}`;
    const unavailable = await fetchError(`${base}/503`, { allowPrivate: true });
    expect(unavailable).toBeInstanceOf(FetchStatusError);
    expect(unavailable).toMatchObject({ code: 'E_FETCH_STATUS', transient: true, status: 503, retryAfterMs: 120_000 });
    expect(unavailable.message).toBe(`${base}/503 answered 503 Service Unavailable (Retry-After: 120 s)`);
    const limited = (await fetchError(`${base}/429`, { allowPrivate: true })) as FetchStatusError;
    expect(limited).toMatchObject({ transient: true, status: 429 });
    expect(limited.retryAfterMs).toBeGreaterThan(80_000);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(90_000);
    // Retry-After is read for 429 and 503 only.
    expect(await fetchError(`${base}/500`, { allowPrivate: true })).toMatchObject({
      transient: true,
      retryAfterMs: undefined,
    });
    expect(await fetchError(`${base}/missing`, { allowPrivate: true })).toMatchObject({
      code: 'E_FETCH_STATUS',
      transient: false,
      status: 404,
    });
  });

  it('a timeout is transient, also when the body stalls half-way', async () => {
    const site = await serve((req, res) => {
      if (req.url === '/half') res.writeHead(200).write('part of a page');
      // else: never answers
    });
    cleanups.push(site.close);
    for (const path of ['/silent', '/half']) {
      const started = Date.now();
      const error = await fetchError(`http://127.0.0.1:${site.port}${path}`, { allowPrivate: true, timeoutMs: 300 });
      expect(error).toMatchObject({ code: 'E_FETCH_TIMEOUT', transient: true });
      expect(error.message).toMatch(/within 300 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('a refused connection and a DNS hiccup are transient; a name that does not exist is permanent', async () => {
    const site = await serve(() => {});
    const port = site.port;
    await site.close();
    expect(await fetchError(`http://127.0.0.1:${port}/`, { allowPrivate: true })).toMatchObject({
      code: 'E_FETCH_FAILED',
      transient: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
    const failing = (code: string) => async () => {
      throw Object.assign(new Error(`getaddrinfo ${code} news.test`), { code });
    };
    expect(await fetchError('http://news.test/', { resolve: failing('EAI_AGAIN') })).toMatchObject({
      code: 'E_FETCH_FAILED',
      transient: true,
    });
    expect(await fetchError('http://news.test/', { resolve: failing('ENOTFOUND') })).toMatchObject({
      code: 'E_FETCH_FAILED',
      transient: false,
      message: 'http://news.test/ could not be fetched (ENOTFOUND)',
    });
  });

  it('decodes gzip, deflate and br', async () => {
    const body = '<p>Harbour wall repairs agreed</p>'.repeat(20);
    const site = await serve((req, res) => {
      const encoded: Record<string, Buffer> = {
        '/gzip': gzipSync(body),
        '/deflate': deflateSync(body),
        '/br': brotliCompressSync(body),
        '/two': brotliCompressSync(gzipSync(body)),
      };
      const coding = req.url === '/two' ? 'gzip, br' : (req.url ?? '').slice(1);
      res.writeHead(200, { 'content-encoding': coding, 'content-type': 'text/html' }).end(encoded[req.url ?? '']);
    });
    cleanups.push(site.close);
    for (const path of ['/gzip', '/deflate', '/br', '/two']) {
      const page = await fetchUrl(`http://127.0.0.1:${site.port}${path}`, {
        timeoutMs: 2000,
        maxBytes: 10_000,
        allowPrivate: true,
      });
      expect(Buffer.from(page.bytes).toString(), path).toBe(body);
    }
    expect(site.requests[0]?.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('cuts a body off at maxBytes: declared, streamed, and decoded from a small gzip (a zip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    let streamedBytes = 0;
    const site = await serve((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
      else if (req.url === '/bomb') res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb);
      else if (req.url === '/corrupt') res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all');
      else {
        // Endless, chunked: only the reader's limit stops it.
        const timer = setInterval(() => {
          streamedBytes += 1024;
          res.write('y'.repeat(1024));
        }, 1);
        res.on('close', () => clearInterval(timer));
      }
    });
    cleanups.push(site.close);
    const base = `http://127.0.0.1:${site.port}`;
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    for (const path of ['/declared', '/endless', '/bomb']) {
      const error = await fetchError(`${base}${path}`, { allowPrivate: true, maxBytes: 4096 });
      expect(error.code, path).toBe('E_INPUT_TOO_LARGE');
      expect(error.message).toContain('4096-byte limit');
    }
    expect(streamedBytes).toBeLessThan(1024 * 1024);
    expect(await fetchError(`${base}/corrupt`, { allowPrivate: true })).toMatchObject({
      code: 'E_FETCH_FAILED',
      transient: false,
      message: expect.stringContaining('could not be decoded'),
    });
  });
});

describe('fetchUrl over https', () => {
  // A certificate for news.test (valid until 2126), trusted by the child process below through
  // NODE_EXTRA_CA_CERTS, which Node reads only at start.
  const tls = join(ROOT, 'tests/fixtures/tls');
  const script = `
    import { fetchUrl } from './io/fetch-url.ts';
    import { classifyAddress } from './src/net/address-policy.ts';
    const [port, host] = process.argv.slice(-2);
    const options = {
      timeoutMs: 3000, maxBytes: 1000, allowPrivate: false,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      classify: (a) => (a === '127.0.0.1' ? { reach: 'public', range: 'test site' } : classifyAddress(a)),
    };
    const out = await fetchUrl('https://' + host + ':' + port + '/', options).then(
      (page) => ({ body: Buffer.from(page.bytes).toString(), address: page.address }),
      (e) => ({ code: e.code, transient: e.transient, message: e.message }),
    );
    process.stdout.write(JSON.stringify(out));`;
  const fetchInChild = async (port: number, host: string) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, '--', String(port), host],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: join(tls, 'news.test.crt') },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    await new Promise((done) => child.on('close', done));
    return JSON.parse(stdout);
  };

  it('connects to the checked address but sends SNI and checks the certificate against the URL host name', async () => {
    const names: string[] = [];
    const server = createHttpsServer(
      { key: readFileSync(join(tls, 'news.test.key')), cert: readFileSync(join(tls, 'news.test.crt')) },
      (req, res) => res.end(`host ${req.headers.host}`),
    );
    server.on('secureConnection', (socket) => names.push(String(socket.servername)));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await fetchInChild(port, 'news.test')).toEqual({ body: `host news.test:${port}`, address: '127.0.0.1' });
      expect(names).toEqual(['news.test']);
      // The same address under another name: the certificate does not match, and that is permanent.
      expect(await fetchInChild(port, 'other.test')).toMatchObject({
        code: 'E_FETCH_FAILED',
        transient: false,
        message: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID'),
      });
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});

describe('dispatch parse <private URL>', () => {
  let site: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    site = await serve((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<html><head><title>Inside</title></head><body><article><h1>Inside</h1><p>An intranet page that the default policy must never fetch for anyone.</p><p>It has two paragraphs so that it would parse as an article if fetched.</p></article></body></html>',
        ),
    );
  });
  afterAll(() => site.close());

  it('exits 2 with one E_URL_BLOCKED line naming the host, and the server sees no request', async () => {
    const result = await runCli(['parse', `http://127.0.0.1:${site.port}/`], { env: { ALLOW_PRIVATE_URLS: 'false' } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dispatch: E_URL_BLOCKED: 127\.0\.0\.1 is not public \(loopback\): refused/);
    expect(site.requests).toHaveLength(0);
  });

  it('fetches it with ALLOW_PRIVATE_URLS=true', async () => {
    const result = await runCli(['parse', `http://127.0.0.1:${site.port}/`, '--json'], {
      env: { ALLOW_PRIVATE_URLS: 'true' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).title).toBe('Inside');
    expect(site.requests).toHaveLength(1);
  });
});
