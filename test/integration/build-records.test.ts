// The builds list reads only what it shows: on a real Redis, every command the list sends is
// watched (MONITOR), and none of them reads a record whole or its planned build.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/core/plan.js';
import { toQueuedBuild } from '../../src/core/queued-build.js';
import type { RepositoryConfig } from '../../src/core/types.js';
import { BuildRecords } from '../../src/service/build-records.js';
import { REPOSITORY, pushPayload } from '../support/webhook-payloads.js';
import { eventFromPayload } from '../../src/core/events.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.dispose();
});

const repo: RepositoryConfig = repositoryConfig({ images: ['registry.example.com/octo/app'] });

describe('GET /api/builds reads only the fields it shows', () => {
  it('lists newest first with every shown field, and never reads a record whole or its planned build', async () => {
    const records = new BuildRecords(client);
    const payload = pushPayload({ ref: 'refs/tags/v1.2.3' });
    payload.head_commit.message = 'x'.repeat(1_000_000);
    const build = plan({ event: eventFromPayload('push', payload), repositories: { [REPOSITORY]: repo } }).builds[0]!;
    const queued = { ...toQueuedBuild(build, repo), reason: 'base image 127.0.0.1:5000/base:1 changed sha256:a -> sha256:b' };
    for (const id of ['b1', 'b2', 'b3']) await records.create(id, queued, 'test', new Date());

    const monitor = await client.duplicate().monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
    const list = await records.list({ limit: 2 });
    await new Promise((r) => setTimeout(r, 200));
    monitor.disconnect();

    expect(list.map((b) => b.id)).toEqual(['b3', 'b2']);
    expect(list[0]).toEqual({
      id: 'b3',
      repository: REPOSITORY,
      ref: 'refs/tags/v1.2.3',
      sha: build.sha,
      images: build.images,
      tags: build.tags,
      status: 'queued',
      createdAt: expect.any(String),
      startedAt: null,
      finishedAt: null,
      digest: null,
      error: null,
      platforms: [],
      reason: queued.reason,
    });
    const reads = commands.filter((c) => c[0]?.toLowerCase() !== 'zrevrangebyscore');
    expect(reads.length).toBeGreaterThan(0);
    for (const c of reads) {
      expect(c[0]?.toLowerCase()).toBe('hmget');
      expect(c).not.toContain('build');
    }
  });
});
