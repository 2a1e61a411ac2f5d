import Handlebars from 'handlebars';
import { DispatchError, isDispatchError } from '../errors.js';
import { compileMjml, compileTemplateFile, firstLine } from './compile-template.js';
import { escapeForTemplate } from './escape-for-template.js';
import type { NewsletterIssue } from './newsletter-issue.js';
import {
  noOne,
  type Personalizable,
  personalize,
  RECIPIENT_FIELDS,
  type Recipient,
  recipientToken,
} from './personalize.js';
import type { Templates } from './templates.js';
import { toPlainText } from './to-plain-text.js';

export interface RenderOptions {
  /** MJML validation: `strict` throws E_MJML_INVALID (tests, CI, the worker); `soft` returns warnings (the preview). @defaultValue 'strict' */
  validation?: 'strict' | 'soft';
  /** The personalized HTML must not be larger than this. @defaultValue 100000 */
  maxHtmlBytes?: number;
  /** `<mjml lang>`. @defaultValue 'en' */
  language?: string;
  /**
   * Also render the final issue (after any cuts) for its public page, as `web`: for no one, with
   * a sign-up call to action where a mail has the reader's own links. Costs a second MJML compile.
   * @defaultValue false
   */
  web?: boolean;
}

export interface RenderedIssue extends Personalizable {
  /** The issue as rendered: after any cuts made to fit the size budget. */
  issue: NewsletterIssue;
  mjml: string;
  /** Bytes of the HTML personalized for the longest plausible recipient. */
  bytes: number;
  /** What was cut to fit the budget, and MJML's own warnings at soft validation. */
  warnings: string[];
  /** The issue's public page, with no recipient token left in it; only with the `web` option. */
  web?: { html: string };
}

/** A recipient as long as any real one, to measure the personalized size against the budget. */
const SIZING_RECIPIENT: Recipient = {
  email: `${'x'.repeat(40)}@${'y'.repeat(40)}.example`,
  firstName: 'x'.repeat(40),
  unsubscribeUrl: `https://news.example.com/unsubscribe/${'t'.repeat(160)}`,
  preferencesUrl: `https://news.example.com/preferences/${'t'.repeat(160)}`,
};

/** Per-recipient values stay {{tokens}} through MJML; `personalize` fills them. */
const RECIPIENT_TOKENS = Object.fromEntries(
  RECIPIENT_FIELDS.map((k) => [k, new Handlebars.SafeString(recipientToken(k))]),
);

/** What every template may read, also on issues built before it existed. */
function withDefaults(issue: NewsletterIssue): NewsletterIssue {
  return {
    ...issue,
    note: issue.note ?? [],
    site: { ...issue.site, signupPageUrl: issue.site.signupPageUrl ?? issue.site.signupUrl },
  };
}

/** Zero-width non-joiners and spaces after the preheader, so clients show nothing else in the preview. */
const PREHEADER_PADDING = '&#847;&zwnj;&nbsp;'.repeat(90);

function compileTemplates(templates: Templates): HandlebarsTemplateDelegate {
  const env = Handlebars.create();
  for (const [name, file] of Object.entries(templates.partials)) {
    env.registerPartial(name, compileTemplateFile(env, file));
  }
  return compileTemplateFile(env, templates.main);
}

/** Finds the template line an MJML error most likely comes from: the one naming the same attribute or tag. */
function locate(templates: Templates, mjmlLine: string, message: string): string | undefined {
  const attribute = /Attribute (\S+)/.exec(message)?.[1];
  const tag = /<(mj-[\w-]+)/.exec(mjmlLine)?.[1];
  for (const file of [templates.main, ...Object.values(templates.partials)]) {
    const lines = file.source.split('\n');
    const index = lines.findIndex((l) =>
      attribute ? l.includes(`${attribute}=`) : tag ? l.includes(`<${tag}`) : false,
    );
    if (index >= 0) return `${file.path} line ${index + 1}`;
  }
  return undefined;
}

function compileIssueMjml(
  mjml: string,
  templates: Templates,
  validation: 'strict' | 'soft',
): Promise<{ html: string; warnings: string[] }> {
  return compileMjml(mjml, validation, (e) => {
    const mjmlLine = mjml.split('\n')[e.line - 1] ?? '';
    const where = locate(templates, mjmlLine, e.message) ?? `issue.mjml line ${e.line}`;
    return `${where} (${e.tagName}): ${e.message}`;
  });
}

/** Handlebars, then MJML: the issue's HTML, for the mail (with recipient tokens) or for the web. */
async function compileOnce(
  issue: NewsletterIssue,
  fill: HandlebarsTemplateDelegate,
  templates: Templates,
  options: Required<RenderOptions>,
  web: boolean,
) {
  let mjml: string;
  try {
    mjml = fill({
      issue: escapeForTemplate(withDefaults(issue)),
      recipient: RECIPIENT_TOKENS,
      preheaderPadding: PREHEADER_PADDING,
      language: options.language,
      web,
    });
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${templates.main.path}: ${firstLine(cause)}`, { cause });
  }
  return { mjml, ...(await compileIssueMjml(mjml, templates, options.validation)) };
}

async function renderOnce(
  issue: NewsletterIssue,
  fill: HandlebarsTemplateDelegate,
  templates: Templates,
  options: Required<RenderOptions>,
) {
  const { mjml, html, warnings } = await compileOnce(issue, fill, templates, options, false);
  const rendered = { subject: issue.subject, html, text: toPlainText(issue) };
  const bytes = Buffer.byteLength(personalize(rendered, SIZING_RECIPIENT).html);
  return { ...rendered, mjml, bytes, warnings };
}

/** Degrading steps, mildest first: each returns a smaller issue and what it cut, or null when it has nothing to cut. */
const STEPS: ((issue: NewsletterIssue) => { issue: NewsletterIssue; cut: string } | null)[] = [
  (issue) => {
    const withImages = issue.cards.filter((c) => c.image).length;
    if (!withImages) return null;
    return {
      issue: { ...issue, cards: issue.cards.map((c) => ({ ...c, image: null })) },
      cut: `dropped the images of ${withImages} card(s) beyond the lead`,
    };
  },
  (issue) => {
    const long = issue.cards.filter((c) => c.bullets.length > 1).length;
    if (!long) return null;
    return {
      issue: { ...issue, cards: issue.cards.map((c) => ({ ...c, bullets: c.bullets.slice(0, 1) })) },
      cut: `kept only the first bullet of ${long} card(s)`,
    };
  },
];

/** Moves the last full card (the oldest, unless an editor ordered them) into the "More this week" list. */
function moveOldestCard(issue: NewsletterIssue): { issue: NewsletterIssue; cut: string } | null {
  const oldest = issue.cards.at(-1);
  if (!oldest) return null;
  return {
    issue: {
      ...issue,
      cards: issue.cards.slice(0, -1),
      more: [...issue.more, { title: oldest.title, url: oldest.url }],
    },
    cut: `moved "${oldest.title}" into More this week`,
  };
}

/**
 * Renders an issue: Handlebars fills the templates once, MJML compiles once, and the result keeps
 * per-recipient {{tokens}} for `personalize`. Over the size budget (measured after
 * personalization) it cuts step by step, deterministically (images beyond the lead, then bullets
 * beyond the first, then the last cards into "More this week"), and says what it cut in `warnings`.
 * With `web`, the final issue is rendered once more for its public page (see {@link RenderedIssue.web}).
 */
export async function renderIssue(
  issue: NewsletterIssue,
  templates: Templates,
  options: RenderOptions = {},
): Promise<RenderedIssue> {
  try {
    return await renderWithin(issue, templates, options);
  } catch (cause) {
    if (isDispatchError(cause)) throw cause;
    // Whatever the issue holds, a render fails with a code: a bug here must not read as an outage.
    const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new DispatchError('E_INTERNAL', `rendering the ${issue.week} issue: ${message}`, { cause });
  }
}

async function renderWithin(issue: NewsletterIssue, templates: Templates, options: RenderOptions) {
  const settings: Required<RenderOptions> = {
    validation: options.validation ?? 'strict',
    maxHtmlBytes: options.maxHtmlBytes ?? 100_000,
    language: options.language ?? 'en',
    web: options.web ?? false,
  };
  const fill = compileTemplates(templates);
  let current = issue;
  let rendered = await renderOnce(current, fill, templates, settings);
  const cuts: string[] = [];
  let step = 0;
  while (rendered.bytes > settings.maxHtmlBytes) {
    const next = step < STEPS.length ? (STEPS[step] as (typeof STEPS)[number])(current) : moveOldestCard(current);
    if (step < STEPS.length) step++;
    else if (!next) break;
    if (!next) continue;
    current = next.issue;
    cuts.push(next.cut);
    rendered = await renderOnce(current, fill, templates, settings);
  }
  const warnings = [...cuts.map((c) => `over ${settings.maxHtmlBytes} bytes: ${c}`), ...rendered.warnings];
  if (rendered.bytes > settings.maxHtmlBytes) {
    warnings.push(`still ${rendered.bytes} bytes after every cut, over the ${settings.maxHtmlBytes}-byte budget`);
  }
  if (!settings.web) return { ...rendered, issue: current, warnings };
  const web = await compileOnce(current, fill, templates, settings, true);
  for (const w of web.warnings) if (!rendered.warnings.includes(w)) warnings.push(`web page: ${w}`);
  // A template that ignores `web` may still print recipient tokens: they are filled for no one,
  // by the same merge a send uses, so the page holds none.
  const signupPage = current.site.signupPageUrl ?? current.site.signupUrl;
  const page = personalize({ subject: current.subject, html: web.html, text: '' }, noOne(signupPage));
  return { ...rendered, issue: current, warnings, web: { html: page.html } };
}
