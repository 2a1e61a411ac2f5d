/** The time limit and the largest answer of every call to a network's API. */
export interface ApiLimits {
  /** Time limit of one call, the whole answer read. */
  timeoutMs: number;
  /** Largest answer read, in bytes; a larger one fails the call. */
  maxBytes: number;
}

/** Statuses whose response has no body (the Fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

async function readLimited(response: Response, maxBytes: number): Promise<Buffer<ArrayBuffer>> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`the answer is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`the answer is over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The publishers' one way to call a network's API: `fetch` with a time limit on the whole call
 * (the answer read to its end) and a size limit on the answer, which is read whole before it is
 * handed back. A call over either limit rejects.
 */
export function boundedFetch(limits: ApiLimits): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const deadline = AbortSignal.timeout(limits.timeoutMs);
    let response: Response;
    let body: Buffer<ArrayBuffer>;
    try {
      response = await fetch(request, { signal: AbortSignal.any([request.signal, deadline]) });
      body = await readLimited(response, limits.maxBytes);
    } catch (error) {
      if (deadline.aborted) throw new Error(`no answer within ${limits.timeoutMs} ms`);
      throw error;
    }
    const headers = new Headers(response.headers);
    // The body handed on is decoded and whole: its old encoding and length no longer describe it.
    headers.delete('content-encoding');
    headers.delete('content-length');
    return new Response(NULL_BODY.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}

/**
 * A network's message, or an error's with those of its causes (`fetch failed: connect
 * ECONNREFUSED ...`), as one line of at most `max` characters.
 */
export function oneLine(value: unknown, max = 300): string {
  const parts: string[] = [];
  let current: unknown = value;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.some((part) => part.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  const text = parts
    .join(': ')
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
