/**
 * An email address as Dispatch stores it: trimmed and lowercased (domains are case-insensitive,
 * and in practice so are mailboxes), or null when it is not a plausible address.
 */
export function normalizeAddress(raw: string): string | null {
  const address = raw
    .trim()
    .replace(/^mailto:/i, '')
    .toLowerCase();
  if (address.length > 254) return null;
  // Control and bidi characters are no part of any address (RFC 5321, RFC 6531), only of forgeries.
  const match =
    /^([^@\s"(),:;<>[\]\\\p{Cc}\u202a-\u202e\u2066-\u2069]+)@([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)$/u.exec(
      address,
    );
  if (!match || (match[1] as string).length > 64 || /^\.|\.\.|\.$/.test(match[1] as string)) return null;
  return address;
}
