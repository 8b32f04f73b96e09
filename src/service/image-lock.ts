import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

// One lock per image across every worker, held while a build moves that image's moving tags, so
// two builds finishing together decide "is this still the highest version?" one after the other.
// SET NX PX with a random token; renewed while held, released only by its holder.

const TTL_MS = 30_000;
const RENEW_MS = 10_000;
const WAIT_STEP_MS = 200;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export type ImageLock = <T>(image: string, fn: () => Promise<T>) => Promise<T>;

export function imageLock(redis: Redis, signal?: AbortSignal): ImageLock {
  return async <T>(image: string, fn: () => Promise<T>): Promise<T> => {
    const key = redisKeys.imageLock(image);
    const token = randomUUID();
    while ((await redis.set(key, token, 'PX', TTL_MS, 'NX')) !== 'OK') {
      if (signal?.aborted) throw new Error(`gave up waiting for the lock on ${image}: build canceled`);
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
    }
    const renew = setInterval(() => void redis.eval(RENEW, 1, key, token, TTL_MS).catch(() => undefined), RENEW_MS);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  };
}
