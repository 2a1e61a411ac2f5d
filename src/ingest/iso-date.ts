/** A date string of any form `Date.parse` reads, as ISO 8601 UTC; null when absent or unreadable. */
export function isoDateOrNull(value: string | null | undefined): string | null {
  if (!value) return null;
  const time = Date.parse(value.trim());
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}
