// The dashboard's session store (src/service/auth/sessions.ts) on a real redis-server: how a
// session lives, idles out, reaches its hard end and is revoked, with the times shortened to
// seconds. The service-level behaviour (sign-in, sign-out, cookies) is in service-receiver.test.ts.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sessions } from '../../src/service/auth/sessions.js';
import { producerConnection, whenReady } from '../../src/service/redis-connection.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let client: Redis;
const keyOf = (id: string) => `autobuild:session:${createHash('sha256').update(id).digest('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = await startRedis();
  client = producerConnection(redis.url);
  await whenReady(client, redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.dispose();
});

describe('dashboard sessions in Redis', () => {
  it('a new session lives, under the hash of its id only', async () => {
    const sessions = new Sessions(client);
    const id = await sessions.create();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessions.state(id)).toBe('live');
    expect(await client.exists(keyOf(id))).toBe(1);
    expect(await client.keys(`*${id}*`)).toEqual([]);
  });

  it('sign-out deletes the session: its id is gone at once', async () => {
    const sessions = new Sessions(client);
    const id = await sessions.create();
    await sessions.revoke(id);
    expect(await sessions.state(id)).toBe('gone');
    expect(await client.exists(keyOf(id))).toBe(0);
  });

  it('a session idle longer than the idle time is gone; each request starts that time again', async () => {
    const sessions = new Sessions(client, { idleSeconds: 2 });
    const used = await sessions.create();
    const idle = await sessions.create();
    for (let i = 0; i < 3; i++) {
      await sleep(1_200);
      expect(await sessions.state(used), `request ${i + 1}, 1.2 s after the last`).toBe('live');
    }
    expect(await sessions.state(idle)).toBe('gone');
  });

  it('a session in use still ends at its hard end, and its key goes with it', async () => {
    const sessions = new Sessions(client, { idleSeconds: 60, maxSeconds: 100 });
    const now = Date.now();
    const id = await sessions.create(now);
    expect(await sessions.state(id, now + 99_000)).toBe('live');
    expect(await sessions.state(id, now + 100_000)).toBe('gone');
    expect(await client.exists(keyOf(id))).toBe(0);
  });

  it('ids that no sign-in made are gone, without a lookup for malformed ones', async () => {
    const sessions = new Sessions(client);
    expect(await sessions.state('A'.repeat(43))).toBe('gone');
    for (const id of ['', 'short', 'api-token-for-tests-0123456789', `${'A'.repeat(42)}!`, 'A'.repeat(44)]) {
      expect(await sessions.state(id), JSON.stringify(id)).toBe('gone');
    }
  });
});
