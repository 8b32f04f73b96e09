import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PlannedBuild } from '../core/types.js';
import type { BuildRecords, BuildStatus } from './build-records.js';
import { RedisScript } from './redis-connection.js';

// The BullMQ queue of builds. A job carries the planned build and its id, never a secret: the
// worker looks credentials up in its own configuration. Job ids are the build ids, and those are
// derived from the GitHub delivery, so even two copies of one delivery arriving at once queue
// each build once (BullMQ ignores an add with an existing job id).

export const QUEUE_NAME = 'autobuild-builds';

export interface BuildJobData {
  buildId: string;
  build: PlannedBuild;
}

const BRANCH_PREFIX = 'autobuild:branch:';

const DELIVERY_TTL_SECONDS = 30 * 86_400;
const deliveryKey = (id: string) => `autobuild:delivery:${id}`;

// Points the branch at the newer of (current, candidate) by queue order, so an old delivery
// arriving late cannot take the branch back, and marks the build it replaced `superseded` if
// that one is still queued. Returns the superseded build's id.
const SUPERSEDE = new RedisScript(`
local prev = redis.call('GET', KEYS[1])
if prev == ARGV[1] then return false end
local mine = tonumber(redis.call('HGET', 'autobuild:build:' .. ARGV[1], 'seq') or '0')
if prev then
  local theirs = tonumber(redis.call('HGET', 'autobuild:build:' .. prev, 'seq') or '0')
  if theirs > mine then return false end
end
redis.call('SET', KEYS[1], ARGV[1])
if not prev then return false end
local key = 'autobuild:build:' .. prev
if redis.call('HGET', key, 'status') ~= 'queued' then return false end
redis.call('HSET', key, 'status', 'superseded', 'finishedAt', ARGV[2], 'error', ARGV[3])
return prev`);

/** Build ids for one origin: stable for a GitHub delivery, random otherwise. */
export function buildIds(count: number, delivery?: string): string[] {
  const base = delivery
    ? createHash('sha256').update(`delivery:${delivery}`).digest('hex').slice(0, 20)
    : randomUUID().replace(/-/g, '').slice(0, 20);
  return Array.from({ length: count }, (_, i) => `${base}-${i + 1}`);
}

/** Builds of a branch replace each other while queued; tag and PR builds never do. */
function branchKey(build: PlannedBuild): string | undefined {
  if (!build.ref.startsWith('refs/heads/')) return undefined;
  const identity = [build.repository.toLowerCase(), build.ref, build.context, build.dockerfile].join('\0');
  return BRANCH_PREFIX + createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

export interface QueueCounts {
  waiting: number;
  active: number;
  failed: number;
  delayed: number;
  completed: number;
}

export class BuildQueue {
  readonly queue: Queue<BuildJobData>;
  readonly #redis: Redis;
  readonly #records: BuildRecords;

  constructor(redis: Redis, records: BuildRecords) {
    this.#redis = redis;
    this.#records = records;
    this.queue = new Queue<BuildJobData>(QUEUE_NAME, { connection: redis, skipWaitingForReady: true });
  }

  /**
   * Records and queues the builds under the given ids and resolves once Redis has them. Every
   * step is idempotent (records and jobs are created only if their id is new, superseding only
   * moves a branch forward), so all of them go out at once: one round trip, and a repeat after a
   * failed answer completes whatever the first attempt did not. A job re-added for a build that
   * already ended is skipped by the worker.
   *
   * `duplicate` says whether this delivery was seen before: its first build record existed, or,
   * for a delivery that builds nothing, its delivery key did. `superseded`: the older queued
   * builds these replaced. `supersede: false` (a retry of an older commit) replaces nothing.
   */
  async enqueue(
    builds: PlannedBuild[], ids: string[], origin: string, now: Date,
    opts: { delivery?: { id: string; answer: string }; supersede?: boolean } = {},
  ): Promise<{ duplicate: boolean; superseded: string[] }> {
    const { delivery, supersede = true } = opts;
    const finishedAt = now.toISOString();
    const created = Promise.all(builds.map((build, i) => this.#records.create(ids[i]!, build, origin, now)));
    // One add per job rather than addBulk: a MULTI sends BullMQ's whole Lua script text each time.
    const added = Promise.all(builds.map((build, i) => this.queue.add('build', { buildId: ids[i]!, build }, {
      jobId: ids[i]!,
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    })));
    const superseded = Promise.all(builds.map(async (build, i) => {
      const key = supersede ? branchKey(build) : undefined;
      if (!key) return null;
      return (await SUPERSEDE.run(this.#redis, [key], [ids[i]!, finishedAt, `superseded by ${ids[i]}`])) as string | null;
    }));
    const remembered = builds.length === 0 && delivery
      ? this.#redis.set(deliveryKey(delivery.id), delivery.answer, 'EX', DELIVERY_TTL_SECONDS, 'NX')
      : Promise.resolve('OK' as const);
    // A superseded build's job stays queued: the worker skips it in a few milliseconds, which
    // is cheaper than removing it here on the webhook's hot path (BullMQ's remove script).
    const [isNew, , prevs, firstTime] = await Promise.all([created, added, superseded, remembered]);
    return {
      duplicate: builds.length > 0 ? isNew[0] === false : firstTime === null,
      superseded: prevs.filter((p): p is string => typeof p === 'string'),
    };
  }

  /** Whether a newer build of the same branch was queued after this one (checked when a job starts). */
  async isSuperseded(build: PlannedBuild, id: string): Promise<string | undefined> {
    const key = branchKey(build);
    if (!key) return undefined;
    const latest = await this.#redis.get(key);
    if (!latest || latest === id) return undefined;
    const [mine, theirs] = await Promise.all([this.#records.sequence(id), this.#records.sequence(latest)]);
    return theirs > mine ? latest : undefined;
  }

  /** Cancels a queued or running build; a running one is stopped by its worker within a second. */
  async cancel(id: string, now: Date): Promise<BuildStatus | undefined> {
    const was = await this.#records.transition(id, ['queued', 'running'], 'canceled', {
      finishedAt: now.toISOString(), error: 'canceled',
    });
    if (was === 'queued') await this.#removeJob(id);
    return was;
  }

  async #removeJob(id: string): Promise<void> {
    // A job a worker holds cannot be removed; that worker sees the status and stops on its own.
    await this.queue.remove(id).catch(() => 0);
  }

  async counts(): Promise<QueueCounts> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'failed', 'delayed', 'completed', 'prioritized');
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      failed: c.failed ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
