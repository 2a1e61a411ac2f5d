/**
 * An absolute http(s) URL, resolved against `base` when relative; anything else (javascript:,
 * data:, mailto:, garbage) is null. Article-derived links go through this before any HTML sees them.
 */
export function safeHttpUrl(value: string | null | undefined, base?: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim(), base ?? undefined);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
