import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Mailer } from '../io/mailer.js';
import { type Config, previewUrlOf } from '../src/config.js';
import { bounceAddressOf } from '../src/links/mail-tags.js';
import { escapeHtml } from '../src/newsletter/escape-for-template.js';
import type { OutgoingMessage } from '../src/newsletter/to-message.js';
import { parsePayload } from './job-error.js';
import { type EditorNoticePayload, editorNoticePayload } from './queues.js';

/** What a notice's detail may hold: one line, bounded (it quotes errors, which quote input). */
const DETAIL_CHARS = 600;

/** Control characters, line and paragraph separators and bidi overrides: none of them belongs in a notice line. */
const UNSAFE = /[\p{Cc}\p{Cs}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** A failure's "E_CODE: message" on one line, bounded. */
function detailLine(detail: string | undefined): string {
  const flat = (detail ?? '')
    .slice(0, DETAIL_CHARS * 2)
    .replace(UNSAFE, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return Array.from(flat).slice(0, DETAIL_CHARS).join('') || 'no detail was recorded';
}

/** The error code a detail starts with, for the subject; null when there is none. */
function codeOf(detail: string | undefined): string | null {
  return /^(E_[A-Z_]+):/.exec(detail ?? '')?.[1] ?? null;
}

/**
 * The subject and text of a notice to the editors: what happened to the week, that nothing went to
 * readers, and what to do. Pure; the detail (an error message, which may quote titles or file
 * names) is one bounded line, and the subject holds only the week and the error's code.
 */
export function editorNotice(
  payload: EditorNoticePayload,
  config: Pick<Config, 'NEWSLETTER_CRON' | 'TZ' | 'SITE_NAME' | 'PREVIEW_URL' | 'PREVIEW_HOST' | 'PREVIEW_PORT'>,
): { subject: string; text: string } {
  const { week, kind } = payload;
  const page = `${previewUrlOf(config)}/issues/${week}`;
  const code = codeOf(payload.detail);
  const failure = `    ${detailLine(payload.detail)}`;
  const [subject, lines] = (
    {
      empty: [
        'no issue this week (no articles were published)',
        [
          `No articles were published in ${week}, so there is no issue and nothing went to readers.`,
          '',
          `Articles that arrive later in the week are taken up by the next weekly build (NEWSLETTER_CRON "${config.NEWSLETTER_CRON}", ${config.TZ}).`,
          `The week in the preview: ${page}`,
        ],
      ],
      'build-failed': [
        `the issue could not be built${code ? ` (${code})` : ''}`,
        [
          `The weekly build of ${week} failed, so nothing went to readers:`,
          '',
          failure,
          '',
          'Fix the cause; the next weekly build tries again, or rebuild it now from the preview:',
          page,
          `Its state: dispatch issue show ${week}`,
        ],
      ],
      'send-failed': [
        `the list send did not start${code ? ` (${code})` : ''}`,
        [
          `The list send of ${week} could not start, so nothing went to readers:`,
          '',
          failure,
          '',
          `Fix the cause, then: dispatch issue approve ${week} (or Approve on ${page})`,
          `Its state: dispatch issue show ${week}`,
        ],
      ],
    } as const
  )[kind];
  const text = [...lines, '', '-- ', `Dispatch, the weekly newsletter of ${config.SITE_NAME}`, ''].join('\n');
  return { subject: `[Dispatch] ${week}: ${subject}`, text };
}

/**
 * send, job "editor-notice": tells the editors (EDITOR_EMAILS) what the weekly loop could not do:
 * an empty week, a build or a list send that failed for good. One message to all of them, from
 * MAIL_FROM, its envelope from the bare bounce address (a notice is no list mail), with a
 * Message-ID fixed by the job, so a retry is the same message. No editors: nothing is sent.
 */
export function editorNoticeJob(deps: { config: Config; mailer: () => Mailer }) {
  return async (job: Job): Promise<{ to: string[]; messageId: string | null }> => {
    const payload = parsePayload(editorNoticePayload, job.data, 'editor-notice');
    const { config } = deps;
    if (config.EDITOR_EMAILS.length === 0) return { to: [], messageId: null };
    const { subject, text } = editorNotice(payload, config);
    const unique = createHash('sha256').update(`${job.id}`).digest('hex').slice(0, 16);
    const message: OutgoingMessage = {
      from: config.MAIL_FROM,
      to: config.EDITOR_EMAILS.join(', '),
      subject,
      text,
      // The mailer sends both parts; the HTML is the same text, escaped, as it reads in the text part.
      html: `<!doctype html><html><body><pre style="white-space:pre-wrap;font:14px/1.5 monospace;">${escapeHtml(text)}</pre></body></html>`,
      messageId: `<notice.${payload.week}.${payload.kind}.${unique}@${new URL(config.SITE_URL).hostname}>`,
      headers: {
        // RFC 3834: made by a program; auto-responders must not answer it.
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'OOF, AutoReply',
      },
      envelopeFrom: bounceAddressOf(config),
    };
    const sent = await deps.mailer().send(message);
    return { to: config.EDITOR_EMAILS, messageId: sent.messageId };
  };
}
