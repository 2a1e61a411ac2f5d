import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of a request body a server reads, for how long, and of which media types. */
export interface BodyLimits {
  /** Largest body accepted, in bytes; a longer one is refused with 413. */
  maxBytes: number;
  /** Longest the whole body may take to arrive, in milliseconds; a slower one is refused with 408. */
  timeoutMs: number;
  /**
   * Media types accepted (without parameters, lowercase), e.g. `application/x-www-form-urlencoded`;
   * any other Content-Type, or none, is refused with 415. @defaultValue any type
   */
  types?: readonly string[];
}

/** A body read whole, or why it was refused (the status and a one-line reason to answer with). */
export type BodyResult = { ok: true; text: string } | { ok: false; status: 408 | 413 | 415; reason: string };

/** The media type of a Content-Type header, lowercase and without parameters (`; charset=...`). */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The one reader of request bodies: the whole body as UTF-8 text, or a refusal. A declared
 * Content-Length over the limit is refused before any byte is read; a chunked body is counted as
 * it arrives and refused at the first byte over. On a refusal the request stops being read: answer
 * it with {@link refuseBody}, which closes the connection so the rest is never read.
 */
export async function readBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyResult> {
  if (limits.types) {
    const type = mediaType(req.headers['content-type']);
    if (!limits.types.includes(type)) {
      return { ok: false, status: 415, reason: `Content-Type must be ${limits.types.join(' or ')} (got "${type}")` };
    }
  }
  const tooLarge = { ok: false, status: 413, reason: `the body is larger than ${limits.maxBytes} bytes` } as const;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limits.maxBytes) return tooLarge;

  return await new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      if (!result.ok) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge);
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    // A client gone mid-body: nothing to answer, but the handler must not wait forever.
    const onError = () => finish({ ok: false, status: 408, reason: 'the client went away before the body ended' });
    const timer = setTimeout(
      () => finish({ ok: false, status: 408, reason: `the body did not arrive within ${limits.timeoutMs} ms` }),
      limits.timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

/**
 * Answers a refused request (a refused body, or a server's own refusal such as a wrong Host) with
 * its status and reason as plain text, then closes the connection, so the rest of the body is
 * never kept (keep-alive would have to drain it all first). The unread bytes are discarded for at
 * most a second before the socket is destroyed: closing at once, with bytes unread, makes the
 * kernel reset the connection, and the client could lose the answer.
 */
export function refuseBody(
  res: ServerResponse,
  refusal: { status: number; reason: string },
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(refusal.status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  const socket = res.socket;
  res.end(`${refusal.reason}\n`, () => {
    if (!socket || socket.destroyed) return;
    socket.end();
    res.req.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
