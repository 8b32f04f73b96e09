// Wrong tokens per client address (API Bearer, dashboard sign-in, trigger URLs): after LIMIT
// wrong ones within a window, that address is refused with 429 until the window ends, whatever
// it sends. A token of 16+ characters (config.ts) cannot be guessed at that rate; this keeps
// anyone from trying. Behind a reverse proxy every client shares the proxy's address, so a
// flood of wrong tokens locks out the proxy's users for the rest of the minute: acceptable for
// an admin API, and still better than letting the guessing run.

const LIMIT = 10;
const WINDOW_MS = 60_000;
/** Addresses remembered at once; beyond it, finished windows are dropped first. */
const MAX_ADDRESSES = 10_000;

export class GuessThrottle {
  readonly #wrong = new Map<string, { count: number; until: number }>();
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit = LIMIT, windowMs = WINDOW_MS) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Seconds the address must wait, or undefined when it may try. */
  blocked(address: string, now = Date.now()): number | undefined {
    const entry = this.#wrong.get(address);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.#wrong.delete(address);
      return undefined;
    }
    return entry.count >= this.#limit ? Math.ceil((entry.until - now) / 1000) : undefined;
  }

  /** Counts one wrong token from the address. */
  wrong(address: string, now = Date.now()): void {
    const entry = this.#wrong.get(address);
    if (entry && entry.until > now) {
      entry.count++;
      return;
    }
    if (this.#wrong.size >= MAX_ADDRESSES) this.#prune(now);
    this.#wrong.set(address, { count: 1, until: now + this.#windowMs });
  }

  #prune(now: number): void {
    for (const [address, entry] of this.#wrong) if (entry.until <= now) this.#wrong.delete(address);
    // Still full: the oldest entries go (a Map iterates in insertion order).
    for (const address of this.#wrong.keys()) {
      if (this.#wrong.size < MAX_ADDRESSES) break;
      this.#wrong.delete(address);
    }
  }
}
