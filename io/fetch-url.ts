import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type Duplex, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import { DispatchError } from '../src/errors.js';
import { type AddressVerdict, classifyAddress, reachAllowed } from '../src/net/address-policy.js';
import { parseRetryAfter } from '../src/net/retry-after.js';
import { blockedMessage, type CheckedUrl, checkUrl } from '../src/net/url-policy.js';

export interface FetchedPage {
  bytes: Uint8Array;
  /** The charset the Content-Type header declares, if any. */
  charset?: string;
  contentType: string;
  /** The URL after redirects. */
  url: string;
  /** The IP address the final response came from: always one the address policy allowed. */
  address: string;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export interface FetchOptions {
  /** Time limit for the whole fetch: DNS, every redirect, the body. */
  timeoutMs: number;
  /** Size limit of the body, after content decoding. */
  maxBytes: number;
  /** Allow loopback, private, link-local and unique-local addresses (`ALLOW_PRIVATE_URLS`). */
  allowPrivate: boolean;
  /** Resolves host names. @defaultValue `dns.lookup(host, { all: true })` */
  resolve?: Resolver;
  /** Judges each address before it is connected to. @defaultValue {@link classifyAddress} */
  classify?: (address: string) => AddressVerdict;
  /** HEAD asks for the headers only: the result's `bytes` is empty. @defaultValue 'GET' */
  method?: 'GET' | 'HEAD';
}

/** A non-2xx answer. 429 and 503 carry the wait their Retry-After header asks for, if any. */
export class FetchStatusError extends DispatchError {
  readonly status: number;
  readonly retryAfterMs?: number;

  constructor(status: number, message: string, retryAfterMs?: number) {
    // RFC 9110: 5xx and 429 may pass on their own; any other 4xx will answer the same again.
    super('E_FETCH_STATUS', message, { transient: status >= 500 || status === 429 });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A body over the byte limit: `declaredBytes` when the server's Content-Length said so before any was read. */
export class FetchTooLargeError extends DispatchError {
  readonly declaredBytes?: number;

  constructor(message: string, declaredBytes?: number) {
    super('E_INPUT_TOO_LARGE', message);
    this.declaredBytes = declaredBytes;
  }
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Failures of the network or a server that may pass: worth a retry. The rest are permanent. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);
const HEADERS = {
  'user-agent': 'Dispatch/0.1 (+newsletter)',
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
};

const defaultResolve: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

function networkError(url: string, cause: unknown): DispatchError {
  const code = (cause as { code?: string }).code;
  const detail = code ?? (cause as Error).message;
  return new DispatchError('E_FETCH_FAILED', `${url} could not be fetched (${detail})`, {
    cause,
    transient: code !== undefined && TRANSIENT_CODES.has(code),
  });
}

/** Rejects with the signal's reason once it aborts: DNS lookups cannot be cancelled themselves. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The addresses to connect to for a checked URL: its literal address, or every address its host
 * resolves to. If any of them is refused the URL is refused: a name that answers both public and
 * private addresses is misconfigured or hostile, and which one a connection would use must not
 * decide whether the fetch is safe.
 */
async function addressesFor(
  target: CheckedUrl,
  options: FetchOptions,
  signal: AbortSignal,
): Promise<ResolvedAddress[]> {
  if (target.address) return [{ address: target.address, family: target.address.includes(':') ? 6 : 4 }];
  let resolved: ResolvedAddress[];
  try {
    resolved = await untilAborted((options.resolve ?? defaultResolve)(target.host), signal);
  } catch (cause) {
    if (signal.aborted) throw cause;
    throw networkError(target.url.href, cause);
  }
  if (resolved.length === 0) throw networkError(target.url.href, Object.assign(new Error(), { code: 'ENOTFOUND' }));
  const classify = options.classify ?? classifyAddress;
  for (const { address } of resolved) {
    const verdict = classify(address);
    if (!reachAllowed(verdict, options.allowPrivate)) {
      throw new DispatchError('E_URL_BLOCKED', blockedMessage(target.host, address, verdict, options.allowPrivate));
    }
  }
  return resolved;
}

/**
 * One GET (or HEAD) to exactly the addresses given. The request keeps the URL's host name (Host header,
 * TLS SNI and certificate check); its `lookup` answers with the checked addresses, so no second
 * DNS answer can send the connection elsewhere.
 */
function get(
  target: CheckedUrl,
  addresses: ResolvedAddress[],
  signal: AbortSignal,
  method: 'GET' | 'HEAD',
): Promise<{ response: IncomingMessage; address: string }> {
  const lookup: LookupFunction = (_host, lookupOptions, callback) => {
    const first = addresses[0] as ResolvedAddress;
    if (lookupOptions.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  };
  const { url } = target;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request({
      protocol: url.protocol,
      hostname: target.host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers: HEADERS,
      lookup,
      signal,
      // A fresh connection per request: a pooled socket would skip the lookup above.
      agent: false,
    });
    // Read now: once the body is read and the socket closed, remoteAddress is gone.
    req.on('response', (response) => resolve({ response, address: response.socket.remoteAddress ?? '' }));
    req.on('error', reject);
    req.end();
  });
}

function decoders(url: string, header: string | undefined): Duplex[] {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  // Content-Encoding lists codings in the order they were applied: undo them last first.
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate') return createUnzip();
    if (coding === 'br') return createBrotliDecompress();
    throw new DispatchError('E_FETCH_FAILED', `${url} sent a content-encoding Dispatch cannot read: "${coding}"`);
  });
}

/** Counts bytes through a stream and stops it once they pass the limit. */
function limit(maxBytes: number, tooLarge: () => DispatchError): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.byteLength;
      done(size > maxBytes ? tooLarge() : null, chunk);
    },
  });
}

/** Reads the body, decoded, cut off at `maxBytes` of encoded and of decoded bytes (a zip bomb stops there). */
async function readBody(response: IncomingMessage, url: string, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new FetchTooLargeError(`${url} is over the ${maxBytes}-byte limit`);
  const declared = Number(response.headers['content-length']);
  if (declared > maxBytes) {
    response.destroy();
    throw new FetchTooLargeError(`${url} is ${declared} bytes, over the ${maxBytes}-byte limit`, declared);
  }
  const steps = decoders(url, response.headers['content-encoding']);
  const chunks: Buffer[] = [];
  try {
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    await pipeline([response, limit(maxBytes, tooLarge), ...steps, limit(maxBytes, tooLarge), collect]);
  } catch (cause) {
    if (cause instanceof DispatchError) throw cause;
    const code = (cause as { code?: string }).code ?? '';
    // zlib's codes start Z_ (Z_DATA_ERROR, Z_BUF_ERROR for a cut-off stream); brotli's ERR__ERROR_FORMAT_...
    if (code.startsWith('Z_') || code.startsWith('ERR__')) {
      throw new DispatchError('E_FETCH_FAILED', `${url}: the body could not be decoded (${code})`, { cause });
    }
    throw cause;
  }
  return Buffer.concat(chunks);
}

/**
 * GETs an http(s) URL under the address policy: every hop's scheme and address are checked, the
 * connection goes to exactly the address checked, and redirects (at most 5) are followed here, each
 * checked again. A time limit covers the whole fetch; the body is read as it streams, decoded
 * (gzip, deflate, br), and cut off at `maxBytes` instead of filling memory.
 *
 * Failures are DispatchErrors: E_URL_INVALID and E_URL_BLOCKED (permanent), E_FETCH_TIMEOUT
 * (transient), E_FETCH_STATUS (a {@link FetchStatusError}: transient for 5xx and 429),
 * E_FETCH_FAILED (transient for refused or reset connections and DNS trouble, permanent for a name
 * that does not exist), E_INPUT_TOO_LARGE.
 */
export async function fetchUrl(target: string, options: FetchOptions): Promise<FetchedPage> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const { signal } = controller;
  let current = target;
  let from: string | undefined;
  try {
    for (let hop = 0; ; hop++) {
      let checked: CheckedUrl;
      let addresses: ResolvedAddress[];
      try {
        checked = checkUrl(current, options);
        addresses = await addressesFor(checked, options, signal);
      } catch (error) {
        if (from && error instanceof DispatchError) {
          throw new DispatchError(error.code, `${error.message} (a redirect from ${from})`, {
            cause: error,
            transient: error.transient,
          });
        }
        throw error;
      }
      const url = checked.url.href;
      let response: IncomingMessage;
      let address: string;
      try {
        ({ response, address } = await get(checked, addresses, signal, options.method ?? 'GET'));
      } catch (cause) {
        if (signal.aborted) throw cause;
        throw networkError(url, cause);
      }
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECTS.has(status) && location) {
        response.destroy();
        if (hop === MAX_REDIRECTS) {
          throw new DispatchError('E_FETCH_FAILED', `${target} redirects more than ${MAX_REDIRECTS} times`);
        }
        from = url;
        try {
          current = new URL(location, checked.url).href;
        } catch {
          throw new DispatchError('E_URL_INVALID', `${url} redirects to a malformed URL: "${location}"`);
        }
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        const retryAfterMs =
          status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], new Date()) : undefined;
        const wait = retryAfterMs === undefined ? '' : ` (Retry-After: ${Math.ceil(retryAfterMs / 1000)} s)`;
        throw new FetchStatusError(
          status,
          `${url} answered ${status} ${response.statusMessage ?? ''}`.trim() + wait,
          retryAfterMs,
        );
      }
      let bytes: Buffer;
      try {
        if (options.method === 'HEAD') {
          // A HEAD answer has no body, whatever its Content-Length says the GET one would be.
          response.resume();
          bytes = Buffer.alloc(0);
        } else {
          bytes = await readBody(response, url, options.maxBytes);
        }
      } catch (cause) {
        if (cause instanceof DispatchError || signal.aborted) throw cause;
        throw new DispatchError('E_FETCH_FAILED', `${url}: the response broke off (${(cause as Error).message})`, {
          cause,
          transient: true,
        });
      }
      const contentType = response.headers['content-type'] ?? '';
      const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1];
      return { bytes, charset, contentType, url, address };
    }
  } catch (error) {
    if (signal.aborted && !(error instanceof DispatchError)) {
      throw new DispatchError(
        'E_FETCH_TIMEOUT',
        `${current} did not answer within ${options.timeoutMs} ms (FETCH_TIMEOUT_MS)`,
        { transient: true },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
