import { DispatchError } from '../src/errors.js';
import { safeHttpUrl } from '../src/ingest/safe-url.js';

export interface FetchedPage {
  bytes: Uint8Array;
  /** The charset the Content-Type header declares, if any. */
  charset?: string;
  contentType: string;
  /** The URL after redirects. */
  url: string;
}

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * GETs an http(s) URL with a time limit and a size limit, reading the body as it streams so that
 * an endless or huge response is cut off at `maxBytes` instead of filling memory.
 */
export async function fetchUrl(target: string, options: FetchOptions): Promise<FetchedPage> {
  const url = safeHttpUrl(target);
  if (!url) throw new DispatchError('E_URL_INVALID', `not an http(s) URL: "${target}"`);
  const signal = AbortSignal.timeout(options.timeoutMs);
  const timedOut = () =>
    new DispatchError('E_FETCH_TIMEOUT', `${url} did not answer within ${options.timeoutMs} ms (FETCH_TIMEOUT_MS)`);
  let response: Response;
  try {
    response = await fetch(url, {
      signal,
      redirect: 'follow',
      headers: { 'user-agent': 'Dispatch/0.1 (+newsletter)', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
  } catch (cause) {
    if (signal.aborted) throw timedOut();
    const reason = (cause as { cause?: { code?: string; message?: string } }).cause;
    const detail = reason?.code ?? reason?.message ?? (cause as Error).message;
    throw new DispatchError('E_FETCH_FAILED', `${url} could not be fetched (${detail})`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new DispatchError('E_FETCH_STATUS', `${url} answered ${response.status} ${response.statusText}`.trim());
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > options.maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new DispatchError(
      'E_INPUT_TOO_LARGE',
      `${url} is ${declared} bytes, over the ${options.maxBytes}-byte limit`,
    );
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = response.body?.getReader();
    while (reader) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => {});
        throw new DispatchError('E_INPUT_TOO_LARGE', `${url} is over the ${options.maxBytes}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof DispatchError) throw cause;
    if (signal.aborted) throw timedOut();
    throw new DispatchError('E_FETCH_FAILED', `${url}: the response broke off (${(cause as Error).message})`, {
      cause,
    });
  }
  const contentType = response.headers.get('content-type') ?? '';
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1];
  return { bytes: Buffer.concat(chunks), charset, contentType, url: response.url || url };
}
