/**
 * Names that never resolve publicly, so mail from them is never meant for people (decisions 0843,
 * 0861): RFC 6761 (localhost, invalid, test, example), RFC 6762 (local), RFC 8375 (home.arpa),
 * ICANN's private-use `internal`, and the de-facto private `lan`, `corp`, `home` and `localdomain`
 * (never delegated; routers and directories use them on private networks).
 */
export const UNREACHABLE_NAMES = [
  'localhost',
  'invalid',
  'test',
  'example',
  'local',
  'localdomain',
  'internal',
  'home.arpa',
  'lan',
  'corp',
  'home',
] as const;

// The name itself or anything under it, with or without the root's trailing dot.
const UNREACHABLE = new RegExp(
  `(^|\\.)(${UNREACHABLE_NAMES.map((name) => name.replaceAll('.', '\\.')).join('|')})\\.?$`,
  'i',
);

/** Whether an address's domain (or a bare domain) is, or is under, a name that reaches no one. */
export function isUnreachableDomain(addressOrDomain: string): boolean {
  return UNREACHABLE.test(addressOrDomain.slice(addressOrDomain.lastIndexOf('@') + 1));
}

/** The names in words, for a message: ".localhost, .invalid, … or .home". */
export function describeUnreachableNames(): string {
  const names = UNREACHABLE_NAMES.map((name) => `.${name}`);
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}
