import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PlannedBuild } from '../core/types.js';
import type { BuildRecords, BuildStatus } from './build-records.js';

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

// Points the branch at the newer of (current, candidate) by queue order and returns the build it
// replaced, so an old delivery arriving late cannot take the branch back.
const ADVANCE = `
local prev = redis.call('GET', KEYS[1])
if prev == ARGV[1] then return false end
local mine = tonumber(redis.call('HGET', 'autobuild:build:' .. ARGV[1], 'seq') or '0')
if prev then
  local theirs = tonumber(redis.call('HGET', 'autobuild:build:' .. prev, 'seq') or '0')
  if theirs > mine then return false end
end
redis.call('SET', KEYS[1], ARGV[1])
return prev or false`;

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
   * Records and queues the builds under the given ids; resolves once Redis has them. Then marks
   * older queued builds of the same branch `superseded`.
   */
  async enqueue(builds: PlannedBuild[], ids: string[], origin: string, now: Date): Promise<string[]> {
    const fresh: { id: string; build: PlannedBuild }[] = [];
    for (const [i, build] of builds.entries()) {
      const id = ids[i]!;
      // A record that exists already is a repeat after a failed answer: queue it only if it never ran.
      if ((await this.#records.create(id, build, origin, now)) || (await this.#records.status(id)) === 'queued') {
        fresh.push({ id, build });
      }
    }
    await this.queue.addBulk(fresh.map(({ id, build }) => ({
      name: 'build',
      data: { buildId: id, build },
      opts: {
        jobId: id,
        attempts: 3,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: { count: 1_000 },
        removeOnFail: { count: 1_000 },
      },
    })));
    for (const { id, build } of fresh) await this.#supersedeOlder(build, id, now);
    return ids;
  }

  async #supersedeOlder(build: PlannedBuild, id: string, now: Date): Promise<void> {
    const key = branchKey(build);
    if (!key) return;
    const prev = (await this.#redis.eval(ADVANCE, 1, key, id)) as string | null;
    if (!prev) return;
    const was = await this.#records.transition(prev, ['queued'], 'superseded', {
      finishedAt: now.toISOString(), error: `superseded by ${id}`,
    });
    if (was) await this.#removeJob(prev);
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
