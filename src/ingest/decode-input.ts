import { DispatchError } from '../errors.js';

/** Default for {@link DecodeOptions.maxBytes}: 5 MB. */
export const DEFAULT_MAX_INPUT_BYTES = 5 * 1024 * 1024;

export interface DecodeOptions {
  /** Reject inputs larger than this. @defaultValue 5 MB */
  maxBytes?: number;
  /** The charset an HTTP Content-Type header declared, if any; it wins over the page's own meta tag. */
  charset?: string;
  /** Where the input came from, for error messages ("article.html", a URL). */
  source?: string;
}

/** Charset from the first 1,024 bytes of an HTML page or XML document, as the HTML spec's prescan does. */
function sniffCharset(head: string): string | undefined {
  return (
    /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head)?.[1] ??
    /<\?xml[^>]+encoding\s*=\s*["']([\w-]+)["']/i.exec(head)?.[1]
  );
}

/** WHATWG's labels for windows-1252 (which is what "iso-8859-1" and "ascii" mean on the web). */
const WINDOWS_1252_LABELS = new Set([
  'windows-1252',
  'cp1252',
  'x-cp1252',
  'iso-8859-1',
  'iso8859-1',
  'iso_8859-1',
  'latin1',
  'l1',
  'ascii',
  'us-ascii',
  'ansi_x3.4-1968',
  'cp819',
  'ibm819',
  'iso-ir-100',
  'csisolatin1',
]);
/** Bytes 0x80-0x9F of windows-1252; the gaps (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to themselves. */
const WINDOWS_1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/**
 * Node 20's TextDecoder decodes windows-1252 as ISO-8859-1, turning ’ “ ” € into invisible C1
 * controls; this decodes it as browsers do.
 */
function decodeWindows1252(bytes: Uint8Array): string {
  // Latin-1 is windows-1252 but for 0x80-0x9F: decode natively, then map those (one string, not a concat per byte).
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80] as string);
}

function decoderFor(label: string, where: string): TextDecoder {
  try {
    return new TextDecoder(label, { fatal: true });
  } catch (cause) {
    throw new DispatchError('E_INPUT_ENCODING', `${where}: unknown charset "${label}"`, { cause });
  }
}

function byteSize(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

/**
 * Turns raw input into text, refusing what is not text: over the size limit, empty, binary (NUL
 * bytes), or not decodable with its charset (byte order mark, then the declared charset, then the
 * page's meta charset, then UTF-8).
 */
export function decodeInput(input: string | Uint8Array, options: DecodeOptions = {}): string {
  const where = options.source ?? 'input';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > maxBytes) {
    throw new DispatchError(
      'E_INPUT_TOO_LARGE',
      `${where} is ${byteSize(size)}, over the ${byteSize(maxBytes)} limit (MAX_INPUT_BYTES)`,
    );
  }

  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const bytes = input;
    let label: string | undefined;
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) label = 'utf-8';
    else if (bytes[0] === 0xff && bytes[1] === 0xfe) label = 'utf-16le';
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) label = 'utf-16be';
    const utf16 = label?.startsWith('utf-16') ?? false;
    if (!utf16 && bytes.includes(0)) {
      throw new DispatchError('E_INPUT_BINARY', `${where} contains NUL bytes: it looks binary, not text`);
    }
    label ??= options.charset ?? sniffCharset(Buffer.from(bytes.subarray(0, 1024)).toString('latin1'));
    label ??= 'utf-8';
    try {
      text = WINDOWS_1252_LABELS.has(label.toLowerCase())
        ? decodeWindows1252(bytes)
        : decoderFor(label, where).decode(bytes);
    } catch (cause) {
      if (cause instanceof DispatchError) throw cause;
      throw new DispatchError(
        'E_INPUT_ENCODING',
        `${where} is not valid ${label}${options.charset ? '' : ' (it declares no other charset)'}`,
        { cause },
      );
    }
  }

  if (text.includes('\0')) {
    throw new DispatchError('E_INPUT_BINARY', `${where} contains NUL characters: it looks binary, not text`);
  }
  if (text.trim().length === 0) {
    throw new DispatchError('E_INPUT_EMPTY', `${where} is empty${size > 0 ? ' (only whitespace)' : ''}`);
  }
  return text.replace(/^\ufeff/, '');
}
