import type { Redis } from 'ioredis';
import type { PushOrder } from '../pipeline/pusher.js';
import { RedisScript } from './redis-connection.js';
import { redisKeys } from './redis-keys.js';

// Queue order for the push-time decision on moving tags without a version (a branch's `edge`):
// for each pushed ref, the newest build (by its record's `seq`) that pushed it. The pipeline asks
// and tells under the image lock, so "is a newer build already there?" and "I pushed" cannot
// interleave with another build's.

// Only ever moves forward, so a late `pushed` of an older build cannot lower it.
const RAISE = new RedisScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`);

export function pushOrder(redis: Redis, seq: number): PushOrder {
  return {
    seq,
    last: async (ref) => {
      const value = await redis.get(redisKeys.pushedSeq(ref));
      return value === null ? undefined : Number(value);
    },
    pushed: async (ref) => {
      await RAISE.run(redis, [redisKeys.pushedSeq(ref)], [seq]);
    },
  };
}
