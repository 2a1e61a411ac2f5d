import type { z } from 'zod';

/**
 * A zod failure as one line per problem, `path: message` (`root: message` for the value itself, or
 * the bare message without a root). Every place that validates outside input words it this way.
 */
export function zodProblems(error: z.ZodError, root?: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.') || root;
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
