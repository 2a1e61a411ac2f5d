import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { DispatchError } from '../errors.js';
import type { TemplateFile } from './templates.js';

/**
 * Compiling what a templates folder holds, for the render and the sign-up mails alike:
 * Handlebars files to fill functions and MJML to HTML, each failure as one line with its code.
 * Only the CPU threads load this module (MJML is some 60 MB).
 */

/** The first line of an error's message: what a one-line error quotes of Handlebars' or MJML's. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * A template file compiled in a Handlebars environment, always strict. It is parsed first, so a
 * syntax error is reported now, as E_TEMPLATE with the file, not at the first fill.
 */
export function compileTemplateFile(
  env: typeof Handlebars,
  file: TemplateFile,
  options: CompileOptions = {},
): HandlebarsTemplateDelegate {
  try {
    Handlebars.parse(file.source);
    return env.compile(file.source, { ...options, strict: true });
  } catch (cause) {
    throw new DispatchError('E_TEMPLATE', `${file.path}: ${firstLine(cause)}`, { cause });
  }
}

/** One validation error of mjml2html. */
export interface MjmlError {
  line: number;
  message: string;
  tagName: string;
}

/** MJML to HTML, or E_MJML_INVALID with each of its errors as `describe` tells it. */
export async function compileMjml(
  mjml: string,
  validation: 'strict' | 'soft',
  describe: (error: MjmlError) => string,
): Promise<{ html: string; warnings: string[] }> {
  try {
    const result = await mjml2html(mjml, { validationLevel: validation, fonts: {}, keepComments: false });
    return { html: result.html, warnings: result.errors.map(describe) };
  } catch (cause) {
    const errors = (cause as { errors?: MjmlError[] }).errors;
    const detail = errors?.length ? errors.map(describe).join('; ') : firstLine(cause);
    throw new DispatchError('E_MJML_INVALID', detail, { cause });
  }
}
