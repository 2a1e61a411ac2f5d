import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { DispatchError, isDispatchError } from '../errors.js';
import { escapeForTemplate } from '../newsletter/escape-for-template.js';
import type { TemplateFile } from '../newsletter/templates.js';

/** The two mails of a sign-up: the double opt-in request, and the welcome once confirmed. */
export type SignupMailKind = 'confirm' | 'welcome';

/** One kind's templates: `templates/mail/<kind>.mjml.hbs` and `<kind>.txt.hbs`. */
export interface SignupMailTemplates {
  mjml: TemplateFile;
  text: TemplateFile;
}

/** The publisher, as the sign-up mails name it (SITE_NAME, SITE_URL, PUBLISHER_ADDRESS). */
export interface SignupMailSite {
  name: string;
  url: string;
  address: string;
}

/** What a sign-up mail says. Every string is data: none is ever read as template syntax. */
export type SignupMailData =
  | {
      kind: 'confirm';
      site: SignupMailSite;
      email: string;
      /** PUBLIC_URL/confirm/<token> */
      confirmUrl: string;
      /** How long the link works (SIGNUP_CONFIRM_HOURS). */
      confirmHours: number;
    }
  | {
      kind: 'welcome';
      site: SignupMailSite;
      email: string;
      /** As the reader gave it; null or blank greets no one by name. */
      name: string | null;
      /** PUBLIC_URL/archive/<week> of the latest issue sent; null when none has gone out. */
      archiveUrl: string | null;
      unsubscribeUrl: string;
      preferencesUrl: string;
    };

export interface SignupMail {
  subject: string;
  html: string;
  text: string;
}

export interface SignupMailOptions {
  /** `<mjml lang>`. @defaultValue 'en' */
  language?: string;
}

/** Longest name a mail prints: the form bounds it too, but an import may not have. */
export const MAIL_NAME_CHARS = 80;

/**
 * One line of at most `max` characters: control characters (CR, LF, tabs, C1) and line separators
 * become spaces, so a value can neither start a header line in the subject nor add lines to the
 * text part.
 */
function oneLine(value: string, max = Number.POSITIVE_INFINITY): string {
  const flat = value
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(flat);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

/** The subject of each kind: plain words and the site's name, on one line. */
function subjectOf(data: SignupMailData): string {
  const site = oneLine(data.site.name);
  return data.kind === 'confirm' ? `Confirm your subscription to ${site}` : `Welcome to ${site} weekly`;
}

/** What the templates see, by name: the same fields in the HTML and the text template. */
function contextOf(data: SignupMailData, subject: string, language: string): Record<string, unknown> {
  const site = { name: oneLine(data.site.name), url: data.site.url, address: oneLine(data.site.address) };
  const common = { subject, language, site };
  if (data.kind === 'confirm') {
    return { ...common, reader: { email: data.email }, confirmUrl: data.confirmUrl, confirmHours: data.confirmHours };
  }
  const name = data.name ? oneLine(data.name, MAIL_NAME_CHARS) : '';
  return {
    ...common,
    reader: { email: data.email, name: name || null },
    archiveUrl: data.archiveUrl,
    unsubscribeUrl: data.unsubscribeUrl,
    preferencesUrl: data.preferencesUrl,
  };
}

// One Handlebars environment per part: the HTML one gets values already escaped and marked safe
// (escapeForTemplate, braces included), the text one prints them as they are (noEscape). Neither
// ever evaluates a value: Handlebars only ever parses the template files.
const htmlEnv = Handlebars.create();
const textEnv = Handlebars.create();

/**
 * Compiled templates by file and source, so that each template is compiled once per thread and a
 * template edited on disk (a new source) is compiled afresh; a few kept, the oldest dropped.
 */
const compiled = new Map<string, HandlebarsTemplateDelegate>();
const COMPILED_KEPT = 8;

function compile(file: TemplateFile, part: 'html' | 'text'): HandlebarsTemplateDelegate {
  const key = `${part}\0${file.path}\0${file.source}`;
  let fill = compiled.get(key);
  if (!fill) {
    try {
      // Parsed here so a syntax error is reported now, with the file, not at the first fill.
      Handlebars.parse(file.source);
      fill =
        part === 'html'
          ? htmlEnv.compile(file.source, { strict: true })
          : textEnv.compile(file.source, { strict: true, noEscape: true });
    } catch (cause) {
      throw new DispatchError('E_TEMPLATE', `${file.path}: ${firstLine(cause)}`, { cause });
    }
    compiled.set(key, fill);
    if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value as string);
  }
  return fill;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function fill(file: TemplateFile, part: 'html' | 'text', context: unknown): string {
  const template = compile(file, part);
  try {
    return template(context);
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${file.path}: ${firstLine(cause)}`, { cause });
  }
}

async function compileMjml(mjml: string, file: TemplateFile): Promise<string> {
  type MjmlError = { line: number; message: string; tagName: string };
  const describe = (e: MjmlError) => `${file.path} (filled) line ${e.line} (${e.tagName}): ${e.message}`;
  try {
    return (await mjml2html(mjml, { validationLevel: 'strict', fonts: {}, keepComments: false })).html;
  } catch (cause) {
    const errors = (cause as { errors?: MjmlError[] }).errors;
    const detail = errors?.length ? errors.map(describe).join('; ') : firstLine(cause);
    throw new DispatchError('E_MJML_INVALID', detail, { cause });
  }
}

/** The text part as it is sent: no blank lines at the start, at most one blank line in a row, one newline at the end. */
function tidyText(text: string): string {
  const lines = text.split('\n').map((l) => l.trimEnd());
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/**
 * Renders a sign-up mail: its subject, its HTML (Handlebars, then MJML at strict validation) and
 * its plain-text part (Handlebars alone). Pure. The reader's name and every other value are data:
 * HTML-escaped in the HTML part, verbatim (on one line) in the text part, never template syntax.
 * Failures carry a code: E_TEMPLATE (a template that does not compile or fill), E_MJML_INVALID,
 * or E_INTERNAL for anything unexpected.
 */
export async function renderSignupMail(
  data: SignupMailData,
  templates: SignupMailTemplates,
  options: SignupMailOptions = {},
): Promise<SignupMail> {
  try {
    const subject = subjectOf(data);
    const context = contextOf(data, subject, options.language ?? 'en');
    const html = await compileMjml(fill(templates.mjml, 'html', escapeForTemplate(context)), templates.mjml);
    const text = tidyText(fill(templates.text, 'text', context));
    return { subject, html, text };
  } catch (cause) {
    if (isDispatchError(cause)) throw cause;
    throw new DispatchError('E_INTERNAL', `rendering the ${data.kind} mail: ${firstLine(cause)}`, { cause });
  }
}
