import { fieldValue, type HeaderField, headerFields } from './header-fields.js';

/**
 * A small MIME reader for reports that come back, bounded in every direction. Not mailparser:
 * its simpleParser folds message/delivery-status into the text body unless told otherwise, and
 * merges an inline message/rfc822 part (the original message of a complaint report, where its
 * Message-ID is) into the body too, so the parts a report is made of are gone. Here a message is
 * a tree of parts; an attached message (message/rfc822) is a leaf, read further only by the one
 * that wants its headers.
 *
 * Text is handled as a "binary string" (one character per byte, latin1) until a caller decodes
 * what it needs as UTF-8: boundaries and header names are ASCII, and no byte is lost on the way.
 */

export interface MimeLimits {
  /** Bytes read of a message; the rest is dropped. */
  maxBytes: number;
  /** Parts read in the whole tree. */
  maxParts: number;
  /** multipart inside multipart, at most this deep. */
  maxDepth: number;
  /** Bytes of one part's header block that are read. */
  maxHeaderBytes: number;
}

/**
 * @defaultValue 2 MiB (what `dispatch bounces` accepts), 200 parts, 8 levels, 64 KiB of headers
 * per part. A real report has 3 to 8 parts, 3 levels, a few KiB of headers.
 */
export const MIME_LIMITS: MimeLimits = {
  maxBytes: 2 * 1024 * 1024,
  maxParts: 200,
  maxDepth: 8,
  maxHeaderBytes: 64 * 1024,
};

export interface MimePart {
  headers: HeaderField[];
  /** Lowercase `type/subtype`; text/plain when missing or malformed (RFC 2045 section 5.2). */
  type: string;
  /** Content-Type parameters, names lowercase, values unquoted. */
  params: Record<string, string>;
  /** The body as sent (still transfer-encoded), a binary string; empty for a multipart. */
  body: string;
  /** Content-Transfer-Encoding, lowercase. */
  encoding: string;
  parts: MimePart[];
}

export interface MimeMessage {
  root: MimePart;
  /** True when a limit cut something off. */
  truncated: boolean;
}

/** The bytes as a binary string; a JavaScript string is taken as its UTF-8 bytes. */
export function binaryString(raw: Uint8Array | string): string {
  return typeof raw === 'string'
    ? Buffer.from(raw, 'utf8').toString('latin1')
    : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
}

/** A binary string read as UTF-8 (bytes that are not UTF-8 become U+FFFD). */
export function utf8(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('utf8');
}

/** Header block and body: they part at the first empty line (RFC 5322 section 2.1). */
export function splitHead(text: string, maxHeaderBytes = MIME_LIMITS.maxHeaderBytes): { head: string; body: string } {
  if (text.startsWith('\n') || text.startsWith('\r\n')) return { head: '', body: text.slice(text.indexOf('\n') + 1) };
  const lf = text.indexOf('\n\n');
  const crlf = text.indexOf('\n\r\n');
  const end = lf === -1 ? crlf : crlf === -1 ? lf : Math.min(lf, crlf);
  if (end === -1) return { head: text.slice(0, maxHeaderBytes), body: '' };
  const bodyStart = end + (end === crlf ? 3 : 2);
  return { head: text.slice(0, Math.min(end, maxHeaderBytes)), body: text.slice(bodyStart) };
}

const TOKEN = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;
const PARAM = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
const MAX_PARAMS = 20;

/** `multipart/report; report-type=delivery-status; boundary="x"` as a type and its parameters. */
export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const semicolon = value.indexOf(';');
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  if (semicolon !== -1) {
    let count = 0;
    for (const [, name, raw] of value.slice(semicolon).matchAll(PARAM)) {
      if (++count > MAX_PARAMS) break;
      const key = (name as string).toLowerCase();
      const text = (raw as string).trim();
      params[key] = text.startsWith('"') ? text.slice(1, -1).replace(/\\(.)/g, '$1') : text;
    }
  }
  return { type: TOKEN.test(type) ? type : 'text/plain', params };
}

/** RFC 2046 allows 70 characters; a little more is tolerated, a megabyte is not. */
const MAX_BOUNDARY = 200;

/**
 * The bodies of the parts between `--boundary` lines (RFC 2046 section 5.1.1): the preamble and
 * epilogue are dropped, and the line break before each delimiter belongs to the delimiter. One
 * forward scan; a line that only starts like a delimiter is content.
 */
function splitMultipart(body: string, boundary: string, room: number): { parts: string[]; truncated: boolean } {
  const delimiter = `--${boundary}`;
  const find = (from: number): number => {
    if (from === 0 && body.startsWith(delimiter)) return 0;
    const i = body.indexOf(`\n${delimiter}`, Math.max(0, from - 1));
    return i === -1 ? -1 : i + 1;
  };
  const parts: string[] = [];
  let contentStart = -1;
  let from = 0;
  for (;;) {
    const at = find(from);
    if (at === -1) break;
    const after = at + delimiter.length;
    const lineEnd = body.indexOf('\n', after);
    const rest = body.slice(after, lineEnd === -1 ? body.length : lineEnd);
    const closing = rest.startsWith('--');
    if (!closing && !/^[ \t\r]*$/.test(rest)) {
      // Only starts like a delimiter ("--boundaryX"): content.
      from = after;
      continue;
    }
    if (contentStart !== -1) {
      if (parts.length >= room) return { parts, truncated: true };
      parts.push(body.slice(contentStart, Math.max(contentStart, at - 1)).replace(/\r$/, ''));
    }
    if (closing || lineEnd === -1) return { parts, truncated: false };
    contentStart = lineEnd + 1;
    from = contentStart;
  }
  // No closing delimiter (a report cut short): the last part runs to the end.
  if (contentStart !== -1 && contentStart < body.length) {
    if (parts.length >= room) return { parts, truncated: true };
    parts.push(body.slice(contentStart));
  }
  return { parts, truncated: false };
}

/**
 * Reads a message into a tree of parts, within `limits`: what is past them is dropped and
 * `truncated` says so. Never throws on any input.
 */
export function readMime(raw: Uint8Array | string, limits: MimeLimits = MIME_LIMITS): MimeMessage {
  let text = binaryString(raw);
  let truncated = false;
  if (text.length > limits.maxBytes) {
    text = text.slice(0, limits.maxBytes);
    truncated = true;
  }
  let count = 0;
  const read = (source: string, depth: number): MimePart => {
    count++;
    const { head, body } = splitHead(source, limits.maxHeaderBytes);
    const headers = headerFields(head);
    const { type, params } = parseContentType(fieldValue(headers, 'content-type'));
    const encoding = (fieldValue(headers, 'content-transfer-encoding') ?? '7bit').toLowerCase();
    const part: MimePart = { headers, type, params, body, encoding, parts: [] };
    const boundary = params.boundary;
    if (!type.startsWith('multipart/') || !boundary || boundary.length > MAX_BOUNDARY) return part;
    part.body = '';
    if (depth >= limits.maxDepth) {
      truncated = true;
      return part;
    }
    const split = splitMultipart(body, boundary, limits.maxParts - count);
    if (split.truncated) truncated = true;
    for (const child of split.parts) {
      if (count >= limits.maxParts) {
        truncated = true;
        break;
      }
      part.parts.push(read(child, depth + 1));
    }
    return part;
  };
  return { root: read(text, 0), truncated };
}

/** A leaf's body with its transfer encoding undone (base64, quoted-printable), as a binary string. */
export function decodeBody(part: Pick<MimePart, 'body' | 'encoding'>): string {
  if (part.encoding === 'base64') {
    return Buffer.from(part.body.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1');
  }
  if (part.encoding === 'quoted-printable') {
    return (
      part.body
        // A soft line break, with the spaces before it. The look-behind makes each run of spaces be
        // tried once, from its start: without it a long run with no "=" after it is quadratic.
        .replace(/(?<![ \t])[ \t]*=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    );
  }
  return part.body;
}

/** The leaves under `part`, in order, not looking inside attached messages. */
export function leaves(part: MimePart): MimePart[] {
  if (part.parts.length === 0) return [part];
  return part.parts.flatMap(leaves);
}
