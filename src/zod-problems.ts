import type { z } from 'zod';

/**
 * A zod failure as one line per problem, `path: message` (`root: message` for the value itself, or
 * the bare message without a root), or as `format` words it. Every place that validates outside
 * input turns zod's issues into words here.
 */
export function zodProblems(
  error: z.ZodError,
  root?: string,
  format: (path: string, message: string) => string = (path, message) => (path ? `${path}: ${message}` : message),
): string[] {
  return error.issues.map((issue) => format(issue.path.map(String).join('.') || (root ?? ''), issue.message));
}
