import Handlebars from 'handlebars';
import { DispatchError, isDispatchError } from '../errors.js';
import { compileMjml, compileTemplateFile, firstLine } from '../newsletter/compile-template.js';
import { escapeForTemplate } from '../newsletter/escape-for-template.js';
import type { TemplateFile } from '../newsletter/templates.js';
import { oneLine } from '../text/one-line.js';

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
    fill =
      part === 'html' ? compileTemplateFile(htmlEnv, file) : compileTemplateFile(textEnv, file, { noEscape: true });
    compiled.set(key, fill);
    if (compiled.size > COMPILED_KEPT) compiled.delete(compiled.keys().next().value as string);
  }
  return fill;
}

function fill(file: TemplateFile, part: 'html' | 'text', context: unknown): string {
  const template = compile(file, part);
  try {
    return template(context);
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${file.path}: ${firstLine(cause)}`, { cause });
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
    const mjml = fill(templates.mjml, 'html', escapeForTemplate(context));
    const { html } = await compileMjml(
      mjml,
      'strict',
      (e) => `${templates.mjml.path} (filled) line ${e.line} (${e.tagName}): ${e.message}`,
    );
    const text = tidyText(fill(templates.text, 'text', context));
    return { subject, html, text };
  } catch (cause) {
    if (isDispatchError(cause)) throw cause;
    throw new DispatchError('E_INTERNAL', `rendering the ${data.kind} mail: ${firstLine(cause)}`, { cause });
  }
}
