// /healthz's Redis check against a real redis-server: a busy event loop in the service is not
// Redis being down, and a Redis that is gone is still reported within the deadline.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producerConnection, whenReady } from '../../src/service/redis-connection.js';
import { answersWithin } from '../../src/service/redis-health.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  // The service's own kind of connection for /healthz: fails fast while Redis is away.
  client = producerConnection(redis.url);
  client.on('error', () => undefined);
  await whenReady(client, redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.dispose();
});

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* the event loop is held, as by a large JSON.parse */
  }
}

describe('answersWithin', () => {
  it('says up when Redis answers', async () => {
    expect(await answersWithin(client, 1_000)).toBe(true);
  });

  it('says up when the event loop was busy for longer than the deadline right after asking', async () => {
    const answer = answersWithin(client, 1_000);
    busy(1_500);
    expect(await answer).toBe(true);
  });

  it('says up when the loop is busy in slices across the whole deadline', async () => {
    const answer = answersWithin(client, 300);
    for (let i = 0; i < 4; i++) {
      busy(200);
      await new Promise((r) => setImmediate(r));
    }
    expect(await answer).toBe(true);
  });

  it('says down, within about the deadline, when Redis is stopped', async () => {
    await redis.stop();
    const t0 = Date.now();
    expect(await answersWithin(client, 1_000)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(3_000);
    await redis.start();
  });
});
