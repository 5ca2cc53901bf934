import type { Kernel } from '../../kernel/kernel.js';

/**
 * What `kluis_find_api_token` answered for a bearer, reused for a second by the kernel (the
 * server's process) that asked, so a client sending many requests costs one look-up a second
 * instead of one per request (decision 0730). Only tokens found are kept: an unknown or revoked
 * bearer asks the database every time. A revocation or a change of a staff account (role,
 * status) made through this kernel forgets every token at once, and a look-up that was already
 * under way when it did is not kept; one made elsewhere (another process) takes effect within
 * the second, as a policy change already does within its cache's five (decision 0583).
 */
export interface FoundToken {
  token_id: number;
  role: string;
  created_by: number;
  creator_role: string;
  slug: string;
}

/** How long a token found is reused (against the kernel's clock, so tests can move it). */
export const TOKEN_REUSE_MS = 1_000;
/** At most this many tokens kept per kernel; beyond it, all are forgotten and found again. */
const MAX_KEPT = 10_000;

interface KeptTokens {
  /** Moves at every forget(): a look-up begun before a forget() is not kept. */
  generation: number;
  found: Map<string, { token: FoundToken; until: number }>;
}

const KEPT = new WeakMap<Kernel, KeptTokens>();

function keptOf(kernel: Kernel): KeptTokens {
  let kept = KEPT.get(kernel);
  if (!kept) {
    kept = { generation: 0, found: new Map() };
    KEPT.set(kernel, kept);
  }
  return kept;
}

/** The key of a bearer: its tenant and the SHA-256 of its secret (never the secret itself). */
export function tokenKey(tenantId: number, hash: Buffer): string {
  return `${tenantId}:${hash.toString('base64')}`;
}

export function reusedToken(kernel: Kernel, key: string): FoundToken | undefined {
  const kept = KEPT.get(kernel)?.found.get(key);
  if (!kept) return undefined;
  if (kept.until > kernel.clock.now().getTime()) return kept.token;
  KEPT.get(kernel)?.found.delete(key);
  return undefined;
}

/** The generation to hand back to keepToken once the look-up has answered. */
export function tokenGeneration(kernel: Kernel): number {
  return keptOf(kernel).generation;
}

export function keepToken(kernel: Kernel, key: string, token: FoundToken, generation: number): void {
  const kept = keptOf(kernel);
  if (kept.generation !== generation) return;
  if (kept.found.size >= MAX_KEPT) kept.found.clear();
  kept.found.set(key, { token, until: kernel.clock.now().getTime() + TOKEN_REUSE_MS });
}

/** Forgets every token found: a token was revoked or a staff account changed. */
export function forgetFoundTokens(kernel: Kernel): void {
  const kept = keptOf(kernel);
  kept.generation += 1;
  kept.found.clear();
}
