import { z } from 'zod';
import { DispatchError } from '../errors.js';
import { zodProblems } from '../zod-problems.js';

/**
 * An article handed over as JSON. `body` may be a string (paragraphs separated by newlines) or an
 * array of paragraphs; `article` and `text` are accepted as its synonyms; `html` is a whole page.
 */
export const jsonArticleSchema = z
  .object({
    title: z.string().optional(),
    body: z.union([z.string(), z.array(z.string())]).optional(),
    article: z.union([z.string(), z.array(z.string())]).optional(),
    text: z.string().optional(),
    html: z.string().optional(),
    url: z.string().optional(),
    description: z.string().optional(),
    byline: z.string().optional(),
    author: z.string().optional(),
    attribution: z.string().optional(),
    siteName: z.string().optional(),
    publishedAt: z.string().optional(),
    language: z.string().optional(),
    image: z.union([z.string(), z.object({ url: z.string(), alt: z.string().nullish() })]).optional(),
  })
  .loose()
  .refine((v) => v.body !== undefined || v.article !== undefined || v.text !== undefined || v.html !== undefined, {
    message: 'needs one of body, article, text or html',
  });

export type JsonArticle = z.output<typeof jsonArticleSchema>;

/** Parses and checks a JSON article, with one clear line when it is not one. */
export function readJson(text: string, source = 'input'): JsonArticle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DispatchError('E_INPUT_FORMAT', `${source}: invalid JSON (${reason})`, { cause });
  }
  const result = jsonArticleSchema.safeParse(value);
  if (!result.success) {
    throw new DispatchError(
      'E_INPUT_FORMAT',
      `${source}: not an article object (${zodProblems(result.error).join('; ')})`,
    );
  }
  return result.data;
}
