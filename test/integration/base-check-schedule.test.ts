import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaseCheckSchedule, type BaseCheckReport } from '../../src/service/base-watch.js';
import { startRedis, type TestRedis } from '../support/redis.js';

// The base check's schedule on a real Redis: however many service processes start it, each
// period runs one check, not one per process.

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

describe('startBaseCheckSchedule', () => {
  it('two service processes sharing one Redis run one check per period between them', async () => {
    const runs: number[] = [];
    const report: BaseCheckReport = { checkedAt: '', checked: 0, rebuilds: [], missing: [], unavailable: [] };
    const log = pino({ level: 'silent' });
    const connections = [0, 1].map(() => new Redis(redis.url, { maxRetriesPerRequest: null }));
    const periodMs = 400;
    const started = Date.now();
    const schedules = await Promise.all(
      connections.map((connection, i) =>
        startBaseCheckSchedule({
          connection,
          minutes: periodMs / 60_000,
          log,
          run: async () => {
            runs.push(i);
            return report;
          },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, periodMs * 6));
    const elapsed = Date.now() - started;
    await Promise.all(schedules.map((s) => s.close()));
    for (const c of connections) c.disconnect();
    // One per period (plus the first one at start), never two processes each running it.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(Math.floor(elapsed / periodMs) + 2);
  });
});
