import type { CheckResult, CheckState, Finding } from '../src/checks/check.js';
import { worstState } from '../src/checks/check.js';
import {
  describeLines,
  distinctLinks,
  imageFindings,
  imageSourceSyntax,
  inventory,
  type LinkRules,
  linkFindings,
  linkSyntax,
} from '../src/checks/links-images.js';
import { isDispatchError } from '../src/errors.js';
import { type FetchOptions, FetchStatusError, FetchTooLargeError, fetchUrl, type Resolver } from './fetch-url.js';

export interface LinkCheckOptions {
  /** Fetch loopback and private addresses too (`ALLOW_PRIVATE_URLS`). */
  allowPrivate: boolean;
  /** Time limit of each request (a GET after a refused HEAD gets its own), never past the total one. @defaultValue 8000 */
  timeoutMs?: number;
  /** Time limit of the whole check: what is not done by then is `unchecked`. @defaultValue 20000 */
  totalTimeoutMs?: number;
  /** Requests at once. @defaultValue 4 */
  concurrency?: number;
  /** Per-recipient links (unsubscribe, preferences, confirm): never fetched, since they carry a token. @defaultValue [] */
  skip?: string[];
  /** `UTM_PARAMS`: links to SITE_URL's host should carry utm_* (see `utmProblem`). @defaultValue false */
  utm?: boolean;
  /** `SITE_URL`. */
  siteUrl?: string;
  /** Prefixes of Dispatch's own pages, linked without UTM on purpose (PUBLIC_URL, the archive). @defaultValue [] */
  ownPages?: string[];
  /** Fetch nothing (`dispatch check --offline`, the quick checks): reachability and sizes are `unchecked`. @defaultValue false */
  offline?: boolean;
  /**
   * Ends the check early: what is not done is `unchecked`. A request under way is not cut (the
   * fetcher takes no signal); its own time limit ends it.
   */
  signal?: AbortSignal;
  /** Resolves host names (tests: a resolver that fails every lookup stands for an offline machine). */
  resolve?: Resolver;
}

/** Images over this many bytes get a warning: mobile readers pay for every one, and some clients give up. */
export const IMAGE_MAX_BYTES = 1_000_000;

const DEFAULTS = { timeoutMs: 8_000, totalTimeoutMs: 20_000, concurrency: 4 };

/**
 * Failures that, when every request ends in one, say this machine reaches no network. One host
 * among many failing ENOTFOUND is still a dead link (see `reachOfError`).
 */
const OFFLINE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ENODATA',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
]);

/** What asking for one URL gave. */
interface Reach {
  state: CheckState;
  /** Unless ok: why, for a person. */
  text?: string;
  /** A DNS or network failure: the machine may be offline. */
  offline?: boolean;
  /** Images: the body's size (at most IMAGE_MAX_BYTES + a chunk) and type. */
  bytes?: number;
  contentType?: string;
  tooLarge?: { declared?: number };
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

function causeCode(error: unknown): string | undefined {
  return ((error as { cause?: { code?: unknown } }).cause?.code as string | undefined) ?? undefined;
}

/** What a failed fetch means for a link: broken (fail), worth a look (warn), or not known (unchecked). */
function reachOfError(error: unknown, timeoutMs: number, cut: boolean): Reach {
  if (error instanceof FetchStatusError) {
    const what = error.message;
    // RFC 9110: 404 and 410 say the page is not there (410: for good). Other answers may be a
    // server's mood or its bot defence (401, 403, 429) or an outage (5xx).
    return error.status === 404 || error.status === 410
      ? { state: 'fail', text: `broken: ${what}` }
      : { state: 'warn', text: what };
  }
  if (!isDispatchError(error)) throw error;
  switch (error.code) {
    case 'E_FETCH_TIMEOUT':
      return cut
        ? { state: 'unchecked', text: 'not checked: the time limit of the whole check ran out' }
        : { state: 'warn', text: `did not answer within ${seconds(timeoutMs)}` };
    case 'E_URL_BLOCKED':
      return { state: 'unchecked', text: `not checked: ${error.message}` };
    case 'E_URL_INVALID':
      return { state: 'fail', text: `broken: ${error.message}` };
    case 'E_FETCH_FAILED': {
      const code = causeCode(error);
      const offline = code !== undefined && OFFLINE_CODES.has(code);
      // ENOTFOUND: DNS says the name does not exist, which is a dead link if other hosts resolve.
      if (code === 'ENOTFOUND') return { state: 'fail', text: `broken: ${error.message}`, offline };
      return { state: 'warn', text: error.message, offline };
    }
    default:
      return { state: 'warn', text: error.message };
  }
}

/** The deadline of the whole check, and the limit of one request started now. */
interface Budget {
  deadline: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

function requestLimit(budget: Budget): { timeoutMs: number; cut: boolean } | null {
  if (budget.signal?.aborted) return null;
  const left = budget.deadline - Date.now();
  if (left <= 0) return null;
  return left < budget.timeoutMs ? { timeoutMs: left, cut: true } : { timeoutMs: budget.timeoutMs, cut: false };
}

const NOT_DONE: Reach = { state: 'unchecked', text: 'not checked: the time limit of the whole check ran out' };
const STOPPED: Reach = { state: 'unchecked', text: 'not checked: the check was stopped' };

/** Resolves with `fallback` once the signal aborts, else with the work's result. */
function untilStopped(work: Promise<Reach>, signal: AbortSignal | undefined): Promise<Reach> {
  if (!signal) return work;
  if (signal.aborted) return Promise.resolve(STOPPED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

type FetchBase = Pick<FetchOptions, 'allowPrivate' | 'resolve'>;

/**
 * Whether a link answers: HEAD first (no body), then GET when HEAD gets an error status. Servers
 * refuse HEAD with 405 or 501, and some with 403 or 404 while GET works; a broken link fails the
 * whole check (and so the send), so it is only called broken on GET's word. Not after 429: asking
 * again at once is what the server asked not to. The GET reads no body: a 2xx whose body passes
 * the 0-byte limit is an answer.
 */
async function probeLink(url: string, base: FetchBase, budget: Budget): Promise<Reach> {
  let limit = requestLimit(budget);
  if (!limit) return budget.signal?.aborted ? STOPPED : NOT_DONE;
  try {
    await fetchUrl(url, { ...base, timeoutMs: limit.timeoutMs, maxBytes: 0, method: 'HEAD' });
    return { state: 'ok' };
  } catch (error) {
    if (!(error instanceof FetchStatusError && error.status !== 429)) {
      return reachOfError(error, limit.timeoutMs, limit.cut);
    }
  }
  limit = requestLimit(budget);
  if (!limit) return budget.signal?.aborted ? STOPPED : NOT_DONE;
  try {
    await fetchUrl(url, { ...base, timeoutMs: limit.timeoutMs, maxBytes: 0, method: 'GET' });
    return { state: 'ok' };
  } catch (error) {
    if (isDispatchError(error, 'E_INPUT_TOO_LARGE')) return { state: 'ok' };
    return reachOfError(error, limit.timeoutMs, limit.cut);
  }
}

/** An image's size and type: a GET that stops once the body passes IMAGE_MAX_BYTES. */
async function probeImage(url: string, base: FetchBase, budget: Budget): Promise<Reach> {
  const limit = requestLimit(budget);
  if (!limit) return budget.signal?.aborted ? STOPPED : NOT_DONE;
  try {
    const page = await fetchUrl(url, { ...base, timeoutMs: limit.timeoutMs, maxBytes: IMAGE_MAX_BYTES });
    return { state: 'ok', bytes: page.bytes.byteLength, contentType: page.contentType };
  } catch (error) {
    if (error instanceof FetchTooLargeError) return { state: 'warn', tooLarge: { declared: error.declaredBytes } };
    const reach = reachOfError(error, limit.timeoutMs, limit.cut);
    return reach.state === 'fail' ? { ...reach, text: reach.text?.replace(/^broken:/, 'broken image:') } : reach;
  }
}

/** Runs `work` over `items`, `concurrency` at a time, keeping their order. */
async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, runner));
  return results;
}

/** The URL a request goes to: without its fragment, which never leaves the client. */
function requestUrl(href: string): string | null {
  try {
    const url = new URL(href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

/**
 * Asks for each distinct URL once, within the budget. Returns each one's reach, and whether every
 * request failed at the network (the machine is offline).
 */
async function reachAll(
  urls: readonly string[],
  options: LinkCheckOptions,
  probe: (url: string, base: FetchBase, budget: Budget) => Promise<Reach>,
): Promise<{ reach: Map<string, Reach>; offline: boolean }> {
  const budget: Budget = {
    deadline: Date.now() + (options.totalTimeoutMs ?? DEFAULTS.totalTimeoutMs),
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    signal: options.signal,
  };
  const base: FetchBase = { allowPrivate: options.allowPrivate, resolve: options.resolve };
  const unique = [...new Set(urls)];
  const results = await pool(unique, options.concurrency ?? DEFAULTS.concurrency, (url) =>
    untilStopped(probe(url, base, budget), options.signal),
  );
  const reach = new Map(unique.map((url, i) => [url, results[i] as Reach]));
  const asked = results.filter((r) => r !== NOT_DONE && r !== STOPPED && !r.text?.startsWith('not checked'));
  return { reach, offline: asked.length > 0 && asked.every((r) => r.offline) };
}

function rulesOf(options: LinkCheckOptions): LinkRules {
  return { utm: options.utm, siteUrl: options.siteUrl, ownPages: options.ownPages, skip: options.skip };
}

const OFFLINE_TEXT = 'not checked: this machine reaches no network (no host name resolves)';

function stateOf(findings: readonly Finding[]): CheckState {
  return worstState(findings.map((f) => f.state));
}

function count(findings: readonly Finding[], state: Finding['state']): number {
  return findings.filter((f) => f.state === state).length;
}

/** "2 broken, 1 to look at, 3 not checked", or the words for none. */
function tally(findings: readonly Finding[], fail: string): string {
  const parts = [
    [count(findings, 'fail'), fail],
    [count(findings, 'warn'), 'to look at'],
    [count(findings, 'unchecked'), 'not checked'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, word]) => `${n} ${word}`);
  return parts.join(', ');
}

/**
 * The message's links: each one's syntax, https and UTM (no network), then whether each distinct
 * http(s) link answers, through the fetch policy. 404/410, a dead host name or a bad URL are
 * `fail` (broken); 5xx, other 4xx and time-outs `warn`; a link the policy refuses, or one the
 * total time limit left, `unchecked`. When every request fails at DNS or the network, the machine
 * is offline: one `unchecked` line says so, never an error. Per-recipient links (`skip`) are
 * checked for syntax, never fetched.
 */
export async function checkLinks(html: string, options: LinkCheckOptions): Promise<CheckResult> {
  const { links } = inventory(html);
  const distinct = distinctLinks(links);
  const findings = linkFindings(links, rulesOf(options));
  const skip = new Set(options.skip ?? []);
  const toFetch = distinct.filter(
    ({ href }) => !skip.has(href) && linkSyntax(href)?.state !== 'fail' && requestUrl(href) !== null,
  );
  const base = { id: 'links' as const, name: 'Links' };
  const total = `${links.length} link(s), ${distinct.length} distinct`;
  if (toFetch.length === 0 || options.offline) {
    const notFetched = toFetch.length > 0;
    if (notFetched) findings.push({ state: 'unchecked', text: `${toFetch.length} link(s) not fetched: offline check` });
    const problems = tally(findings, 'broken');
    return {
      ...base,
      state: stateOf(findings),
      summary: `${total}${problems ? `: ${problems}` : notFetched ? '' : ': all well-formed'}`,
      findings,
    };
  }
  const { reach, offline } = await reachAll(
    toFetch.map(({ href }) => requestUrl(href) as string),
    options,
    probeLink,
  );
  // Offline, the DNS failures are one line; what the policy refused still says why.
  if (offline) findings.push({ state: 'unchecked', text: OFFLINE_TEXT });
  for (const { href, lines } of toFetch) {
    const result = reach.get(requestUrl(href) as string);
    if (!result || result.state === 'ok' || (offline && result.offline)) continue;
    findings.push({ state: result.state, text: result.text ?? '', where: describeLines(lines), url: href });
  }
  const problems = tally(findings, 'broken');
  return {
    ...base,
    state: stateOf(findings),
    summary: `${total}${problems ? `: ${problems}` : ': all reachable'}`,
    findings,
  };
}

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/** The size of a data: URL's content, from its base64 length. */
function dataUrlBytes(src: string): number {
  const comma = src.indexOf(',');
  const payload = src.slice(comma + 1);
  return /;base64,/i.test(src.slice(0, comma + 1))
    ? Math.floor((payload.replace(/[^a-z0-9+/]/gi, '').length * 3) / 4)
    : payload.length;
}

/**
 * The message's images: alt text, width and height (no network; see `imageFindings`), then the
 * byte size of each distinct image through the fetch policy: over 1 MB is a warning, a missing
 * image (404/410) a failure, anything that is not an image a warning. Offline as for links.
 */
export async function checkImages(html: string, options: LinkCheckOptions): Promise<CheckResult> {
  const { images } = inventory(html);
  const findings = imageFindings(images);
  const bySrc = new Map<string, number[]>();
  for (const image of images) bySrc.set(image.src, [...(bySrc.get(image.src) ?? []), image.line]);
  const skip = new Set(options.skip ?? []);
  const toFetch: { src: string; lines: number[] }[] = [];
  for (const [src, lines] of bySrc) {
    if (/^data:image\//i.test(src)) {
      const bytes = dataUrlBytes(src);
      if (bytes > IMAGE_MAX_BYTES) {
        findings.push({
          state: 'warn',
          text: `${megabytes(bytes)}: over 1 MB`,
          where: describeLines(lines),
          url: 'data:',
        });
      }
    } else if (!skip.has(src) && imageSourceSyntax(src)?.state !== 'fail' && requestUrl(src)) {
      toFetch.push({ src, lines });
    }
  }
  const base = { id: 'images' as const, name: 'Images' };
  const total = `${images.length} image(s), ${bySrc.size} distinct`;
  if (toFetch.length === 0 || options.offline) {
    const notFetched = toFetch.length > 0;
    if (notFetched)
      findings.push({ state: 'unchecked', text: `${toFetch.length} image(s) not fetched: offline check` });
    const problems = tally(findings, 'broken');
    return { ...base, state: stateOf(findings), summary: `${total}${problems ? `: ${problems}` : ''}`, findings };
  }
  const { reach, offline } = await reachAll(
    toFetch.map(({ src }) => requestUrl(src) as string),
    options,
    probeImage,
  );
  if (offline) findings.push({ state: 'unchecked', text: OFFLINE_TEXT.replace('not checked', 'sizes not checked') });
  for (const { src, lines } of toFetch) {
    const result = reach.get(requestUrl(src) as string);
    if (!result || (offline && result.offline)) continue;
    const where = describeLines(lines);
    const add = (state: Finding['state'], text: string) => findings.push({ state, text, where, url: src });
    if (result.tooLarge) {
      const { declared } = result.tooLarge;
      add('warn', declared ? `${megabytes(declared)}: over 1 MB` : 'over 1 MB');
    } else if (result.state !== 'ok') {
      add(result.state, result.text ?? '');
    } else if (result.contentType && !/^image\//i.test(result.contentType)) {
      add('warn', `not an image: the server sent ${result.contentType.split(';')[0]}`);
    }
  }
  const problems = tally(findings, 'broken');
  return {
    ...base,
    state: stateOf(findings),
    summary: `${total}${problems ? `: ${problems}` : ': all under 1 MB'}`,
    findings,
  };
}
