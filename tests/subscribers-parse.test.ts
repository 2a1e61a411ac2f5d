import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../src/subscribers/normalize-address.js';
import { parseSubscribers } from '../src/subscribers/parse-subscribers.js';

describe('normalizeAddress', () => {
  const cases: [string, string | null][] = [
    ['Ana@Example.ORG', 'ana@example.org'],
    ['  ben.smith+news@mail.example.co.uk ', 'ben.smith+news@mail.example.co.uk'],
    ['mailto:cy@example.org', 'cy@example.org'],
    ['no-at-sign.example.org', null],
    ['two@@example.org', null],
    ['dot..dot@example.org', null],
    ['.lead@example.org', null],
    ['space in@example.org', null],
    ['nodomain@localhost', null],
    ['a@-bad.example', null],
  ];
  it.each(cases)('%j -> %j', (raw, expected) => {
    expect(normalizeAddress(raw)).toBe(expected);
  });
});

describe('parseSubscribers', () => {
  it('reads CSV with quoting, merges duplicates, rejects bad rows by line', () => {
    const csv =
      'email,name,city\nana@example.org,"Ruiz, Ana",Leeds\nbad-address,Bob,\nANA@example.org,,York\n\n"cy@example.org","Cy ""CJ"" Jones",\n';
    expect(parseSubscribers(csv, 'csv')).toEqual({
      subscribers: [
        { email: 'ana@example.org', name: 'Ruiz, Ana', fields: { city: 'York' } },
        { email: 'cy@example.org', name: 'Cy "CJ" Jones', fields: {} },
      ],
      rejected: [{ line: 3, reason: 'not an email address: "bad-address"' }],
      duplicates: 1,
    });
  });

  it('reads JSON lines', () => {
    const jsonl =
      '{"email":"dee@example.org","name":"Dee","plan":"free"}\nnot json\n[1]\n{"email":"dee@example.org","name":"Dee R"}\n';
    expect(parseSubscribers(jsonl, 'jsonl')).toEqual({
      subscribers: [{ email: 'dee@example.org', name: 'Dee R', fields: { plan: 'free' } }],
      rejected: [
        { line: 2, reason: 'invalid JSON' },
        { line: 3, reason: 'not a JSON object' },
      ],
      duplicates: 1,
    });
  });

  it('refuses a CSV without an email column', () => {
    expect(parseSubscribers('name\nAna\n', 'csv').rejected).toEqual([
      { line: 1, reason: 'no "email" column in the header' },
    ]);
  });
});
