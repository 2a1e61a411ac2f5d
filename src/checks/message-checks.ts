import { GMAIL_CLIP_BYTES, PREHEADER_MAX_CHARS, SUBJECT_MAX_CHARS } from '../newsletter/limits.js';
import type { CheckResult } from './check.js';

/** The message as the checks read it: what the sample recipient gets, and what its build said. */
export interface CheckedMessage {
  subject: string;
  preheader: string;
  /** The HTML part, personalized for the sample recipient. */
  html: string;
  /** The recipient's unsubscribe URL: the message must link to it. */
  unsubscribeUrl: string;
  /** MJML's validation errors from the build (a build keeps them as warnings). */
  mjmlErrors: readonly string[];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The HTML part against Gmail's clip: past 102 KB Gmail cuts the message, and its footer (the unsubscribe link) with it. */
export function checkSize(message: Pick<CheckedMessage, 'html'>): CheckResult {
  const bytes = Buffer.byteLength(message.html);
  const over = bytes > GMAIL_CLIP_BYTES;
  return {
    id: 'size',
    name: 'Size',
    state: over ? 'fail' : bytes > GMAIL_CLIP_BYTES * 0.9 ? 'warn' : 'ok',
    summary: `${kb(bytes)} of ${kb(GMAIL_CLIP_BYTES)} before Gmail clips the message`,
    findings: over
      ? [
          {
            state: 'fail',
            text: `${(bytes - GMAIL_CLIP_BYTES).toLocaleString('en')} bytes over: Gmail will clip the footer`,
          },
        ]
      : [],
  };
}

export function checkMjml(message: Pick<CheckedMessage, 'mjmlErrors'>): CheckResult {
  const errors = message.mjmlErrors;
  return {
    id: 'mjml',
    name: 'MJML',
    state: errors.length ? 'fail' : 'ok',
    summary: errors.length ? `${errors.length} validation error(s)` : 'valid',
    findings: errors.map((text) => ({ state: 'fail' as const, text })),
  };
}

export function checkSubject(message: Pick<CheckedMessage, 'subject'>): CheckResult {
  const length = [...message.subject].length;
  const state = length === 0 ? 'fail' : length > SUBJECT_MAX_CHARS ? 'warn' : 'ok';
  return {
    id: 'subject',
    name: 'Subject',
    state,
    summary: length === 0 ? 'empty' : `${length} characters (at most ${SUBJECT_MAX_CHARS} show in most inboxes)`,
    findings: [],
  };
}

export function checkPreheader(message: Pick<CheckedMessage, 'preheader'>): CheckResult {
  const length = [...message.preheader].length;
  return {
    id: 'preheader',
    name: 'Preheader',
    state: length === 0 || length > PREHEADER_MAX_CHARS ? 'warn' : 'ok',
    summary:
      length === 0
        ? 'empty: clients show the first text of the body instead'
        : `${length} characters (at most ${PREHEADER_MAX_CHARS})`,
    findings: [],
  };
}

/** The recipient's own unsubscribe link must be in the body (the List-Unsubscribe header is not enough for every client). */
export function checkUnsubscribe(message: Pick<CheckedMessage, 'html' | 'unsubscribeUrl'>): CheckResult {
  const hrefs = [...message.html.matchAll(/\bhref\s*=\s*"([^"]*)"/gi)].map((m) =>
    (m[1] as string).replace(/&amp;/g, '&'),
  );
  const linked = hrefs.includes(message.unsubscribeUrl);
  return {
    id: 'unsubscribe',
    name: 'Unsubscribe',
    state: linked ? 'ok' : 'fail',
    summary: linked ? 'the recipient’s unsubscribe link is in the body' : 'no link to the recipient’s unsubscribe URL',
    findings: [],
  };
}
