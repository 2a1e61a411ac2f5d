import Handlebars from 'handlebars';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
  // Braces too: the compiled HTML is a Handlebars template again for each recipient, so article
  // text must not be able to open a {{mustache}} there.
  '{': '&#123;',
  '}': '&#125;',
};

/** HTML-escapes a string, braces included. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`={}]/g, (c) => ENTITIES[c] as string);
}

/**
 * The issue as templates see it: every string escaped once here and marked safe, so that
 * `{{title}}` and `{{{title}}}` print the same escaped text and a template edit cannot unescape it.
 */
export function escapeForTemplate(value: unknown): unknown {
  if (typeof value === 'string') return new Handlebars.SafeString(escapeHtml(value));
  if (Array.isArray(value)) return value.map(escapeForTemplate);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeForTemplate(v)]));
  }
  return value;
}
