import { createHash, randomBytes } from 'node:crypto';
import { type FakeAnswer, type FakeServer, type ReceivedRequest, startFakeServer } from './fake-x.js';

/** A record as the fake PDS holds it. */
export interface StoredRecord {
  uri: string;
  cid: string;
  rkey: string;
  value: Record<string, unknown>;
}

/** A blob as uploaded. */
export interface StoredBlob {
  cid: string;
  mimeType: string;
  size: number;
}

/**
 * A failure the next createRecord meets. `drop-after-store` stores the record and closes the
 * connection unanswered (a crash after the PDS's success).
 */
export type BlueskyFailure = 'rate-limited' | 'server-error' | 'drop-after-store';

export interface FakeBluesky extends FakeServer {
  did: string;
  handle: string;
  records: Map<string, StoredRecord>;
  blobs: StoredBlob[];
  /** Handles resolveHandle knows, besides the account's own. */
  handles: Map<string, string>;
  failNext(...failures: BlueskyFailure[]): void;
  /** The current access token answers 400 ExpiredToken from now on (refreshSession still works). */
  expireAccessToken(): void;
  /** The access and the refresh token both answer ExpiredToken: only a fresh login helps. */
  expireSession(): void;
  /** Every createSession answers 401 AuthenticationRequired, whatever the password. */
  refuseLogins: boolean;
  /** How many times each session call was made. */
  count(nsid: string): number;
  /** The Unix time (seconds) a scripted 429 names in ratelimit-reset. */
  rateLimitReset: number;
}

const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const ISO_DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** A CIDv1 (sha2-256) in base32, `b...`: codec 0x71 dag-cbor for records, 0x55 raw for blobs. */
export function cidOf(bytes: Uint8Array, codec: 0x71 | 0x55): string {
  const digest = createHash('sha256').update(bytes).digest();
  return `b${base32(Buffer.concat([Buffer.from([0x01, codec, 0x12, 0x20]), digest]))}`;
}

const xrpcError = (status: number, error: string, message: string, headers?: Record<string, string>): FakeAnswer => ({
  status,
  headers,
  json: { error, message },
});

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * A local stand-in for a Bluesky PDS implementing the XRPC calls the publisher makes:
 * com.atproto.server.createSession / refreshSession / getSession, com.atproto.identity.resolveHandle,
 * com.atproto.repo.uploadBlob / createRecord / getRecord. It checks each call's method, path and
 * Bearer token, and a post record's shape: `$type`, `text` (at most 300 graphemes, 3,000 bytes),
 * `createdAt` as an ISO datetime, facets whose byte ranges slice exactly their link, tag or
 * mention from the text's UTF-8 bytes, an external embed whose thumb is a blob ref of an uploaded
 * blob, replies naming stored records by URI and CID, and a record key that is a valid TID.
 * It answers as a PDS does, with XRPC error bodies `{ error, message }`; a createRecord at a taken
 * key answers 500 InternalServerError, as the reference PDS does (bluesky-social/atproto#3718).
 */
export async function startFakeBluesky(account: { handle: string; password: string }): Promise<FakeBluesky> {
  const did = `did:plc:${base32(randomBytes(15))}`;
  const records = new Map<string, StoredRecord>();
  const blobs: StoredBlob[] = [];
  const handles = new Map<string, string>([[account.handle, did]]);
  const failures: BlueskyFailure[] = [];
  const counts = new Map<string, number>();
  const access = new Map<string, 'valid' | 'expired'>();
  const refresh = new Map<string, 'valid' | 'expired'>();
  const newToken = (kind: string) => `${kind}.${randomBytes(12).toString('hex')}`;

  function session(): { accessJwt: string; refreshJwt: string } {
    const accessJwt = newToken('access');
    const refreshJwt = newToken('refresh');
    access.set(accessJwt, 'valid');
    refresh.set(refreshJwt, 'valid');
    return { accessJwt, refreshJwt };
  }

  function bearer(request: ReceivedRequest, tokens: Map<string, 'valid' | 'expired'>): FakeAnswer | undefined {
    const match = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    const state = match ? tokens.get(match[1] as string) : undefined;
    if (!state) return xrpcError(401, 'AuthenticationRequired', 'Authentication Required');
    if (state === 'expired') return xrpcError(400, 'ExpiredToken', 'Token has expired');
    return undefined;
  }

  function json(request: ReceivedRequest): Record<string, unknown> | undefined {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return undefined;
    try {
      const value = JSON.parse(request.body.toString('utf8')) as unknown;
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Why a post record is not a valid app.bsky.feed.post, or undefined. */
  function recordProblem(record: Record<string, unknown>): string | undefined {
    const { $type, text, createdAt, facets, embed, reply, langs, ...rest } = record;
    if (Object.keys(rest).length > 0) return `unexpected fields: ${Object.keys(rest).join(', ')}`;
    if ($type !== 'app.bsky.feed.post') return 'Invalid $type';
    if (typeof text !== 'string') return 'Record/text must be a string';
    const bytes = Buffer.from(text, 'utf8');
    if ([...graphemes.segment(text)].length > 300 || bytes.length > 3000)
      return 'Record/text must not be longer than 300 graphemes';
    if (typeof createdAt !== 'string' || !ISO_DATETIME.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
      return 'Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)';
    }
    if (langs !== undefined && !Array.isArray(langs)) return 'Record/langs must be an array';
    if (facets !== undefined) {
      if (!Array.isArray(facets)) return 'Record/facets must be an array';
      let end = 0;
      for (const facet of facets as { index?: { byteStart?: number; byteEnd?: number }; features?: unknown[] }[]) {
        const { byteStart, byteEnd } = facet.index ?? {};
        if (!Number.isInteger(byteStart) || !Number.isInteger(byteEnd)) return 'facet index must be integers';
        const start = byteStart as number;
        const stop = byteEnd as number;
        if (start < end || stop <= start || stop > bytes.length)
          return `facet range ${start}-${stop} is out of order or out of the text`;
        end = stop;
        const slice = bytes.subarray(start, stop).toString('utf8');
        for (const feature of (facet.features ?? []) as {
          $type?: string;
          uri?: string;
          tag?: string;
          did?: string;
        }[]) {
          if (feature.$type === 'app.bsky.richtext.facet#link') {
            if (slice !== feature.uri && `https://${slice}` !== feature.uri)
              return `link facet "${slice}" is not ${feature.uri}`;
          } else if (feature.$type === 'app.bsky.richtext.facet#tag') {
            if (slice !== `#${feature.tag}`) return `tag facet "${slice}" is not #${feature.tag}`;
          } else if (feature.$type === 'app.bsky.richtext.facet#mention') {
            if (!feature.did?.startsWith('did:') || handles.get(slice.slice(1)) !== feature.did) {
              return `mention facet "${slice}" does not name ${feature.did}`;
            }
          } else {
            return `unknown facet feature ${feature.$type}`;
          }
        }
      }
    }
    if (embed !== undefined) {
      const { $type: embedType, external } = embed as { $type?: string; external?: Record<string, unknown> };
      if (embedType !== 'app.bsky.embed.external' || !external) return 'embed must be app.bsky.embed.external';
      const { uri, title, description, thumb, ...more } = external;
      if (Object.keys(more).length > 0) return `unexpected external fields: ${Object.keys(more)}`;
      if (typeof uri !== 'string' || typeof title !== 'string' || typeof description !== 'string') {
        return 'external needs uri, title and description';
      }
      if (thumb !== undefined) {
        const blob = thumb as { $type?: string; ref?: { $link?: string }; mimeType?: string; size?: number };
        const stored = blobs.find((b) => b.cid === blob.ref?.$link);
        if (blob.$type !== 'blob' || !stored || stored.mimeType !== blob.mimeType || stored.size !== blob.size) {
          return 'thumb is not a blob ref of an uploaded blob';
        }
        if (!/^image\//.test(stored.mimeType) || stored.size > 1_000_000)
          return 'thumb must be an image of at most 1,000,000 bytes';
      }
    }
    if (reply !== undefined) {
      const { root, parent } = reply as {
        root?: { uri?: string; cid?: string };
        parent?: { uri?: string; cid?: string };
      };
      for (const ref of [root, parent]) {
        const stored = [...records.values()].find((r) => r.uri === ref?.uri);
        if (!stored || stored.cid !== ref?.cid) return 'reply root and parent must name stored records by uri and cid';
      }
    }
    return undefined;
  }

  function createRecord(request: ReceivedRequest): FakeAnswer {
    const body = json(request);
    if (!body) return xrpcError(400, 'InvalidRequest', 'Input must be JSON');
    const { repo, collection, rkey, record, validate, ...rest } = body;
    if (Object.keys(rest).length > 0) return xrpcError(400, 'InvalidRequest', `unexpected input ${Object.keys(rest)}`);
    if (repo !== did && repo !== account.handle)
      return xrpcError(400, 'InvalidRequest', `Could not find repo: ${repo}`);
    if (validate === false) return xrpcError(400, 'InvalidRequest', 'the fake validates every record');
    if (collection !== 'app.bsky.feed.post') return xrpcError(400, 'InvalidRequest', 'only posts here');
    if (typeof rkey !== 'string' || !TID.test(rkey)) {
      return xrpcError(400, 'InvalidRequest', `Invalid record key for app.bsky.feed.post: ${rkey}`);
    }
    const problem = recordProblem((record ?? {}) as Record<string, unknown>);
    if (problem) return xrpcError(400, 'InvalidRequest', `Invalid app.bsky.feed.post record: ${problem}`);
    const failure = failures.shift();
    if (failure === 'rate-limited') {
      return xrpcError(429, 'RateLimitExceeded', 'Rate Limit Exceeded', {
        'ratelimit-limit': '5000',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(fake.rateLimitReset),
        'ratelimit-policy': '5000;w=3600',
      });
    }
    if (failure === 'server-error') return xrpcError(502, 'UpstreamFailure', 'Upstream Failure');
    if (records.has(rkey)) return xrpcError(500, 'InternalServerError', 'Internal Server Error');
    const value = record as Record<string, unknown>;
    const stored: StoredRecord = {
      uri: `at://${did}/app.bsky.feed.post/${rkey}`,
      cid: cidOf(Buffer.from(JSON.stringify(value)), 0x71),
      rkey,
      value,
    };
    records.set(rkey, stored);
    if (failure === 'drop-after-store') return 'drop';
    return {
      status: 200,
      json: { uri: stored.uri, cid: stored.cid, commit: { cid: stored.cid, rev: rkey }, validationStatus: 'valid' },
    };
  }

  const server = await startFakeServer((request) => {
    const nsid = /^\/xrpc\/([\w.]+)$/.exec(request.path)?.[1] ?? '';
    counts.set(nsid, (counts.get(nsid) ?? 0) + 1);
    const method = request.method;
    if (method === 'POST' && nsid === 'com.atproto.server.createSession') {
      const body = json(request);
      if (!body) return xrpcError(400, 'InvalidRequest', 'Input must be JSON');
      const named = body.identifier === account.handle || body.identifier === did;
      if (fake.refuseLogins || !named || body.password !== account.password) {
        return xrpcError(401, 'AuthenticationRequired', 'Invalid identifier or password');
      }
      return { status: 200, json: { did, handle: account.handle, active: true, ...session() } };
    }
    if (method === 'POST' && nsid === 'com.atproto.server.refreshSession') {
      const refused = bearer(request, refresh);
      if (refused) return refused;
      const used = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] as string;
      refresh.delete(used);
      return { status: 200, json: { did, handle: account.handle, active: true, ...session() } };
    }
    const refused = bearer(request, access);
    if (refused) return refused;
    if (method === 'GET' && nsid === 'com.atproto.server.getSession') {
      return { status: 200, json: { did, handle: account.handle, active: true } };
    }
    if (method === 'GET' && nsid === 'com.atproto.identity.resolveHandle') {
      const found = handles.get(request.query.get('handle') ?? '');
      return found
        ? { status: 200, json: { did: found } }
        : xrpcError(400, 'InvalidRequest', 'Unable to resolve handle');
    }
    if (method === 'POST' && nsid === 'com.atproto.repo.uploadBlob') {
      const mimeType = (request.headers['content-type'] ?? '').split(';')[0] ?? '';
      if (!mimeType || mimeType === 'application/json')
        return xrpcError(400, 'InvalidRequest', 'a blob needs its Content-Type');
      const blob = { cid: cidOf(request.body, 0x55), mimeType, size: request.body.length };
      blobs.push(blob);
      return { status: 200, json: { blob: { $type: 'blob', ref: { $link: blob.cid }, mimeType, size: blob.size } } };
    }
    if (method === 'POST' && nsid === 'com.atproto.repo.createRecord') return createRecord(request);
    if (method === 'GET' && nsid === 'com.atproto.repo.getRecord') {
      const rkey = request.query.get('rkey') ?? '';
      const repo = request.query.get('repo');
      const stored = records.get(rkey);
      if (
        (repo !== did && repo !== account.handle) ||
        request.query.get('collection') !== 'app.bsky.feed.post' ||
        !stored
      ) {
        return xrpcError(400, 'RecordNotFound', `Could not locate record: at://${repo}/app.bsky.feed.post/${rkey}`);
      }
      return { status: 200, json: { uri: stored.uri, cid: stored.cid, value: stored.value } };
    }
    return xrpcError(501, 'MethodNotImplemented', `Method Not Implemented: ${method} ${request.path}`);
  });

  const expireAll = (tokens: Map<string, 'valid' | 'expired'>) => {
    for (const key of tokens.keys()) tokens.set(key, 'expired');
  };
  const fake: FakeBluesky = {
    ...server,
    did,
    handle: account.handle,
    records,
    blobs,
    handles,
    failNext: (...next) => failures.push(...next),
    expireAccessToken: () => expireAll(access),
    expireSession: () => {
      expireAll(access);
      expireAll(refresh);
    },
    refuseLogins: false,
    count: (nsid) => counts.get(nsid) ?? 0,
    rateLimitReset: Math.floor(Date.now() / 1000) + 300,
  };
  return fake;
}
