import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedBuild } from '../core/queued-build.js';
import type { BuildRecords, BuildStatus } from './build-records.js';
import { RedisScript } from './redis-connection.js';
import { PREFIX, redisKeys } from './redis-keys.js';

// The BullMQ queue of builds. A job carries the planned build and its id, never a secret: the
// worker looks credentials up in its own configuration. Job ids are the build ids, and those are
// derived from the delivery, so a job added twice (an inbox entry taken over after a crash) is
// queued once (BullMQ ignores an add with an existing job id).

export const QUEUE_NAME = 'autobuild-builds';

export interface BuildJobData {
  buildId: string;
  build: QueuedBuild;
}

/** What identifies a branch's line of builds (superseding and push order). */
type BranchBuild = Pick<QueuedBuild, 'repository' | 'ref' | 'context' | 'dockerfile'>;

/**
 * Lua: points the branch at the newer of (current, candidate) by queue order, so an old delivery
 * arriving late cannot take the branch back, and marks the build it replaced `superseded` if
 * that one is still queued. Returns the superseded build's id. Run by the intake's accept
 * script (intake-inbox.ts) right after the records are written, and by SUPERSEDE below.
 */
export const SUPERSEDE_LUA = `
local function supersede(branch_key, id, finished_at, reason)
  local prev = redis.call('GET', branch_key)
  if prev == id then return false end
  -- When the branch's previous push arrived: the worker waits out a burst of pushes (settle()).
  if prev then
    local prev_at = redis.call('HGET', '${PREFIX}build:' .. prev, 'createdAt')
    if prev_at then redis.call('HSET', '${PREFIX}build:' .. id, 'branchPrevAt', prev_at) end
  end
  local mine = tonumber(redis.call('HGET', '${PREFIX}build:' .. id, 'seq') or '0')
  if prev then
    local theirs = tonumber(redis.call('HGET', '${PREFIX}build:' .. prev, 'seq') or '0')
    if theirs > mine then return false end
  end
  redis.call('SET', branch_key, id)
  if not prev then return false end
  local key = '${PREFIX}build:' .. prev
  if redis.call('HGET', key, 'status') ~= 'queued' then return false end
  redis.call('HSET', key, 'status', 'superseded', 'finishedAt', finished_at, 'error', reason)
  return prev
end
`;

const SUPERSEDE = new RedisScript(`${SUPERSEDE_LUA}
return supersede(KEYS[1], ARGV[1], ARGV[2], ARGV[3])`);

/** Build ids for one origin: stable for a GitHub delivery, random otherwise. */
export function buildIds(count: number, delivery?: string): string[] {
  const base = delivery ? createHash('sha256').update(`delivery:${delivery}`).digest('hex').slice(0, 20) : randomUUID().replace(/-/g, '').slice(0, 20);
  return Array.from({ length: count }, (_, i) => `${base}-${i + 1}`);
}

/** Pushes to one branch closer together than this are a burst (see BuildQueue.settle). */
const BURST_QUIET_MS = 1_000;

/** Builds of a branch replace each other while queued; tag and PR builds never do. */
export function branchKey(build: BranchBuild): string | undefined {
  if (!build.ref.startsWith('refs/heads/')) return undefined;
  const identity = [build.repository.toLowerCase(), build.ref, build.context, build.dockerfile].join('\0');
  return redisKeys.branch(createHash('sha256').update(identity).digest('hex').slice(0, 32));
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
   * Queues a job for each recorded build (the intake wrote the records) and moves each branch to
   * its newest build. Every step is idempotent (a job id already queued is ignored, superseding
   * only moves a branch forward), so an inbox entry handled twice queues nothing twice. A job
   * re-added for a build that already ended is skipped by the worker. `superseded`: the older
   * queued builds these replaced. `supersede: false` (a retry of an older commit) replaces nothing.
   */
  async addJobs(entries: { id: string; build: QueuedBuild }[], now: Date, opts: { supersede?: boolean } = {}): Promise<{ superseded: string[] }> {
    const { supersede = true } = opts;
    const finishedAt = now.toISOString();
    // Branches move first, then jobs are added: a worker taking a job from this batch already
    // sees the newest push of its branch, and the builds of this batch that a newer one replaced
    // get no job at all (a burst of pushes to one branch queues one job, not one per push).
    const prevs = await Promise.all(
      entries.map(async ({ id, build }) => {
        const key = supersede ? branchKey(build) : undefined;
        if (!key) return null;
        return (await SUPERSEDE.run(this.#redis, [key], [id, finishedAt, `superseded by ${id}`])) as string | null;
      }),
    );
    const superseded = prevs.filter((p): p is string => typeof p === 'string');
    const gone = new Set(superseded);
    // One add per job rather than addBulk: a MULTI sends BullMQ's whole Lua script text each time.
    await Promise.all(
      entries
        .filter(({ id }) => !gone.has(id))
        .map(({ id, build }) =>
          this.queue.add(
            'build',
            { buildId: id, build },
            {
              jobId: id,
              attempts: 3,
              backoff: { type: 'exponential', delay: 5_000 },
              removeOnComplete: { count: 1_000 },
              removeOnFail: { count: 1_000 },
            },
          ),
        ),
    );
    // An older build's job already queued stays: the worker skips it in a few milliseconds,
    // which is cheaper than removing it (BullMQ's remove script).
    return { superseded };
  }

  /**
   * A branch build queued less than BURST_QUIET_MS after the branch's previous push is part of
   * a burst: it starts only once the branch has been quiet that long, and only if no newer push
   * replaced it meanwhile. A burst of any length then runs at most two builds (the push that
   * started it, and the last one); a lone push starts at once. Returns the newer build, if any.
   */
  async settle(build: BranchBuild, id: string, nowMs = Date.now()): Promise<string | undefined> {
    if (!branchKey(build)) return undefined;
    const [createdAt, prevAt] = await this.#redis.hmget(redisKeys.build(id), 'createdAt', 'branchPrevAt');
    const created = Date.parse(createdAt ?? '');
    const prev = Date.parse(prevAt ?? '');
    if (Number.isNaN(created) || Number.isNaN(prev) || created - prev >= BURST_QUIET_MS) return undefined;
    const wait = created + BURST_QUIET_MS - nowMs;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.isSuperseded(build, id);
  }

  /** Whether a newer build of the same branch was queued after this one (checked when a job starts). */
  async isSuperseded(build: BranchBuild, id: string): Promise<string | undefined> {
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
      finishedAt: now.toISOString(),
      error: 'canceled',
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
