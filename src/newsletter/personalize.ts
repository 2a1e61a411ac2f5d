import Handlebars from 'handlebars';

/** Who a message goes to, with the links that are theirs alone. */
export interface Recipient {
  email: string;
  firstName?: string | null;
  unsubscribeUrl: string;
  preferencesUrl: string;
}

/** The per-recipient parts of a rendered issue (see `renderIssue`): HTML and text with {{tokens}} left in. */
export interface Personalizable {
  subject: string;
  html: string;
  text: string;
}

export interface PersonalMessage {
  subject: string;
  html: string;
  text: string;
}

/** Used when a recipient has no first name: "Hi there,". */
export const FIRST_NAME_FALLBACK = 'there';

interface Compiled {
  html: string;
  text: string;
  templates: { html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate };
}

/**
 * The last few issues' compiled templates, by content: an issue read again from the store is a new
 * object with the same text, and must not be compiled again for each message.
 */
const compiled: Compiled[] = [];
const COMPILED_KEPT = 4;

function templatesFor(rendered: Personalizable): Compiled['templates'] {
  let entry = compiled.find((e) => e.html === rendered.html && e.text === rendered.text);
  if (!entry) {
    entry = {
      html: rendered.html,
      text: rendered.text,
      templates: {
        html: Handlebars.compile(rendered.html, { strict: true }),
        text: Handlebars.compile(rendered.text, { strict: true, noEscape: true }),
      },
    };
    compiled.unshift(entry);
    compiled.length = Math.min(compiled.length, COMPILED_KEPT);
  }
  return entry.templates;
}

/**
 * Merges one recipient into a rendered issue with Handlebars, without MJML: the HTML and
 * text are compiled once (the first time) and then only filled, so this runs per recipient at
 * Handlebars speed. HTML values are escaped; the text part takes them as they are.
 */
export function personalize(rendered: Personalizable, recipient: Recipient): PersonalMessage {
  const templates = templatesFor(rendered);
  const data = {
    email: recipient.email,
    firstName: recipient.firstName?.trim() || FIRST_NAME_FALLBACK,
    unsubscribeUrl: recipient.unsubscribeUrl,
    preferencesUrl: recipient.preferencesUrl,
  };
  return { subject: rendered.subject, html: templates.html(data), text: templates.text(data) };
}
