import { describe, expect, it } from 'vitest';
import { isDispatchError } from '../src/errors.js';
import { cleanText } from '../src/ingest/clean-text.js';
import { decodeInput } from '../src/ingest/decode-input.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('decodeInput', () => {
  const good: [string, string | Uint8Array, object, string][] = [
    ['a string as is', 'Hello', {}, 'Hello'],
    ['UTF-8 bytes', encode('Café “news”'), {}, 'Café “news”'],
    ['UTF-8 BOM removed', Uint8Array.from([0xef, 0xbb, 0xbf, ...encode('Title')]), {}, 'Title'],
    ['UTF-16LE with BOM', Uint8Array.from([0xff, 0xfe, 0x48, 0, 0x69, 0]), {}, 'Hi'],
    [
      'windows-1252 from meta charset',
      Uint8Array.from([...encode('<meta charset="windows-1252"><p>caf'), 0xe9, ...encode('</p>')]),
      {},
      '<meta charset="windows-1252"><p>café</p>',
    ],
    ['charset from the HTTP header wins', Uint8Array.from([0x63, 0x61, 0x66, 0xe9]), { charset: 'iso-8859-1' }, 'café'],
  ];
  it.each(good)('decodes %s', (_name, input, options, expected) => {
    expect(decodeInput(input, options)).toBe(expected);
  });

  const bad: [string, string | Uint8Array, object, string, RegExp][] = [
    ['empty', '', {}, 'E_INPUT_EMPTY', /input is empty$/],
    ['whitespace only', encode(' \n\t \n'), {}, 'E_INPUT_EMPTY', /only whitespace/],
    [
      'NUL bytes',
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]),
      { source: 'photo.png' },
      'E_INPUT_BINARY',
      /^photo\.png contains NUL bytes/,
    ],
    ['invalid UTF-8', Uint8Array.from([0x48, 0xc3, 0x28, 0x80]), {}, 'E_INPUT_ENCODING', /not valid utf-8/],
    [
      'unknown charset',
      encode('<meta charset="klingon-8"><p>x</p>'),
      {},
      'E_INPUT_ENCODING',
      /unknown charset "klingon-8"/,
    ],
    ['over the limit', 'x'.repeat(2048), { maxBytes: 1024 }, 'E_INPUT_TOO_LARGE', /over the 1 KB limit/],
  ];
  it.each(bad)('refuses %s', (_name, input, options, code, message) => {
    try {
      decodeInput(input, options);
      expect.unreachable();
    } catch (error) {
      expect(isDispatchError(error, code as never), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('cleanText', () => {
  const cases: [string, string, string][] = [
    ['collapses whitespace and NBSP', '  a \u00a0 b\n c ', 'a b c'],
    ['composes a decomposed accent', 'A\u0300 la carte', 'À la carte'],
    ['maps a compatibility ideograph', '\u{2f800} a', '丽 a'],
    ['maps the ohm sign', '5 \u2126', '5 Ω'],
    ['decomposes a Hebrew presentation form', '\ufb2a', '\u05e9\u05c1'],
    ['drops zero-width spaces and soft hyphens', 'news\u200bpaper co\u00adop', 'newspaper coop'],
    ['keeps the joiner inside an emoji family', '👨\u200d👩\u200d👧', '👨\u200d👩\u200d👧'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(cleanText(input)).toBe(expected);
    expect(cleanText(input)).toBe(cleanText(input).normalize('NFC'));
  });
});
