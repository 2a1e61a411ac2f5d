import { describe, expect, it } from 'vitest';
import { base64Part } from '../src/newsletter/base64-part.js';

const bodyOf = (part: string) => part.slice(part.indexOf('\r\n\r\n') + 4);

describe('base64Part', () => {
  it.each([
    ['empty', ''],
    ['short ASCII', 'Hi there,'],
    ['accents, symbols and emoji', 'Café — €5 · 😀 新しい公園'],
    ['exactly one line of output (57 bytes)', 'x'.repeat(57)],
    ['one byte over a line', 'x'.repeat(58)],
    ['a long HTML page with CRLF and LF', `<p>Line one</p>\r\n<p>Line two</p>\n${'<td>cell</td>'.repeat(2000)}`],
  ])('%s: decodes back to the same text, in lines of at most 76, CRLF only', (_, text) => {
    const part = base64Part('text/html; charset=utf-8', text).toString('latin1');
    expect(part.startsWith('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n')).toBe(
      true,
    );
    const body = bodyOf(part);
    expect(Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8')).toBe(text);
    const lines = body.split('\r\n');
    expect(lines.every((line) => line.length <= 76 && /^[A-Za-z0-9+/=]*$/.test(line))).toBe(true);
    expect(lines.slice(0, -1).every((line) => line.length === 76)).toBe(true);
    expect(body).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  });
});
