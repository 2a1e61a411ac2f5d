import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSubscriberStore } from '../io/subscriber-store.js';
import { type ParsedSubscribers, parseSubscribers } from '../src/subscribers/parse-subscribers.js';
import { cliEnv, testConfig, testContext, useTestRedis } from './helpers/queue-harness.js';
import { runCli } from './helpers/run-cli.js';

const redis = useTestRedis('subscribers-csv');
/** A control character other than line feed and tab (ESC, BEL...), as a terminal would receive it. */
const RAW_CONTROL = /(?![\n\t])\p{Cc}/u;

describe('parseSubscribers: CSV as RFC 4180 writes it', () => {
  const cases: [string, string, Partial<ParsedSubscribers>][] = [
    [
      'a quoted line break stays inside its cell',
      'email,name,note\nana@example.org,"Ana\nRuiz","two\nlines"\nben@example.org,Ben,x\n',
      {
        subscribers: [
          { email: 'ana@example.org', name: 'Ana\nRuiz', fields: { note: 'two\nlines' } },
          { email: 'ben@example.org', name: 'Ben', fields: { note: 'x' } },
        ],
        rejected: [],
      },
    ],
    [
      'doubled quotes and a quoted comma',
      'email,name\n"cy@example.org","Cy ""CJ"", Jones"\n',
      { subscribers: [{ email: 'cy@example.org', name: 'Cy "CJ", Jones', fields: {} }], rejected: [] },
    ],
    [
      'a UTF-8 byte order mark before the header',
      '\ufeffemail,name\ndee@example.org,Dee\n',
      { subscribers: [{ email: 'dee@example.org', name: 'Dee', fields: {} }], rejected: [] },
    ],
    [
      'CRLF line ends, and a CRLF inside a quoted cell becomes LF',
      'email,name\r\n"eve@example.org","Eve\r\nE."\r\nfay@example.org,Fay\r\n',
      {
        subscribers: [
          { email: 'eve@example.org', name: 'Eve\nE.', fields: {} },
          { email: 'fay@example.org', name: 'Fay', fields: {} },
        ],
        rejected: [],
      },
    ],
    [
      'ragged rows are rejected by the line they start on, after a multi-line cell',
      'email,name\n"gus@example.org","G\nH"\nhal@example.org\nivy@example.org,Ivy,extra\njo@example.org,Jo\n',
      {
        subscribers: [
          { email: 'gus@example.org', name: 'G\nH', fields: {} },
          { email: 'jo@example.org', name: 'Jo', fields: {} },
        ],
        rejected: [
          { line: 4, reason: '1 cell(s) where the header has 2' },
          { line: 5, reason: '3 cell(s) where the header has 2' },
        ],
      },
    ],
    [
      'a bad address is rejected by the line its row starts on, blank rows skipped',
      'email,name\n\n"x\ny",Multi\n,,\nnot-an-address,Z\nkim@example.org,Kim\n',
      {
        subscribers: [{ email: 'kim@example.org', name: 'Kim', fields: {} }],
        rejected: [
          { line: 3, reason: 'not an email address: "x\ny"' },
          { line: 6, reason: 'not an email address: "not-an-address"' },
        ],
      },
    ],
    [
      'a stray quote inside an unquoted cell is text',
      'email,name\nlee@example.org,Lee "the ferry" Ray\nmo@example.org,Mo\n',
      {
        subscribers: [
          { email: 'lee@example.org', name: 'Lee "the ferry" Ray', fields: {} },
          { email: 'mo@example.org', name: 'Mo', fields: {} },
        ],
        rejected: [],
      },
    ],
    [
      'a quote never closed is reported at the line it opens on; rows before it stay',
      'email,name\nned@example.org,Ned\n"oz@example.org,Oz\npat@example.org,Pat\n',
      {
        subscribers: [{ email: 'ned@example.org', name: 'Ned', fields: {} }],
        rejected: [
          {
            line: 3,
            reason: 'a quoted cell is never closed (a " is missing), so the rest of the file was read into it',
          },
        ],
      },
    ],
    [
      'no email column',
      'name,city\nAna,Leeds\n',
      { subscribers: [], rejected: [{ line: 1, reason: 'no "email" column in the header' }] },
    ],
  ];
  it.each(cases)('%s', (_name, csv, expected) => {
    expect(parseSubscribers(csv, 'csv')).toMatchObject(expected);
  });

  it('JSON lines still work, with CRLF', () => {
    expect(parseSubscribers('{"email":"a@example.org","name":"A"}\r\nnope\r\n', 'jsonl')).toEqual({
      subscribers: [{ email: 'a@example.org', name: 'A', fields: {} }],
      rejected: [{ line: 2, reason: 'invalid JSON' }],
      duplicates: 0,
    });
  });
});

function utf16(text: string, endian: 'le' | 'be'): Buffer {
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  return endian === 'le' ? le : le.swap16();
}

describe('dispatch subscribers import', () => {
  const csv = 'email,name\r\nana@example.org,"Ruiz, Ana"\r\nbén@example.org,Bén\r\n';
  const encodings: [string, Buffer][] = [
    ['UTF-8 with a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)])],
    ['UTF-16 LE with a BOM', utf16(csv, 'le')],
    ['UTF-16 BE with a BOM', utf16(csv, 'be')],
  ];
  it.each(encodings)('reads %s', async (name, bytes) => {
    const config = testConfig();
    const file = join(redis.tmp, `${name.replace(/\W+/g, '-')}.csv`);
    writeFileSync(file, bytes);
    const result = await runCli(['subscribers', 'import', file], { env: cliEnv(redis.url, config) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 added, 0 updated, 0 duplicate(s) merged, 0 kept unsubscribed, 0 rejected\n');
    const ctx = testContext(redis.url, config);
    try {
      const all = await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).list();
      expect(all.map((s) => [s.email, s.name])).toEqual([
        ['ana@example.org', 'Ruiz, Ana'],
        ['bén@example.org', 'Bén'],
      ]);
    } finally {
      await ctx.close();
    }
  });

  it('a file whose every row is rejected: exit 2, E_IMPORT_REJECTED with the first reasons, the store untouched', async () => {
    const config = testConfig();
    const file = join(redis.tmp, 'all-bad.csv');
    writeFileSync(file, 'email,name\nnope,A\n"x\ny",B\nalso-nope,C\nstill-nope,D\nlast,E\n');
    const ctx = testContext(redis.url, config);
    try {
      const store = createSubscriberStore(ctx.redis, config.REDIS_PREFIX);
      await store.importSubscribers([{ email: 'kept@example.org', name: 'Kept', fields: {} }], new Date());
      const result = await runCli(['subscribers', 'import', file], { env: cliEnv(redis.url, config) });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /^dispatch: E_IMPORT_REJECTED: .*all-bad\.csv: all 5 row\(s\) rejected, nothing imported \(line 2: not an email address: "nope"; line 3: not an email address: "x\\ny"; line 5: not an email address: "also-nope"; and 2 more\)\n$/,
      );
      expect((await store.list()).map((s) => s.email)).toEqual(['kept@example.org']);
    } finally {
      await ctx.close();
    }
  });

  it('a header without an email column is E_IMPORT_REJECTED too', async () => {
    const file = join(redis.tmp, 'no-email.csv');
    writeFileSync(file, 'name\nAna\n');
    const result = await runCli(['subscribers', 'import', file], { env: cliEnv(redis.url, testConfig()) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dispatch: E_IMPORT_REJECTED: .*line 1: no "email" column in the header/);
  });

  it('a partial import imports the good rows and reports the bad ones by line, exit 0', async () => {
    const config = testConfig();
    const file = join(redis.tmp, 'partial.csv');
    writeFileSync(file, 'email,name\nok@example.org,"Two\nlines"\nbad\x1b[2J,X\nragged@example.org\n');
    const result = await runCli(['subscribers', 'import', file], { env: cliEnv(redis.url, config) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1 added, 0 updated, 0 duplicate(s) merged, 0 kept unsubscribed, 2 rejected\n');
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      `${file} line 4: not an email address: "bad\\x1b[2J"`,
      `${file} line 5: 1 cell(s) where the header has 2`,
    ]);
  });
});

describe('dispatch subscribers list', () => {
  it('one row per subscriber, three cells each: tabs and line breaks shown, formulas neutralized', async () => {
    const config = testConfig();
    const ctx = testContext(redis.url, config);
    const names: [string, string, string][] = [
      ['a tab', 'Ana\tforged@example.org\tactive', 'Ana\\tforged@example.org\\tactive'],
      ['a line break', 'Ben\nforged@example.org\tBen\tactive', 'Ben\\nforged@example.org\\tBen\\tactive'],
      ['a formula', '=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'],
      ['a plus', '+1', "'+1"],
      ['a minus', '-2', "'-2"],
      ['an at', '@x', "'@x"],
      ['an escape', 'Cy\x1b]0;pwned\x07', 'Cy\\x1b]0;pwned\\x07'],
    ];
    try {
      await createSubscriberStore(ctx.redis, config.REDIS_PREFIX).importSubscribers(
        [
          ...names.map(([, name], i) => ({ email: `s${i}@example.org`, name, fields: {} })),
          { email: '=cmd@example.org', name: 'Dee', fields: {} },
        ],
        new Date(),
      );
    } finally {
      await ctx.close();
    }
    const result = await runCli(['subscribers', 'list'], { env: cliEnv(redis.url, config) });
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(names.length + 2);
    expect(rows.at(-1)).toBe(`${names.length + 1} active, 0 pending, 0 unsubscribed, 0 bounced, 0 complained`);
    for (const row of rows.slice(0, -1)) expect(row.split('\t'), row).toHaveLength(3);
    expect(rows.slice(0, names.length).map((r) => r.split('\t')[1])).toEqual(names.map(([, , shown]) => shown));
    expect(rows[names.length]).toBe("'=cmd@example.org\tDee\tactive");
    expect(result.stdout).not.toMatch(RAW_CONTROL);

    const json = await runCli(['subscribers', 'list', '--json'], { env: cliEnv(redis.url, config) });
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(json.stdout) as { name: string }[]).map((s) => s.name).slice(0, names.length)).toEqual(
      names.map(([, name]) => name),
    );
  });
});
