/**
 * Top-level names that reach no one (RFC 6761: localhost, invalid, test, example; RFC 6762: local;
 * RFC 8375: home.arpa; internal, ICANN's name for private use): mail from them is never meant for
 * people (decisions 0843, 0861).
 */
const UNREACHABLE = /\.(localhost|invalid|test|example|local|internal|home\.arpa)$/i;

/** Whether an address's domain (or a bare domain) is under a name that reaches no one. */
export function isUnreachableDomain(addressOrDomain: string): boolean {
  return UNREACHABLE.test(addressOrDomain.slice(addressOrDomain.lastIndexOf('@') + 1));
}
