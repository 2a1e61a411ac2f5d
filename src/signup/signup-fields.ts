import { normalizeAddress } from '../subscribers/normalize-address.js';
import { oneLine } from '../text/one-line.js';

/** Longest name kept, in characters (code points); the rest is cut. */
export const NAME_MAX = 100;
/** Longest User-Agent kept in the consent record. */
export const USER_AGENT_MAX = 300;
/** Longest address input looked at or shown back; no address is longer (RFC 5321 allows 254). */
const EMAIL_INPUT_MAX = 320;

/** What a sign-up post says, cleaned. */
export interface SignupFields {
  /** The address as stored (normalizeAddress), or null when the input is not one. */
  email: string | null;
  /** What was typed, trimmed and bounded: shown back in the form when it is not an address. */
  emailInput: string;
  name: string | null;
  /** The honeypot `website` was filled in: a script did it, people never see the field. */
  honeypot: boolean;
  /** The hosted page's signed fill-time field, as given (see checkFillTime). */
  started: string | null;
}

export type SignupFieldsResult = { ok: true; fields: SignupFields } | { ok: false; reason: string };

function fields(email: unknown, name: string | null, website: unknown, started: unknown): SignupFields {
  const emailInput = typeof email === 'string' ? oneLine(email, EMAIL_INPUT_MAX) : '';
  const cleanName = name === null ? '' : oneLine(name, NAME_MAX);
  return {
    email: typeof email === 'string' && email.length <= EMAIL_INPUT_MAX ? normalizeAddress(email) : null,
    emailInput,
    name: cleanName === '' ? null : cleanName,
    // Any value at all: a field people never see is only ever filled by something that is not a person.
    honeypot: website !== undefined && website !== null && website !== '' && website !== false,
    started: typeof started === 'string' ? started.slice(0, 100) : null,
  };
}

/**
 * The fields of a sign-up post: `email`, optional `name`, the honeypot `website` and the hosted
 * page's `started`; other fields are ignored. `form` is application/x-www-form-urlencoded (the
 * first of repeated fields counts), `json` an object. A body that cannot be read as one is
 * refused with a one-line reason; an address that is not one is not refused here (see `email`).
 */
export function signupFields(body: string, format: 'form' | 'json'): SignupFieldsResult {
  if (format === 'form') {
    const form = new URLSearchParams(body);
    return {
      ok: true,
      fields: fields(form.get('email') ?? '', form.get('name'), form.get('website'), form.get('started')),
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'The body is not valid JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'The body must be a JSON object, e.g. {"email": "ana@example.org"}.' };
  }
  const object = value as Record<string, unknown>;
  if (object.name !== undefined && object.name !== null && typeof object.name !== 'string') {
    return { ok: false, reason: 'The field "name" must be a string.' };
  }
  if (object.email !== undefined && typeof object.email !== 'string') {
    return { ok: false, reason: 'The field "email" must be a string.' };
  }
  return {
    ok: true,
    fields: fields(
      object.email ?? '',
      (object.name as string | null | undefined) ?? null,
      object.website,
      object.started,
    ),
  };
}

/** The message for an address that is not one, quoting (a bounded copy of) what was typed. */
export function invalidAddressMessage(input: string): string {
  if (input === '') return 'Enter your email address.';
  const shown = Array.from(input).length > 80 ? `${Array.from(input).slice(0, 80).join('')}…` : input;
  return `"${shown}" is not an email address: check it and try again.`;
}
