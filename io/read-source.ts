import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DispatchError } from '../src/errors.js';
import type { ArticleFormat } from '../src/ingest/article.js';
import { fetchUrl } from './fetch-url.js';

/** Raw input for `parseArticle`, with what its origin tells about it. */
export interface Source {
  bytes: Uint8Array;
  /** A file name, a URL or "stdin": named in error messages. */
  name: string;
  url?: string;
  charset?: string;
  format?: ArticleFormat;
}

export interface ReadSourceOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Let URLs reach loopback and private addresses (`ALLOW_PRIVATE_URLS`). */
  allowPrivate: boolean;
  stdin?: NodeJS.ReadableStream;
}

const FORMAT_BY_EXTENSION: Record<string, ArticleFormat> = {
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.json': 'json',
  '.txt': 'text',
  '.text': 'text',
};

async function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    size += buffer.byteLength;
    if (size > maxBytes) {
      throw new DispatchError('E_INPUT_TOO_LARGE', `stdin is over the ${maxBytes}-byte limit (MAX_INPUT_BYTES)`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads an article from a file path, an http(s) URL, or `-` for standard input. */
export async function readSource(spec: string, options: ReadSourceOptions): Promise<Source> {
  if (spec === '-') {
    return { bytes: await readStream(options.stdin ?? process.stdin, options.maxBytes), name: 'stdin' };
  }
  if (/^[a-z][\w+.-]*:\/\//i.test(spec)) {
    const { timeoutMs, maxBytes, allowPrivate } = options;
    const page = await fetchUrl(spec, { timeoutMs, maxBytes, allowPrivate });
    const format: ArticleFormat | undefined = /json/i.test(page.contentType)
      ? 'json'
      : /html/i.test(page.contentType)
        ? 'html'
        : undefined;
    return { bytes: page.bytes, name: spec, url: page.url, charset: page.charset, format };
  }
  let size: number;
  try {
    const info = await stat(spec);
    if (!info.isFile()) throw new DispatchError('E_INPUT_NOT_FOUND', `${spec} is not a file`);
    size = info.size;
  } catch (cause) {
    if (cause instanceof DispatchError) throw cause;
    throw new DispatchError('E_INPUT_NOT_FOUND', `no such file: ${spec}`, { cause });
  }
  if (size > options.maxBytes) {
    throw new DispatchError(
      'E_INPUT_TOO_LARGE',
      `${spec} is ${size} bytes, over the ${options.maxBytes}-byte limit (MAX_INPUT_BYTES)`,
    );
  }
  return { bytes: await readFile(spec), name: spec, format: FORMAT_BY_EXTENSION[extname(spec).toLowerCase()] };
}
