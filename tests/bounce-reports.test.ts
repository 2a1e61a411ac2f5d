import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBounceRecipient } from '../src/bounces/bounce-recipient.js';
import { deliverySeverity, type Severity } from '../src/bounces/delivery-severity.js';
import { MAX_FIELD_CHARS, MAX_FIELDS } from '../src/bounces/header-fields.js';
import { leaves, MIME_LIMITS, readMime } from '../src/bounces/read-mime.js';
import { type BounceReport, MAX_DSN_RECIPIENTS, readReport } from '../src/bounces/read-report.js';
import { ROOT } from './helpers/run-cli.js';

const DIR = join(ROOT, 'tests/fixtures/bounces');
const VERP = 'bounces+2025-w48.0123456789abcdef.0123456789ab@example.com';
const RCPT = 'reader@example.org';
const MESSAGE_ID = '<2025-w48.0123456789abcdef.ba9876543210@example.com>';

/** A fixture with its placeholders filled ({{VERP}}, {{RCPT}}, {{MESSAGE_ID}}, {{TO}}). */
function fixture(name: string, fill: Partial<Record<'VERP' | 'RCPT' | 'MESSAGE_ID' | 'TO', string>> = {}): string {
  const values = { VERP, RCPT, MESSAGE_ID, TO: 'bounces@example.com', ...fill };
  return readFileSync(join(DIR, name), 'utf8').replace(
    /\{\{(VERP|RCPT|MESSAGE_ID|TO)\}\}/g,
    (_, key: keyof typeof values) => values[key],
  );
}

interface Expected {
  kind: BounceReport['kind'];
  format: BounceReport['format'];
  recipient?: string | null;
  status?: string | null;
  messageId?: string | null;
  diagnostic?: RegExp;
  feedbackType?: string;
  reporter?: string | null;
}

const CASES: [string, Expected][] = [
  [
    'postfix-hard.eml',
    {
      kind: 'hard',
      format: 'dsn',
      recipient: RCPT,
      status: '5.1.1',
      messageId: MESSAGE_ID,
      diagnostic:
        /^550 5\.1\.1 <reader@example\.org>: Recipient address rejected: User unknown in virtual mailbox table$/,
      reporter: 'mail.example.com',
    },
  ],
  [
    'postfix-delayed.eml',
    { kind: 'soft', format: 'dsn', recipient: RCPT, status: '4.2.2', messageId: MESSAGE_ID, diagnostic: /over quota/ },
  ],
  [
    'postfix-blocked.eml',
    {
      kind: 'soft',
      format: 'dsn',
      recipient: RCPT,
      status: '5.7.26',
      messageId: MESSAGE_ID,
      diagnostic: /unauthenticated/,
    },
  ],
  [
    'exim-hard.eml',
    {
      kind: 'hard',
      format: 'dsn',
      recipient: RCPT,
      status: '5.0.0',
      messageId: MESSAGE_ID,
      diagnostic: /^550 5\.1\.1 /,
    },
  ],
  ['exim-plain.eml', { kind: 'unrecognized', format: null, messageId: null }],
  [
    'gmail-hard.eml',
    {
      kind: 'hard',
      format: 'dsn',
      recipient: RCPT,
      status: '5.1.1',
      messageId: MESSAGE_ID,
      // Four folded lines, read as one.
      diagnostic:
        /^550-5\.1\.1 The email account that you tried to reach does not exist\. Please try 550-5\.1\.1 double-checking .* 550 5\.1\.1 https:\/\/support\.google\.com\/mail\/\?p=NoSuchUser/,
      reporter: 'googlemail.com',
    },
  ],
  [
    'microsoft-hard.eml',
    {
      kind: 'hard',
      format: 'dsn',
      recipient: RCPT,
      status: '5.1.10',
      // From a quoted-printable text/rfc822-headers part.
      messageId: MESSAGE_ID,
      diagnostic: /^550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound; Recipient reader@example\.org not found/,
      reporter: 'DM6PR11MB4507.namprd11.prod.outlook.com',
    },
  ],
  [
    'global-dsn.eml',
    {
      kind: 'hard',
      format: 'dsn',
      recipient: RCPT,
      status: '5.1.1',
      messageId: MESSAGE_ID,
      diagnostic: /^550 5\.1\.1 Postfach unbekannt – mailbox does not exist$/,
    },
  ],
  ['relayed.eml', { kind: 'ignored', format: 'dsn', recipient: RCPT, status: '2.0.0', messageId: MESSAGE_ID }],
  [
    'rfc3464-example.eml',
    {
      kind: 'soft',
      format: 'dsn',
      recipient: 'louisl@larry.slip.umd.edu',
      status: '4.0.0',
      messageId: null,
      diagnostic: /^426 connection timed out$/,
      reporter: 'cs.utk.edu',
    },
  ],
  [
    'arf-yahoo.eml',
    { kind: 'complaint', format: 'arf', recipient: RCPT, messageId: MESSAGE_ID, feedbackType: 'abuse' },
  ],
  ['arf-jmrp.eml', { kind: 'complaint', format: 'arf', recipient: null, messageId: MESSAGE_ID, feedbackType: 'abuse' }],
  [
    'arf-rfc5965.eml',
    {
      kind: 'complaint',
      format: 'arf',
      recipient: 'user@example.com',
      messageId: '8787KJKJ3K4J3K4J3K4J3.mail@example.net',
      feedbackType: 'abuse',
      reporter: 'mail.example.com',
    },
  ],
  ['auto-reply.eml', { kind: 'unrecognized', format: null, messageId: null }],
];

function check(report: BounceReport, expected: Expected): void {
  expect(report.kind, report.reason).toBe(expected.kind);
  expect(report.format).toBe(expected.format);
  if (expected.messageId !== undefined) expect(report.messageId).toBe(expected.messageId);
  if (expected.reporter !== undefined) expect(report.reportingMta).toBe(expected.reporter);
  if (expected.format === 'dsn') {
    const [first] = report.recipients;
    expect(report.recipients).toHaveLength(1);
    expect(first?.finalRecipient).toBe(expected.recipient);
    expect(first?.status).toBe(expected.status);
    if (expected.diagnostic) expect(first?.diagnostic).toMatch(expected.diagnostic);
  }
  if (expected.format === 'arf') {
    expect(report.feedback?.feedbackType).toBe(expected.feedbackType);
    expect(report.feedback?.originalRcptTo[0] ?? null).toBe(expected.recipient);
  }
}

describe('readReport: the fixtures', () => {
  it('has a case for every fixture file', () => {
    expect(readdirSync(DIR).sort()).toEqual(CASES.map(([name]) => name).sort());
  });

  for (const [name, expected] of CASES) {
    it(`${name}: ${expected.kind}`, () => {
      const text = fixture(name);
      const report = readReport(text);
      check(report, expected);
      // As it comes over SMTP (CRLF line ends), and as bytes: the same report.
      expect(readReport(Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8'))).toEqual(report);
    });
  }

  it('keeps what the reader-finding needs: the quoted envelope senders and named recipients', () => {
    expect(readReport(fixture('postfix-hard.eml')).senders).toEqual([VERP]);
    expect(readReport(fixture('arf-yahoo.eml')).senders).toEqual([VERP]);
    expect(readReport(fixture('global-dsn.eml')).namedRecipients).toEqual([RCPT, 'jürgen@example.de']);
    expect(readReport(fixture('arf-jmrp.eml')).namedRecipients).toEqual([]);
    const yahoo = readReport(fixture('arf-yahoo.eml')).feedback;
    expect(yahoo).toMatchObject({ userAgent: 'Yahoo!-Mail-Feedback/2.0', reportedDomain: 'example.com' });
    expect(readReport(fixture('arf-jmrp.eml')).feedback?.userAgent).toBe('Hotmail FBL');
  });
});

const dsn = (fields: string, head = 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"') =>
  `${head}\n\n--b\nContent-Type: text/plain\n\nIt failed.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n${fields}\n--b--\n`;

describe('readReport: what real servers vary', () => {
  const cases: [string, string, Partial<BounceReport['recipients'][number]>][] = [
    [
      'field names in any case, the address in brackets and capitals',
      dsn('FINAL-RECIPIENT: RFC822; <Reader@Example.ORG>\nACTION: Failed\nSTATUS: 5.1.1'),
      { finalRecipient: RCPT, action: 'failed', status: '5.1.1', severity: 'hard' },
    ],
    [
      'a status with a comment after it',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.2.1 (mailbox disabled)'),
      { status: '5.2.1', severity: 'hard' },
    ],
    [
      'no Status: the code from the diagnostic',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1 no such user'),
      { status: '5.1.1', severity: 'hard' },
    ],
    [
      'no enhanced code anywhere: the basic reply code',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nDiagnostic-Code: smtp; 452 mailbox full'),
      { status: '4.0.0', severity: 'soft' },
    ],
    [
      'failed without any code is not trusted as hard',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed'),
      { status: null, severity: 'soft' },
    ],
    [
      'no empty line between the per-message and the recipient fields',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1').replace(
        'mx.example.net\n\n',
        'mx.example.net\n',
      ),
      { finalRecipient: RCPT, severity: 'hard' },
    ],
    [
      'a diagnostic with terminal escapes and bidi controls, cleaned',
      dsn(
        'Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 \x1b[2J\u202eno\x07 user',
      ),
      { diagnostic: '550 [2J no user' },
    ],
    [
      'a base64-encoded delivery-status part',
      dsn('').replace(
        'Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n',
        `Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n${Buffer.from(
          'Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; reader@example.org\nAction: failed\nStatus: 5.1.1\n',
        )
          .toString('base64')
          .replace(/(.{60})/g, '$1\n')}\n`,
      ),
      { finalRecipient: RCPT, severity: 'hard' },
    ],
    [
      'a report a relay wrapped in multipart/mixed',
      `Content-Type: multipart/mixed; boundary="outer"\n\n--outer\nContent-Type: text/plain\n\nFYI\n--outer\n${dsn(
        'Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1',
      )}\n--outer--\n`,
      { finalRecipient: RCPT, severity: 'hard' },
    ],
    [
      'cut short: no closing delimiter',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: delayed\nStatus: 4.4.1').replace(/\n--b--\n$/, ''),
      { severity: 'soft', status: '4.4.1' },
    ],
    [
      'a line that only starts like the boundary is content',
      dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1').replace(
        'It failed.',
        'It failed.\n--bogus line\n--b-and-more',
      ),
      { finalRecipient: RCPT, severity: 'hard' },
    ],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const report = readReport(text);
      expect(report.format, report.reason).toBe('dsn');
      expect(report.recipients[0]).toMatchObject(expected);
    });
  }

  it('a bounce forwarded as an attached message is not read as one', () => {
    const forwarded = `Content-Type: multipart/mixed; boundary="fw"\n\n--fw\nContent-Type: text/plain\n\nLook at this bounce.\n--fw\nContent-Type: message/rfc822\n\n${dsn(
      'Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1',
    )}\n--fw--\n`;
    expect(readReport(forwarded).kind).toBe('unrecognized');
  });

  it('a feedback report that is no complaint (not-spam, auth-failure) is ignored; one without a type is unrecognized', () => {
    const arf = (type: string) =>
      fixture('arf-rfc5965.eml').replace('Feedback-Type: abuse\n', type ? `Feedback-Type: ${type}\n` : '');
    expect(readReport(arf('not-spam')).kind).toBe('ignored');
    expect(readReport(arf('auth-failure')).kind).toBe('ignored');
    expect(readReport(arf('fraud')).kind).toBe('complaint');
    expect(readReport(arf('')).kind).toBe('unrecognized');
  });

  it('several recipients: the worst decides the kind, each keeps its own', () => {
    const report = readReport(
      dsn(
        'Final-Recipient: rfc822;a@example.org\nAction: delivered\nStatus: 2.0.0\n\nFinal-Recipient: rfc822;b@example.org\nAction: delayed\nStatus: 4.4.1\n\nFinal-Recipient: rfc822;c@example.org\nAction: failed\nStatus: 5.1.1',
      ),
    );
    expect(report.kind).toBe('hard');
    expect(report.recipients.map((r) => r.severity)).toEqual(['ignored', 'soft', 'hard']);
  });
});

describe('deliverySeverity (RFC 3464 Action, RFC 3463 Status)', () => {
  const cases: [string, string | null, string | null, Severity][] = [
    ['failed 5.1.1 (no such user)', 'failed', '5.1.1', 'hard'],
    ['failed 5.1.10 (Microsoft: recipient not found)', 'failed', '5.1.10', 'hard'],
    ['failed 5.2.1 (mailbox disabled)', 'failed', '5.2.1', 'hard'],
    ['failed 5.4.4 (no such domain)', 'failed', '5.4.4', 'hard'],
    ['failed 5.7.1 (refused as spam): the message, not the address', 'failed', '5.7.1', 'soft'],
    ['failed 5.7.26 (unauthenticated sender)', 'failed', '5.7.26', 'soft'],
    ['failed 5.6.0 (content)', 'failed', '5.6.0', 'soft'],
    ['failed 5.3.4 (too big)', 'failed', '5.3.4', 'soft'],
    ['failed 4.4.7 (expired in the queue)', 'failed', '4.4.7', 'soft'],
    ['delayed 4.2.2 (mailbox full)', 'delayed', '4.2.2', 'soft'],
    ['delayed without a status', 'delayed', null, 'soft'],
    ['delivered', 'delivered', '2.0.0', 'ignored'],
    ['relayed', 'relayed', '2.0.0', 'ignored'],
    ['expanded', 'expanded', '2.0.0', 'ignored'],
    ['an unknown action', 'vanished', '5.1.1', 'ignored'],
    ['no action, a 5.x.x status', null, '5.1.1', 'hard'],
    ['no action, no status', null, null, 'ignored'],
  ];
  for (const [name, action, status, severity] of cases) {
    it(name, () => expect(deliverySeverity(action, status)).toBe(severity));
  }
});

describe('isBounceRecipient', () => {
  const cases: [string, boolean][] = [
    ['bounces@example.com', true],
    ['Bounces@Example.COM', true],
    [VERP, true],
    ['BOUNCES+anything@EXAMPLE.COM', true],
    ['bounces-other@example.com', false],
    ['bouncesx+tag@example.com', false],
    ['bounces+tag@example.com.evil.org', false],
    ['bounces+a@b@example.com', false],
    ['newsletter@example.com', false],
    ['bounces@example.org', false],
  ];
  for (const [address, accepted] of cases) {
    it(`${address}: ${accepted ? 'taken' : 'refused'}`, () =>
      expect(isBounceRecipient(address, 'bounces@example.com')).toBe(accepted));
  }
});

/** A deterministic stream of bytes (xorshift), for junk that is the same on every run. */
function junk(length: number, seed = 12345): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

describe('hostile input: bounded, never a throw', () => {
  it('a header line of 4 MB: cut at the size limit, its value capped', () => {
    const text = `Subject: ${'x'.repeat(4 * 1024 * 1024)}\nContent-Type: text/plain\n\nhi\n`;
    const { root, truncated } = readMime(text);
    expect(truncated).toBe(true);
    expect(root.headers.every((h) => h.value.length <= MAX_FIELD_CHARS)).toBe(true);
    expect(readReport(text).kind).toBe('unrecognized');
  });

  it('100,000 header fields: at most MAX_FIELDS read', () => {
    const text = `${'X-Junk: 1\n'.repeat(100_000)}\nbody`;
    const { root } = readMime(text);
    expect(root.headers.length).toBe(MAX_FIELDS);
  });

  it('multiparts nested 20,000 deep: read to maxDepth, no stack overflow', () => {
    const depth = 20_000;
    const open = Array.from(
      { length: depth },
      (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`,
    ).join('');
    const message = readMime(open);
    expect(message.truncated).toBe(true);
    let levels = 0;
    for (let part = message.root; part.parts[0]; part = part.parts[0]) levels++;
    expect(levels).toBeLessThanOrEqual(MIME_LIMITS.maxDepth);
    expect(readReport(open).kind).toBe('unrecognized');
  });

  it('50,000 parts: at most maxParts read, the report still found when it comes early', () => {
    const many = `Content-Type: multipart/report; report-type=delivery-status; boundary="m"\n\n--m\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1\n${'--m\nContent-Type: text/plain\n\nx\n'.repeat(50_000)}--m--\n`;
    const message = readMime(many);
    expect(message.truncated).toBe(true);
    expect(leaves(message.root).length).toBeLessThanOrEqual(MIME_LIMITS.maxParts);
    expect(readReport(many).kind).toBe('hard');
  });

  it('100,000 recipient blocks: at most MAX_DSN_RECIPIENTS read', () => {
    const blocks = Array.from(
      { length: 100_000 },
      (_, i) => `Final-Recipient: rfc822;r${i}@example.org\nAction: failed\nStatus: 5.1.1`,
    );
    const report = readReport(dsn(blocks.join('\n\n')));
    expect(report.recipients.length).toBe(MAX_DSN_RECIPIENTS);
    expect(report.namedRecipients.length).toBe(MAX_DSN_RECIPIENTS);
  });

  it('a megabyte of binary junk, NUL bytes and invalid UTF-8 in a report', () => {
    expect(readReport(junk(1024 * 1024)).kind).toBe('unrecognized');
    const broken = Buffer.concat([
      Buffer.from(
        dsn('Final-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 '),
      ),
      Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x0a]),
    ]);
    expect(() => readReport(broken)).not.toThrow();
    expect(readReport(broken).recipients[0]?.diagnostic).not.toMatch(/\0/);
  });

  // Quadratic work shows as this test's timeout (a run of spaces with no "=" after it took some
  // half an hour at this size), not as a timing assertion.
  it('quoted-printable parts of nearly maxBytes of spaces and tabs: decoded in one pass', { timeout: 15_000 }, () => {
    const spaces = ' \t'.repeat((MIME_LIMITS.maxBytes - 4096) / 2);
    const status = `Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822;reader@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 no such ${spaces}=\n user\n`;
    const qp = `Content-Type: multipart/report; report-type=delivery-status; boundary="q"\n\n--q\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: quoted-printable\n\n${status}--q--\n`;
    const report = readReport(qp);
    expect(report.kind).toBe('hard');
    // The soft line break and the spaces before it are gone; the text around them is kept.
    expect(report.recipients[0]?.diagnostic).toMatch(/550 no such +user$/);
    const unbroken = qp.replace('=\n user', ' user');
    expect(readReport(unbroken).kind).toBe('hard');
  });

  it('more than maxBytes: the rest is dropped and the report says so', () => {
    const big = `${fixture('postfix-hard.eml')}${'x'.repeat(MIME_LIMITS.maxBytes)}`;
    const report = readReport(big);
    expect(report.truncated).toBe(true);
    expect(report.kind).toBe('hard');
  });

  it('any bytes, and any cut or splice of a real report: a report of some kind, never a throw', () => {
    const kinds = ['hard', 'soft', 'ignored', 'complaint', 'unrecognized'];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => kinds.includes(readReport(bytes).kind)),
      { numRuns: 300 },
    );
    const real = Buffer.from(fixture('gmail-hard.eml'));
    fc.assert(
      fc.property(fc.nat(real.length), fc.nat(real.length), fc.uint8Array({ maxLength: 200 }), (a, b, insert) => {
        const [from, to] = a < b ? [a, b] : [b, a];
        const spliced = Buffer.concat([real.subarray(0, from), insert, real.subarray(to)]);
        return kinds.includes(readReport(spliced).kind);
      }),
      { numRuns: 300 },
    );
  });
});
