/** A template file's name (its path relative to the templates folder) and text. */
export interface TemplateFile {
  path: string;
  source: string;
}

/** The newsletter templates: the main MJML document and its partials (by name, e.g. "card"). */
export interface Templates {
  main: TemplateFile;
  partials: Record<string, TemplateFile>;
}
