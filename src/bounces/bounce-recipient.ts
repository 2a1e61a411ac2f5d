/**
 * True for the bounce address itself and its `+tag` forms (`bounces+...@example.com`), in any
 * case: all the bounce server takes mail for. Which tags are real is decided later, by their
 * signature; refusing the rest at RCPT keeps the server from being anyone's mail drop.
 */
export function isBounceRecipient(address: string, bounceAddress: string): boolean {
  const lower = address.trim().toLowerCase();
  const bounce = bounceAddress.toLowerCase();
  const at = bounce.lastIndexOf('@');
  const local = bounce.slice(0, at);
  const domain = bounce.slice(at);
  if (lower === bounce) return true;
  return lower.endsWith(domain) && lower.startsWith(`${local}+`) && !lower.slice(0, -domain.length).includes('@');
}
