import { describe, expect, it } from 'vitest';
import { parseSpamReport, type SpamScore } from '../src/checks/spam-report.js';
import { isDispatchError } from '../src/errors.js';

// Answers to `REPORT SPAMC/1.5` captured from the managed spamd (io/spamd.ts: SpamAssassin 4.0.1
// from Debian 12, local rules only), byte for byte: the headers end in CRLF, the report in LF.

/** A plain note from an editor: nothing but the two informational rules, worth -0.0. */
const CLEAN =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 792\r\nSpam: False ; -0.0 / 5.0\r\n\r\n' +
  `Spam detection software, running on the system "vm",
has NOT identified this incoming email as spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
@@CONTACT_ADDRESS@@ for details.

Content preview:  Hello, The council voted on the new library hours this week,
   and the bike lanes on Main Street are finally open. Read the full stories
   on our site. Ana 

Content analysis details:   (-0.0 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-0.0 NO_RECEIVED            Informational: message has no Received headers
-0.0 NO_RELAYS              Informational: message was not relayed via SMTP


SpamAssassin 4.0.1

`;

/** Received headers from documentation addresses and a forged Gmail sender: a logged detail on its own line. */
const NET =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 1279\r\nSpam: True ; 5.9 / 5.0\r\n\r\n' +
  `Spam detection software, running on the system "vm",
has identified this incoming email as possible spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
@@CONTACT_ADDRESS@@ for details.

Content preview:  Visit http://www.paypal.com and http://spam.example.biz/claim
   now 

Content analysis details:   (5.9 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 1.3 RCVD_ILLEGAL_IP        Received: contains illegal IP address
 0.0 MSGID_SHORT            Message-ID is unusually short
 1.0 FORGED_GMAIL_RCVD      'From' gmail.com does not match 'Received' headers
 0.5 SUBJ_ALL_CAPS          Subject is all capitals
 0.0 FREEMAIL_FROM          Sender email is commonly abused enduser mail provider
                            [winner(at)gmail.com]
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.1 MIME_HTML_ONLY         BODY: Message only has text/html MIME parts
 1.0 SHORT_SHORTNER         Short body with little more than a link to a shortener
 1.0 SPOOFED_FREEMAIL       No description available.
 1.0 SPOOF_GMAIL_MID        From Gmail but it doesn't seem to be...


SpamAssassin 4.0.1

`;

/** The spammy newsletter of tests/spamd.test.ts (HTML only, no Date or Message-ID, "Dear Friend"). */
const SPAMMY2 =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 1319\r\nSpam: True ; 9.6 / 5.0\r\n\r\n' +
  `Spam detection software, running on the system "vm",
has identified this incoming email as possible spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
@@CONTACT_ADDRESS@@ for details.

Content preview:  This week in local news Dear Friend, The council voted on
   the new library hours. But first: our sponsors have a 100% FREE offer for
   you, no credit card needed and risk free! 

Content analysis details:   (9.6 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 0.6 MISSING_MID            Missing Message-Id: header
 2.7 MISSING_DATE           Missing Date: header
-0.0 NO_RECEIVED            Informational: message has no Received headers
-0.0 NO_RELAYS              Informational: message was not relayed via SMTP
 0.5 SUBJ_ALL_CAPS          Subject is all capitals
 2.7 DEAR_FRIEND            BODY: Dear Friend? That's not very dear!
 0.0 HTML_MESSAGE           BODY: HTML included in message
 0.1 MIME_HTML_ONLY         BODY: Message only has text/html MIME parts
 1.0 RISK_FREE              No risk!
 1.0 TO_NO_BRKTS_HTML_ONLY  To: lacks brackets and HTML only
 1.0 END_FUTURE_EMAILS      Spammy unsubscribe


SpamAssassin 4.0.1

`;

/** GTUBE (1000 points, printed `%4.0f`) and a description that wraps onto two more lines. */
const WRAP =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 1131\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n' +
  `Spam detection software, running on the system "vm",
has identified this incoming email as possible spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
@@CONTACT_ADDRESS@@ for details.

Content preview:  Dear customer, Your online banking access needs account verification.
   Several accounts suspended this week did not complete account verification
   in time. XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X
   

Content analysis details:   (1000.0 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
-0.0 NO_RECEIVED            Informational: message has no Received headers
-0.0 NO_RELAYS              Informational: message was not relayed via SMTP
1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email
 0.0 TVD_PH_BODY_ACCOUNTS_PRE The body matches phrases such as "accounts
                            suspended", "account credited", "account
                            verification"


SpamAssassin 4.0.1

`;

/** A detail longer than 47 characters: right-aligned to column 78, less indented than a wrapped line. */
const LONGDETAIL =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 842\r\nSpam: False ; 2.3 / 5.0\r\n\r\n' +
  `Spam detection software, running on the system "vm",
has NOT identified this incoming email as spam.  The original
message has been attached to this so you can view it or label
similar future email.  If you have any questions, see
@@CONTACT_ADDRESS@@ for details.

Content preview:  The council voted on the new library hours this week. 

Content analysis details:   (2.3 points, 5.0 required)

 pts rule name              description
---- ---------------------- --------------------------------------------------
 1.3 RCVD_ILLEGAL_IP        Received: contains illegal IP address
 1.0 FORGED_GMAIL_RCVD      'From' gmail.com does not match 'Received' headers
 0.0 FREEMAIL_FROM          Sender email is commonly abused enduser mail provider
               [the.weekly.local.news.digest.for.all.our.readers(at)gmail.com]


SpamAssassin 4.0.1

`;

const rule = (name: string, points: number, description: string) => ({ name, points, description });

const cases: { name: string; answer: string; expected: SpamScore }[] = [
  {
    name: 'a clean message: score and threshold from the Spam header, -0.0 read as 0',
    answer: CLEAN,
    expected: {
      score: 0,
      threshold: 5,
      version: '4.0.1',
      rules: [
        rule('NO_RECEIVED', 0, 'Informational: message has no Received headers'),
        rule('NO_RELAYS', 0, 'Informational: message was not relayed via SMTP'),
      ],
    },
  },
  {
    name: 'a logged detail on the next line joins its rule',
    answer: NET,
    expected: {
      score: 5.9,
      threshold: 5,
      version: '4.0.1',
      rules: [
        rule('RCVD_ILLEGAL_IP', 1.3, 'Received: contains illegal IP address'),
        rule('MSGID_SHORT', 0, 'Message-ID is unusually short'),
        rule('FORGED_GMAIL_RCVD', 1, "'From' gmail.com does not match 'Received' headers"),
        rule('SUBJ_ALL_CAPS', 0.5, 'Subject is all capitals'),
        rule('FREEMAIL_FROM', 0, 'Sender email is commonly abused enduser mail provider [winner(at)gmail.com]'),
        rule('HTML_MESSAGE', 0, 'BODY: HTML included in message'),
        rule('MIME_HTML_ONLY', 0.1, 'BODY: Message only has text/html MIME parts'),
        rule('SHORT_SHORTNER', 1, 'Short body with little more than a link to a shortener'),
        rule('SPOOFED_FREEMAIL', 1, 'No description available.'),
        rule('SPOOF_GMAIL_MID', 1, "From Gmail but it doesn't seem to be..."),
      ],
    },
  },
  {
    name: 'a spammy newsletter: every rule in spamd order',
    answer: SPAMMY2,
    expected: {
      score: 9.6,
      threshold: 5,
      version: '4.0.1',
      rules: [
        rule('MISSING_MID', 0.6, 'Missing Message-Id: header'),
        rule('MISSING_DATE', 2.7, 'Missing Date: header'),
        rule('NO_RECEIVED', 0, 'Informational: message has no Received headers'),
        rule('NO_RELAYS', 0, 'Informational: message was not relayed via SMTP'),
        rule('SUBJ_ALL_CAPS', 0.5, 'Subject is all capitals'),
        rule('DEAR_FRIEND', 2.7, "BODY: Dear Friend? That's not very dear!"),
        rule('HTML_MESSAGE', 0, 'BODY: HTML included in message'),
        rule('MIME_HTML_ONLY', 0.1, 'BODY: Message only has text/html MIME parts'),
        rule('RISK_FREE', 1, 'No risk!'),
        rule('TO_NO_BRKTS_HTML_ONLY', 1, 'To: lacks brackets and HTML only'),
        rule('END_FUTURE_EMAILS', 1, 'Spammy unsubscribe'),
      ],
    },
  },
  {
    name: 'four-digit points, and a description wrapped over three lines',
    answer: WRAP,
    expected: {
      score: 1000,
      threshold: 5,
      version: '4.0.1',
      rules: [
        rule('NO_RECEIVED', 0, 'Informational: message has no Received headers'),
        rule('NO_RELAYS', 0, 'Informational: message was not relayed via SMTP'),
        rule('GTUBE', 1000, 'BODY: Generic Test for Unsolicited Bulk Email'),
        rule(
          'TVD_PH_BODY_ACCOUNTS_PRE',
          0,
          'The body matches phrases such as "accounts suspended", "account credited", "account verification"',
        ),
      ],
    },
  },
  {
    name: 'a long detail right-aligned to column 78',
    answer: LONGDETAIL,
    expected: {
      score: 2.3,
      threshold: 5,
      version: '4.0.1',
      rules: [
        rule('RCVD_ILLEGAL_IP', 1.3, 'Received: contains illegal IP address'),
        rule('FORGED_GMAIL_RCVD', 1, "'From' gmail.com does not match 'Received' headers"),
        rule(
          'FREEMAIL_FROM',
          0,
          'Sender email is commonly abused enduser mail provider [the.weekly.local.news.digest.for.all.our.readers(at)gmail.com]',
        ),
      ],
    },
  },
  {
    name: 'a report without the version line (a template of its own) still gives score and rules',
    answer: SPAMMY2.replace('SpamAssassin 4.0.1', ' '.repeat(18)), // the same length: Content-length holds
    expected: { ...parseSpamReport(SPAMMY2), version: 'unknown' },
  },
];

describe('parseSpamReport', () => {
  for (const { name, answer, expected } of cases) {
    it(name, () => {
      expect(parseSpamReport(answer)).toEqual(expected);
    });
  }

  // Each refused request as spamd answered it (the last two were made up: a cut connection).
  const failures: { name: string; answer: string; message: RegExp }[] = [
    {
      name: 'an unknown command',
      answer: 'SPAMD/1.0 76 Bad header line: BOGUS SPAMC/1.5\r\n',
      message: /answered 76 Bad header line: BOGUS SPAMC\/1\.5$/,
    },
    {
      name: 'a Content-length longer than the message',
      answer: 'SPAMD/1.0 76 Bad header line: (Content-Length mismatch: Expected 500 bytes, got 20 bytes)\r\n',
      message: /answered 76 .*Content-Length mismatch/,
    },
    { name: 'a PING answer', answer: 'SPAMD/1.5 0 PONG\r\n', message: /no Spam header/ },
    {
      name: 'not spamd at all',
      answer: '+PONG\r\n',
      message: /does not start with a SPAMD status line \(got "\+PONG"\)/,
    },
    { name: 'a report cut short', answer: CLEAN.slice(0, 400), message: /stopped after \d+ of 792 bytes/ },
  ];
  for (const { name, answer, message } of failures) {
    it(`E_SPAM_UNAVAILABLE for ${name}`, () => {
      let caught: unknown;
      try {
        parseSpamReport(answer);
      } catch (error) {
        caught = error;
      }
      expect(isDispatchError(caught, 'E_SPAM_UNAVAILABLE'), String(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/^spamd did not score the message: /);
      expect((caught as Error).message).toMatch(message);
    });
  }
});
