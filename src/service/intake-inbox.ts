import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueuedBuild } from '../core/queued-build.js';
import { branchKey, SUPERSEDE_LUA, type BuildQueue } from './build-queue.js';
import { CREATE_RECORD_LUA, recordFields, type BuildStatus } from './build-records.js';
import type { CommitStatuses } from './commit-status.js';
import type { ServiceMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';
import { RedisScript } from './redis-connection.js';
import type { RespConnection } from './resp-connection.js';
import { INBOX_GROUP, redisKeys } from './redis-keys.js';

// Accepting a delivery is ONE Redis script, run before the sender gets its 202: it checks the
// delivery id (a repeat gets the first answer back), writes the build records, and appends the
// accepted builds to the inbox stream. With AOF `appendfsync always` Redis answers only after
// that write is on disk, so a 202 means "stored and will be built". The BullMQ jobs (BullMQ's
// own, much heavier scripts) are created afterwards from the inbox by a consumer group, outside
// the request: a process that dies between the two leaves its entries pending in the group, and
// another consumer (or the same service after a restart) claims them (XAUTOCLAIM). Every step
// of that is idempotent (job id = build id), so an entry handled twice queues nothing twice.

/** How long the first answer to a delivery that queued builds is kept for redeliveries. */
const DELIVERY_TTL_SECONDS = 30 * 86_400;
/** A delivery that built nothing only needs to survive GitHub's immediate retries. */
const EMPTY_DELIVERY_TTL_SECONDS = 3_600;

// KEYS: inbox [, delivery]. ARGV: answer, ttl, origin, supersede, count, now, then per build:
// id, repository index key, branch key ('' when it replaces nothing), field count, fields...
// Returns the first answer for a repeat, else how many queued builds the new ones superseded.
const ACCEPT = new RedisScript(`${CREATE_RECORD_LUA}${SUPERSEDE_LUA}
if KEYS[2] then
  local first = redis.call('GET', KEYS[2])
  if first then return first end
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
end
local count = tonumber(ARGV[5])
if count == 0 then return 0 end
local ids = {}
local branches = {}
local i = 7
for b = 1, count do
  local n = tonumber(ARGV[i + 3])
  create_record(ARGV[i], ARGV[i + 1], {unpack(ARGV, i + 4, i + 3 + n)})
  ids[b] = ARGV[i]
  branches[b] = ARGV[i + 2]
  i = i + 4 + n
end
-- A newer push of a branch replaces its queued build here, in queue order, before any job exists.
local superseded = 0
for b = 1, count do
  if branches[b] ~= '' and supersede(branches[b], ids[b], ARGV[6], 'superseded by ' .. ids[b]) then superseded = superseded + 1 end
end
redis.call('XADD', KEYS[1], '*', 'ids', table.concat(ids, ','), 'origin', ARGV[3])
return superseded`);

export interface AcceptInput {
  builds: QueuedBuild[];
  ids: string[];
  /** What started it: a delivery id, `trigger`, `retry:<id>`. */
  origin: string;
  /** The delivery's dedupe key and its answer; absent for triggers and retries. */
  delivery?: { key: string; answer: string };
  supersede: boolean;
  now: Date;
}

/**
 * Stores an accepted delivery durably. Returns the first answer when the delivery was seen
 * before, else how many queued builds the new ones superseded. `redis` is the bare hot-path
 * connection when there is one, else ioredis.
 */
export async function acceptIntoInbox(redis: Redis | RespConnection, input: AcceptInput): Promise<{ first?: string; superseded: number }> {
  const args: (string | number)[] = [
    input.delivery?.answer ?? '',
    input.builds.length > 0 ? DELIVERY_TTL_SECONDS : EMPTY_DELIVERY_TTL_SECONDS,
    input.origin,
    input.supersede ? '1' : '0',
    input.builds.length,
    input.now.toISOString(),
  ];
  input.builds.forEach((build, i) => {
    const id = input.ids[i]!;
    const fields = recordFields(id, build, input.origin, input.now);
    const branch = input.supersede ? (branchKey(build) ?? '') : '';
    args.push(id, redisKeys.buildsOfRepository(build.repository), branch, fields.length, ...fields);
  });
  const keys = input.delivery ? [redisKeys.inbox, input.delivery.key] : [redisKeys.inbox];
  const result = 'send' in redis ? await ACCEPT.runOn(redis, keys, args) : await ACCEPT.run(redis, keys, args);
  return typeof result === 'string' ? { first: result, superseded: 0 } : { superseded: Number(result ?? 0) };
}

export interface InboxConsumerOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  connection: Redis;
  queue: BuildQueue;
  statuses: CommitStatuses;
  metrics: ServiceMetrics;
  log: Logger;
  /** Tells the configured notification receivers that builds were queued. */
  notifier?: Notifier;
  /** An entry another consumer took this long ago without finishing is taken over. */
  reclaimMs?: number;
  /** Fault injection for tests: take entries but never queue their jobs (a process that dies mid-way). */
  stall?: boolean;
}

type StreamEntry = [id: string, fields: string[]];

const BATCH = 100;
const BLOCK_MS = 1_000;
const DEFAULT_RECLAIM_MS = 5_000;

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Turns inbox entries into BullMQ jobs; runs inside `start` and `serve`. */
export class InboxConsumer {
  readonly #opts: InboxConsumerOptions;
  readonly #redis: Redis;
  readonly #name = `${hostname()}-${process.pid}`;
  readonly #reclaimMs: number;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(opts: InboxConsumerOptions) {
    this.#opts = opts;
    this.#redis = opts.connection;
    this.#reclaimMs = opts.reclaimMs ?? DEFAULT_RECLAIM_MS;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    let nextReclaim = 0;
    let grouped = false;
    while (!this.#stopped) {
      try {
        if (!grouped) {
          // From the start of the stream: entries left by a version without the group still count.
          await this.#redis.xgroup('CREATE', redisKeys.inbox, INBOX_GROUP, '0', 'MKSTREAM').catch((err: Error) => {
            if (!err.message.includes('BUSYGROUP')) throw err;
          });
          grouped = true;
        }
        if (Date.now() >= nextReclaim) {
          await this.#reclaim();
          nextReclaim = Date.now() + Math.max(250, this.#reclaimMs / 2);
        }
        const res = (await this.#redis.xreadgroup('GROUP', INBOX_GROUP, this.#name, 'COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', redisKeys.inbox, '>')) as
          [string, StreamEntry[]][] | null;
        const entries = res?.[0]?.[1] ?? [];
        if (entries.length > 0) await this.#handle(entries);
      } catch (err) {
        if (this.#stopped) break;
        // A Redis that came back without its data has no group any more: make it again.
        if (String((err as Error).message).includes('NOGROUP')) grouped = false;
        this.#opts.log.warn({ error: (err as Error).message }, 'intake inbox: could not queue accepted builds yet; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Entries a consumer took and did not finish within reclaimMs: its process died, or Redis failed it. */
  async #reclaim(): Promise<void> {
    let cursor = '0-0';
    do {
      const res = (await this.#redis.xautoclaim(redisKeys.inbox, INBOX_GROUP, this.#name, this.#reclaimMs, cursor, 'COUNT', BATCH)) as [
        string,
        (StreamEntry | null)[],
        ...unknown[],
      ];
      cursor = res[0];
      const entries = res[1].filter((e): e is StreamEntry => Array.isArray(e));
      if (entries.length > 0) {
        this.#opts.log.info({ entries: entries.length }, 'intake inbox: taking over accepted builds left unqueued');
        await this.#handle(entries);
      }
    } while (cursor !== '0-0' && !this.#stopped);
  }

  async #handle(entries: StreamEntry[]): Promise<void> {
    if (this.#opts.stall) return;
    const parsed = entries.map(([entryId, fields]) => ({
      entryId,
      ids: (field(fields, 'ids') ?? '').split(',').filter((id) => id !== ''),
    }));
    const pipe = this.#redis.pipeline();
    for (const entry of parsed) for (const id of entry.ids) pipe.hmget(redisKeys.build(id), 'status', 'build');
    const rows = (await pipe.exec()) ?? [];
    let row = 0;
    const now = new Date();
    const jobs: { id: string; build: QueuedBuild }[] = [];
    for (const entry of parsed) {
      for (const id of entry.ids) {
        const [err, value] = rows[row++] ?? [];
        if (err) throw err;
        const [status, build] = value as [BuildStatus | null, string | null];
        // Superseded at accept, or canceled, before its job existed: nothing to queue.
        if (status !== 'queued' || !build) continue;
        jobs.push({ id, build: JSON.parse(build) as QueuedBuild });
      }
    }
    if (jobs.length > 0) {
      // Branches were moved by the accept script, in queue order.
      await this.#opts.queue.addJobs(jobs, now, { supersede: false });
      // Statuses are best effort and slow (GitHub round trips): nothing waits on them.
      for (const { id, build } of jobs) {
        void this.#opts.statuses.set(build, id, 'pending', 'queued').catch(() => undefined);
        this.#opts.notifier?.notify('queued', id);
      }
    }
    const ids = entries.map(([id]) => id);
    await this.#redis
      .multi()
      .xack(redisKeys.inbox, INBOX_GROUP, ...ids)
      .xdel(redisKeys.inbox, ...ids)
      .exec();
  }

  /** Stops taking entries; one being handled finishes first (up to `ms`). */
  async close(ms = 5_000): Promise<void> {
    this.#stopped = true;
    if (!this.#loop) return;
    await Promise.race([this.#loop, new Promise((r) => setTimeout(r, ms).unref())]);
  }
}
