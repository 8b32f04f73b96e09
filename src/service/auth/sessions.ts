import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.js';
import type { SessionState } from './access-rule.js';

// The dashboard's sessions, kept in Redis so every `serve` process sharing it knows them and
// sign-out ends a session everywhere. The browser holds a random id (32 bytes, never the API
// token); Redis holds only the id's SHA-256 as the key, so reading Redis does not give a
// working cookie. A session ends after IDLE_SECONDS without a request (each request starts
// that time again), and in any case MAX_SECONDS after sign-in.

const SESSION_IDLE_SECONDS = 12 * 60 * 60;
const SESSION_MAX_SECONDS = 7 * 24 * 60 * 60;

/** 32 bytes in base64url, as `create` makes them; anything else is not looked up. */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface SessionOptions {
  idleSeconds?: number;
  maxSeconds?: number;
}

function keyOf(id: string): string {
  return redisKeys.session(createHash('sha256').update(id).digest('hex'));
}

export class Sessions {
  readonly #redis: Redis;
  readonly #idleSeconds: number;
  readonly #maxSeconds: number;

  constructor(redis: Redis, opts: SessionOptions = {}) {
    this.#redis = redis;
    this.#idleSeconds = opts.idleSeconds ?? SESSION_IDLE_SECONDS;
    this.#maxSeconds = opts.maxSeconds ?? SESSION_MAX_SECONDS;
  }

  /** How long the browser should keep the cookie: no session lives longer. */
  get maxSeconds(): number {
    return this.#maxSeconds;
  }

  /** A new session; the id goes into the cookie and nowhere else. */
  async create(now = Date.now()): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    // The value is the hard end of the session; the key's expiry is the idle end.
    await this.#redis.set(keyOf(id), String(now + this.#maxSeconds * 1000), 'EX', Math.min(this.#idleSeconds, this.#maxSeconds));
    return id;
  }

  /** Whether the session lives; a live one's idle time starts again. */
  async state(id: string, now = Date.now()): Promise<SessionState> {
    if (!ID_SHAPE.test(id)) return 'gone';
    const key = keyOf(id);
    // GETEX reads and restarts the idle expiry in one round trip (Redis 6.2+).
    const end = await this.#redis.getex(key, 'EX', this.#idleSeconds);
    if (end === null) return 'gone';
    if (!(Number(end) > now)) {
      await this.#redis.del(key);
      return 'gone';
    }
    return 'live';
  }

  /** Sign-out: the session is deleted, so its cookie no longer works anywhere. */
  async revoke(id: string): Promise<void> {
    if (ID_SHAPE.test(id)) await this.#redis.del(keyOf(id));
  }
}
