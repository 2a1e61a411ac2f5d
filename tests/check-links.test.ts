import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkImages, checkLinks, type LinkCheckOptions } from '../io/check-links.js';
import type { Resolver } from '../io/fetch-url.js';
import type { CheckResult } from '../src/checks/check.js';
import {
  decodeEntities,
  type ImageRef,
  imageFindings,
  inventory,
  linkFindings,
  linkSyntax,
  utmProblem,
} from '../src/checks/links-images.js';
import { buildIssue } from '../src/newsletter/build-issue.js';
import { personalize } from '../src/newsletter/personalize.js';
import { renderIssue } from '../src/newsletter/render-issue.js';
import { config, NOW, RECIPIENT, templates, WEEK, weekOfArticles } from './helpers/issue-fixtures.js';

// ---------------------------------------------------------------------------------------------
// The pure part: what the HTML links to and shows

describe('inventory', () => {
  it('finds every link and image with its line, entities decoded, attributes and inline sizes read', () => {
    const html = [
      '<html><body>',
      '<a href="https://news.example.com/a?utm_source&#61;newsletter&amp;utm_medium=email">A</a>',
      '<a',
      '   href=" https://news.example.com/b#top "><img',
      '   src="https://news.example.com/b.png" alt="" width="600" height="auto" style="width:100%;height: auto !important"></a>',
      '<!--[if mso]><a href="https://news.example.com/outlook">O</a><![endif]-->',
      '<img src=https://news.example.com/c.gif>',
      '<a name="x">no href</a><!-- <a href="https://news.example.com/commented">C</a> -->',
      '</body></html>',
    ].join('\n');
    const { links, images } = inventory(html);
    expect(links).toEqual([
      { href: 'https://news.example.com/a?utm_source=newsletter&utm_medium=email', line: 2, condition: undefined },
      { href: 'https://news.example.com/b#top', line: 3, condition: undefined },
      { href: 'https://news.example.com/outlook', line: 6, condition: 'mso' },
    ]);
    expect(images).toEqual([
      {
        src: 'https://news.example.com/b.png',
        alt: '',
        width: '600',
        height: 'auto',
        styleWidth: '100%',
        styleHeight: 'auto',
        link: 'https://news.example.com/b#top',
        line: 4,
        condition: undefined,
      },
      {
        src: 'https://news.example.com/c.gif',
        alt: null,
        width: null,
        height: null,
        styleWidth: null,
        styleHeight: null,
        link: null,
        line: 7,
        condition: undefined,
      },
    ]);
  });

  it('decodes named and numeric character references, and leaves unknown ones', () => {
    expect(decodeEntities('a&amp;b&#61;c&#x3D;d&quot;&unknown;&amp')).toBe('a&b=c=d"&unknown;&');
  });

  it('reads broken HTML in one pass without throwing', () => {
    for (const html of [
      '<a href="https://x.example/',
      '<img',
      '<a href=',
      '<<<>>>',
      '<!--',
      '<a href="x"<img src=y>',
    ]) {
      expect(() => inventory(html)).not.toThrow();
    }
  });
});

describe('linkSyntax', () => {
  // [case, href, state or null for a good link, text it says]
  const cases: [string, string, 'fail' | 'warn' | null, RegExp?][] = [
    ['https', 'https://news.example.com/story?id=1', null],
    ['mailto', 'mailto:editor@example.com?subject=Hi', null],
    ['http', 'http://news.example.com/', 'warn', /not https/],
    ['the colon missing', 'http//news.example.com/', 'fail', /colon/],
    ['https with the colon missing', 'https//news.example.com/', 'fail', /colon/],
    ['one slash', 'https:/news.example.com/', 'fail', /one slash/],
    ['three slashes', 'https:///news.example.com/', 'fail', /three slashes/],
    ['a misspelled scheme', 'htps://news.example.com/', 'fail', /"htps:"/],
    ['the scheme twice', 'https://https://news.example.com/', 'fail', /twice/],
    ['a space', 'https://news.example.com/a story', 'fail', /space/],
    ['relative', '/story/1', 'fail', /absolute/],
    ['empty', '', 'fail', /empty/],
    ['an unfilled token', 'https://news.example.com/unsubscribe/{{token}}', 'fail', /token/],
    ['javascript:', 'javascript:alert(1)', 'fail', /javascript: link/],
    ['ftp', 'ftp://files.example.com/a', 'fail', /ftp: link/],
    ['a mailto without address', 'mailto:', 'fail', /without an address/],
    ['does not parse', 'https://exa mple.com/', 'fail', /space/],
    ['bad host', 'https://ex[ample.com/', 'fail', /not a valid URL/],
  ];
  for (const [name, href, state, text] of cases) {
    it(`${name}: ${state ?? 'ok'}`, () => {
      const verdict = linkSyntax(href);
      expect(verdict?.state ?? null).toBe(state);
      if (text) expect(verdict?.text).toMatch(text);
    });
  }
});

describe('the UTM rule', () => {
  const rules = { utm: true, siteUrl: 'https://news.example.com', ownPages: ['https://news.example.com/archive'] };
  const tagged = 'https://news.example.com/a?utm_source=newsletter&utm_medium=email&utm_campaign=2026-W48';
  // [case, href, expected problem or null]
  const cases: [string, string, RegExp | null][] = [
    ['a tagged story on the site', tagged, null],
    ['an untagged story on the site', 'https://news.example.com/a', /no UTM/],
    ['incomplete anywhere', 'https://other.example.org/a?utm_source=newsletter', /utm_medium, utm_campaign missing/],
    ['the home page, linked bare by Dispatch', 'https://news.example.com/', null],
    ['the home page without its slash', 'https://news.example.com', null],
    ['another host: not the publisher’s', 'https://other.example.org/a', null],
    ['Dispatch’s own pages', 'https://news.example.com/archive/2026-W48', null],
    ['a per-recipient link', 'https://news.example.com/unsubscribe/tok', null],
    ['mailto', 'mailto:a@news.example.com', null],
  ];
  for (const [name, href, problem] of cases) {
    it(name, () => {
      const found = utmProblem(href, { ...rules, skip: ['https://news.example.com/unsubscribe/tok'] });
      if (problem) expect(found?.text).toMatch(problem);
      else expect(found).toBeNull();
    });
  }

  it('expects nothing when UTM_PARAMS is off', () => {
    expect(utmProblem('https://news.example.com/a', { ...rules, utm: false })).toBeNull();
  });
});

describe('the sample issue’s links and images', () => {
  async function sampleHtml(utm: boolean): Promise<string> {
    const issueConfig = { ...config, UTM_PARAMS: utm };
    const issue = buildIssue(weekOfArticles(10), { week: WEEK, now: NOW, config: issueConfig });
    return personalize(await renderIssue(issue, await templates()), RECIPIENT).html;
  }
  const rules = {
    utm: true,
    siteUrl: config.SITE_URL,
    ownPages: [config.PUBLIC_URL],
    skip: [RECIPIENT.unsubscribeUrl, RECIPIENT.preferencesUrl],
  };

  it('has UTM exactly where Dispatch puts it, and no other problem than the local archive’s http', async () => {
    const { links, images } = inventory(await sampleHtml(true));
    expect(links.map((l) => l.href)).toContain(RECIPIENT.unsubscribeUrl);
    const findings = linkFindings(links, rules);
    expect(findings.map((f) => [f.state, f.url, f.text])).toEqual([
      ['warn', `${config.PUBLIC_URL}/archive/${WEEK}`, 'not https: the link is sent in the clear'],
    ]);
    expect(imageFindings(images)).toEqual([]);
  });

  it('built with UTM_PARAMS off, the story links on the site are reported when the check expects UTM', async () => {
    const { links } = inventory(await sampleHtml(false));
    const missing = linkFindings(links, rules).filter((f) => /no UTM/.test(f.text));
    expect(missing.length).toBeGreaterThan(0);
    for (const f of missing) expect(new URL(f.url as string).host).toBe(new URL(config.SITE_URL).host);
    expect(missing.some((f) => f.url?.startsWith(`${config.SITE_URL}/newsletter`))).toBe(true);
  });
});

describe('imageFindings', () => {
  const image: ImageRef = {
    src: 'https://news.example.com/a.png',
    alt: 'A loaf',
    width: '600',
    height: 'auto',
    styleWidth: '100%',
    styleHeight: 'auto',
    link: null,
    line: 7,
  };
  // [case, the image's differences, expected texts]
  const cases: [string, Partial<ImageRef>, RegExp[]][] = [
    ['MJML’s mj-image: width="600" height="auto"', {}, []],
    ['no alt', { alt: null }, [/no alt text/]],
    ['an empty alt on a decorative image', { alt: '' }, []],
    [
      'an empty alt on a linked image',
      { alt: '', link: 'https://news.example.com/a' },
      [/empty alt text on a linked image/],
    ],
    ['no width attribute', { width: null }, [/no width attribute/]],
    ['a percentage width attribute', { width: '100%' }, [/not a pixel width/]],
    ['a pixel width with px', { width: '600px' }, []],
    ['no height anywhere', { height: null, styleHeight: null }, [/no height/]],
    ['a height in the style only', { height: null, styleHeight: '120px' }, []],
    ['http', { src: 'http://news.example.com/a.png' }, [/not https/]],
    ['relative', { src: 'a.png' }, [/not an absolute image URL/]],
    ['no src', { src: '' }, [/without a src/]],
    ['data:image', { src: 'data:image/png;base64,AAAA' }, []],
  ];
  for (const [name, change, texts] of cases) {
    it(name, () => {
      const findings = imageFindings([{ ...image, ...change }]);
      expect(findings.map((f) => f.text)).toEqual(texts.map(() => expect.any(String)));
      texts.forEach((text, i) => {
        expect(findings[i]?.text).toMatch(text);
      });
      for (const f of findings) expect(f.where).toBe('line 7');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The network part, against a real HTTP server on 127.0.0.1

/** What the server saw: "METHOD /path". */
const seen: string[] = [];
let server: Server;
let origin: string;
const hanging = new Set<ServerResponse>();

function respond(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  seen.push(`${req.method} ${path}`);
  res.on('error', () => {});
  if (path === '/slow' || path.startsWith('/slow/')) {
    // Never answers: the client's time limit must end it.
    hanging.add(res);
    return;
  }
  if (path === '/ok' || path === '/ok#frag') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(req.method === 'HEAD' ? undefined : '<p>ok</p>');
    return;
  }
  if (path === '/no-head') {
    if (req.method === 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('x'.repeat(50_000));
    return;
  }
  if (path === '/head-404') {
    // HEAD routed nowhere, GET served: a server that only wrote GET handlers.
    res.writeHead(req.method === 'HEAD' ? 404 : 200, { 'content-type': 'text/html' }).end();
    return;
  }
  if (path === '/busy') {
    res.writeHead(429, { 'retry-after': '120' }).end();
    return;
  }
  if (path === '/moved') {
    res.writeHead(302, { location: '/ok' }).end();
    return;
  }
  if (path === '/down') {
    res.writeHead(503).end();
    return;
  }
  if (path === '/gone') {
    res.writeHead(410).end();
    return;
  }
  if (path === '/small.png') {
    res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(2_000));
    return;
  }
  if (path === '/page.png') {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an image</html>');
    return;
  }
  if (path === '/big.png') {
    const body = Buffer.alloc(1_400_000);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.byteLength });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/streamed.png') {
    // No Content-Length: the size shows only as the body streams in.
    res.writeHead(200, { 'content-type': 'image/png' });
    const chunk = Buffer.alloc(100_000);
    let sent = 0;
    const more = () => {
      while (sent < 1_200_000 && !res.destroyed) {
        sent += chunk.byteLength;
        if (!res.write(chunk)) return res.once('drain', more);
      }
      res.end();
    };
    more();
    return;
  }
  res.writeHead(404, { 'content-type': 'text/html' }).end('not found');
}

beforeAll(async () => {
  server = createServer(respond);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  seen.length = 0;
  for (const res of hanging) res.destroy();
  hanging.clear();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const local: LinkCheckOptions = { allowPrivate: true, timeoutMs: 2_000, totalTimeoutMs: 10_000 };

function links(...hrefs: string[]): string {
  return ['<html><body>', ...hrefs.map((h) => `<p><a href="${h}">link</a></p>`), '</body></html>'].join('\n');
}

function about(result: CheckResult, url: string) {
  return result.findings.filter((f) => f.url === url);
}

/** The findings about a URL, without the https warning every link to this local http server gets. */
function reachOf(result: CheckResult, url: string) {
  return about(result, url).filter((f) => !/not https/.test(f.text));
}

describe('checkLinks', () => {
  it('a 404 or 410 link is broken (fail), a 200 link has nothing to say, a 503 is worth a look', async () => {
    const result = await checkLinks(
      links(`${origin}/missing`, `${origin}/ok`, `${origin}/gone`, `${origin}/down`, `${origin}/moved`),
      local,
    );
    expect(result.id).toBe('links');
    expect(result.state).toBe('fail');
    expect(reachOf(result, `${origin}/missing`)).toEqual([
      {
        state: 'fail',
        text: expect.stringMatching(/^broken: .*answered 404/),
        where: 'line 2',
        url: `${origin}/missing`,
      },
    ]);
    expect(reachOf(result, `${origin}/gone`)[0]?.state).toBe('fail');
    expect(reachOf(result, `${origin}/ok`)).toEqual([]);
    expect(reachOf(result, `${origin}/moved`)).toEqual([]);
    expect(reachOf(result, `${origin}/down`)).toEqual([
      expect.objectContaining({ state: 'warn', text: expect.stringMatching(/answered 503/) }),
    ]);
    // HEAD, no body asked for; a broken link is asked again with GET before it is called broken.
    expect(seen.filter((s) => s.endsWith(' /ok'))).toEqual(['HEAD /ok', 'HEAD /ok']);
    expect(seen.filter((s) => s.endsWith(' /missing'))).toEqual(['HEAD /missing', 'GET /missing']);
    expect(result.summary).toMatch(/^5 link\(s\), 5 distinct: 2 broken, \d+ to look at$/);
  });

  it('a link to a good page is ok', async () => {
    const html = `<a href="${origin}/ok">a</a>`;
    // The local server is http: with its warning set aside, nothing is said.
    const result = await checkLinks(html, local);
    expect(result.findings.map((f) => f.text)).toEqual(['not https: the link is sent in the clear']);
    expect(result.state).toBe('warn');
  });

  it('falls back to GET when the server refuses HEAD (405), and reads no body', async () => {
    const result = await checkLinks(links(`${origin}/no-head`), local);
    expect(reachOf(result, `${origin}/no-head`)).toEqual([]);
    expect(seen).toEqual(['HEAD /no-head', 'GET /no-head']);
  });

  it('calls a link broken on GET’s word only: HEAD 404 then GET 200 is fine; after 429 it does not ask again', async () => {
    const result = await checkLinks(links(`${origin}/head-404`, `${origin}/busy`), { ...local, concurrency: 1 });
    expect(reachOf(result, `${origin}/head-404`)).toEqual([]);
    expect(reachOf(result, `${origin}/busy`)).toEqual([
      expect.objectContaining({ state: 'warn', text: expect.stringMatching(/answered 429/) }),
    ]);
    expect(seen).toEqual(['HEAD /head-404', 'GET /head-404', 'HEAD /busy']);
  });

  it('asks each distinct URL once, fragments aside', async () => {
    await checkLinks(links(`${origin}/ok`, `${origin}/ok#frag`, `${origin}/ok`), local);
    expect(seen).toEqual(['HEAD /ok']);
  });

  it('a server that does not answer hits the time limit: warn, and the total limit leaves the rest unchecked', async () => {
    const started = Date.now();
    const result = await checkLinks(links(`${origin}/slow/1`, `${origin}/slow/2`, `${origin}/slow/3`), {
      ...local,
      timeoutMs: 400,
      totalTimeoutMs: 700,
      concurrency: 1,
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(3_000);
    expect(reachOf(result, `${origin}/slow/1`)).toEqual([
      expect.objectContaining({ state: 'warn', text: 'did not answer within 0.4 s' }),
    ]);
    for (const n of [2, 3]) {
      expect(reachOf(result, `${origin}/slow/${n}`)).toEqual([
        expect.objectContaining({ state: 'unchecked', text: expect.stringMatching(/time limit of the whole check/) }),
      ]);
    }
    expect(result.state).toBe('warn');
  });

  it('a link with bad syntax fails without any request', async () => {
    const bad = [`${origin.replace('http:', 'http')}/typo`, `${origin}/a story`, '/relative'];
    const result = await checkLinks(links(...bad), local);
    expect(result.state).toBe('fail');
    for (const href of bad) expect(about(result, href).map((f) => f.state)).toEqual(['fail']);
    expect(seen).toEqual([]);
  });

  it('with allowPrivate false a 127.0.0.1 link is unchecked, with the policy’s reason, and not fetched', async () => {
    const result = await checkLinks(links(`${origin}/ok`), { ...local, allowPrivate: false });
    expect(reachOf(result, `${origin}/ok`)).toEqual([
      expect.objectContaining({
        state: 'unchecked',
        text: expect.stringMatching(
          /127\.0\.0\.1 is not public \(loopback\): refused \(ALLOW_PRIVATE_URLS=true allows it\)/,
        ),
      }),
    ]);
    expect(seen).toEqual([]);
  });

  it('offline (every lookup fails with ENOTFOUND): unchecked, in one line, never fail', async () => {
    let lookups = 0;
    const offline: Resolver = async (host) => {
      lookups++;
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const result = await checkLinks(
      links('https://news.example.com/a', 'https://other.example.org/b', 'https://news.example.com/c'),
      { ...local, resolve: offline },
    );
    expect(lookups).toBe(3);
    expect(result.state).toBe('unchecked');
    expect(result.findings).toEqual([{ state: 'unchecked', text: expect.stringMatching(/reaches no network/) }]);
  });

  it('a host that does not exist, when others resolve, is a broken link', async () => {
    const resolve: Resolver = async (host) => {
      if (host === 'dispatch.test') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    };
    const port = new URL(origin).port;
    const result = await checkLinks(links(`http://dispatch.test:${port}/ok`, 'https://dead.test/story'), {
      ...local,
      resolve,
    });
    expect(reachOf(result, `http://dispatch.test:${port}/ok`)).toEqual([]);
    expect(about(result, 'https://dead.test/story')).toEqual([
      expect.objectContaining({ state: 'fail', text: expect.stringMatching(/^broken: .*ENOTFOUND/) }),
    ]);
  });

  it('never fetches the per-recipient links of the skip list', async () => {
    const unsubscribe = `${origin}/unsubscribe/tok-ana?x=1&y=2`;
    const html = links(`${origin}/ok`, unsubscribe.replace(/&/g, '&amp;'), `${origin}/preferences/tok-ana`);
    const result = await checkLinks(html, { ...local, skip: [unsubscribe, `${origin}/preferences/tok-ana`] });
    expect(seen).toEqual(['HEAD /ok']);
    expect(result.findings.filter((f) => f.state !== 'warn')).toEqual([]);
  });

  it('fetches nothing with offline: true, and says so', async () => {
    const result = await checkLinks(links(`${origin}/missing`, `http//typo.example.com/`), { ...local, offline: true });
    expect(seen).toEqual([]);
    expect(result.state).toBe('fail');
    expect(result.findings.some((f) => f.state === 'unchecked' && /1 link\(s\) not fetched/.test(f.text))).toBe(true);
  });

  it('stops when its signal aborts: what is left is unchecked', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await checkLinks(links(`${origin}/ok`), { ...local, signal: controller.signal });
    expect(reachOf(result, `${origin}/ok`)).toEqual([expect.objectContaining({ state: 'unchecked' })]);
    expect(seen).toEqual([]);
  });
});

describe('checkImages', () => {
  function imgs(...tags: string[]): string {
    return ['<html><body>', ...tags, '</body></html>'].join('\n');
  }

  it('reports an image without alt, and says nothing of a good one', async () => {
    const result = await checkImages(
      imgs(
        `<img src="${origin}/small.png" width="10" height="10">`,
        `<img src="${origin}/small.png" alt="A loaf" width="10" height="auto">`,
      ),
      local,
    );
    expect(result.id).toBe('images');
    const alt = result.findings.filter((f) => /alt/.test(f.text));
    expect(alt).toEqual([expect.objectContaining({ state: 'warn', url: `${origin}/small.png`, where: 'line 2' })]);
    // Fetched once for both.
    expect(seen).toEqual(['GET /small.png']);
    expect(reachOf(result, `${origin}/small.png`).filter((f) => !/alt/.test(f.text))).toEqual([]);
  });

  it('an image over 1 MB is reported with its size, also when the server does not say its length', async () => {
    const result = await checkImages(
      imgs(
        `<img src="${origin}/big.png" alt="big" width="10" height="10">`,
        `<img src="${origin}/streamed.png" alt="streamed" width="10" height="10">`,
      ),
      local,
    );
    expect(reachOf(result, `${origin}/big.png`)).toEqual([
      expect.objectContaining({ state: 'warn', text: '1.4 MB: over 1 MB', where: 'line 2' }),
    ]);
    expect(reachOf(result, `${origin}/streamed.png`)).toEqual([
      expect.objectContaining({ state: 'warn', text: 'over 1 MB', where: 'line 3' }),
    ]);
    expect(result.state).toBe('warn');
  });

  it('a missing image is broken, and a page served as an image is worth a look', async () => {
    const result = await checkImages(
      imgs(
        `<img src="${origin}/none.png" alt="x" width="1" height="1">`,
        `<img src="${origin}/page.png" alt="y" width="1" height="1">`,
      ),
      local,
    );
    expect(reachOf(result, `${origin}/none.png`)).toEqual([
      expect.objectContaining({ state: 'fail', text: expect.stringMatching(/^broken image: .*404/) }),
    ]);
    expect(reachOf(result, `${origin}/page.png`)).toEqual([
      expect.objectContaining({ state: 'warn', text: 'not an image: the server sent text/html' }),
    ]);
    expect(result.state).toBe('fail');
  });

  it('offline: the attributes are still checked, the sizes are unchecked in one line', async () => {
    const offline: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const result = await checkImages(
      imgs(
        '<img src="https://news.example.com/a.png" alt="a" width="600" height="auto">',
        '<img src="https://news.example.com/b.png" width="600" height="auto">',
      ),
      { ...local, resolve: offline },
    );
    expect(result.findings.map((f) => f.state).sort()).toEqual(['unchecked', 'warn']);
    expect(result.findings.find((f) => f.state === 'unchecked')?.text).toMatch(/sizes not checked/);
    expect(result.state).toBe('warn');
  });
});
