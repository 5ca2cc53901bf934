import type { Clock } from '../../platform/clock.js';

export interface LoginLimiterOptions {
  /** Failed attempts allowed per address within the window. */
  maxFailures: number;
  windowMs: number;
  clock: Clock;
  /** Addresses remembered at most; the oldest windows are dropped first. */
  maxEntries?: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Failed logins per client address, in this process's memory (decision 0020): enough for one
 * Kluis process; several processes behind a balancer each count their own share. Only failures
 * count, so staff behind one office NAT who log in correctly are never slowed down.
 */
export class LoginLimiter {
  readonly #options: Required<LoginLimiterOptions>;
  readonly #windows = new Map<string, Window>();

  constructor(options: LoginLimiterOptions) {
    this.#options = { maxEntries: 100_000, ...options };
  }

  /** True when the address has used up its failures for the current window. */
  isBlocked(address: string): boolean {
    const window = this.#current(address);
    return window !== undefined && window.failures >= this.#options.maxFailures;
  }

  /** Counts a failure; true when this one used up the allowance (worth one audit entry). */
  recordFailure(address: string): boolean {
    const now = this.#options.clock.now().getTime();
    let window = this.#current(address);
    if (!window) {
      if (this.#windows.size >= this.#options.maxEntries) this.#evictOldest();
      window = { startedAt: now, failures: 0 };
    }
    window.failures += 1;
    // Re-insert so the map's order stays oldest-first for eviction.
    this.#windows.delete(address);
    this.#windows.set(address, window);
    return window.failures === this.#options.maxFailures;
  }

  #current(address: string): Window | undefined {
    const window = this.#windows.get(address);
    if (!window) return undefined;
    if (this.#options.clock.now().getTime() - window.startedAt >= this.#options.windowMs) {
      this.#windows.delete(address);
      return undefined;
    }
    return window;
  }

  #evictOldest(): void {
    const oldest = this.#windows.keys().next();
    if (!oldest.done) this.#windows.delete(oldest.value);
  }
}
