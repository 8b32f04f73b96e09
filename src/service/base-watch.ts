import { createHash } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RegistryClient, type RegistryAuth } from '../adapters/registry-client.js';
import type { QueuedBuild } from '../core/queued-build.js';
import { redisKeys } from './redis-keys.js';

// Rebuild when a base image changes (Docker Hub's "repository links"). After a successful push
// of a repository with `rebuildOnBaseChange`, the worker records the FROM images of the build
// and their manifest digests; the service checks them every `baseImagePollMinutes` (and on POST
// /api/base-check) with a manifest HEAD (no pull). A changed digest queues one rebuild of the
// same commit with `pull`, pushing the same tags under the same never-backward rules; the
// change is remembered by repository + base + new digest so it never rebuilds twice. A registry
// that is down or answers 429 is tried again next round and logged once; a base that disappeared
// is reported, not rebuilt.

interface WatchedBase {
  ref: string;
  /** Manifest digest when last seen; null when it could not be read when recorded. */
  digest: string | null;
  /** `missing` (404) and `unavailable` (down, 429, refused) are logged once, then kept quiet. */
  state: 'ok' | 'missing' | 'unavailable';
  note?: string;
}

export interface WatchEntry {
  repository: string;
  /** `release` (the newest release tag: the build that pushed `latest`) or the branch ref. */
  slot: string;
  buildId: string;
  /** The build as queued (build-arg names only): a rebuild queues it again, same commit and tags. */
  build: QueuedBuild;
  bases: WatchedBase[];
  recordedAt: string;
  checkedAt: string | null;
}

interface BaseRebuild {
  repository: string;
  ref: string;
  sha: string;
  reason: string;
  buildId: string;
}

export interface BaseCheckReport {
  checkedAt: string;
  /** Base references looked up this round. */
  checked: number;
  rebuilds: BaseRebuild[];
  missing: { repository: string; base: string }[];
  unavailable: { repository: string; base: string; reason: string }[];
}

/** Queues builds the way a retry does (records, statuses, notifications); answers their ids. */
export type Enqueue = (builds: QueuedBuild[], origin: string) => Promise<string[]>;

const WATCH_KEY = redisKeys.baseWatch;
const REBUILT_TTL_SECONDS = 365 * 86_400;
const rebuiltKey = (repository: string, base: string, digest: string) =>
  redisKeys.baseRebuilt(createHash('sha256').update(`${repository.toLowerCase()}\0${base}\0${digest}`).digest('hex').slice(0, 40));

/** The words the build record, the log, the dashboard and notifications show. */
export function baseChangeReason(base: string, from: string, to: string): string {
  return `base image ${base} changed ${from} -> ${to}`;
}

/**
 * Which watch slot a successful build fills: a build of the default branch its branch, a tag
 * build the `release` slot when it pushed `latest` (it is the newest release); others none.
 */
export function watchSlot(build: Pick<QueuedBuild, 'trusted' | 'push' | 'ref' | 'isDefaultBranch'>, pushed: string[]): string | undefined {
  if (!build.trusted || !build.push) return undefined;
  if (build.ref.startsWith('refs/heads/')) return build.isDefaultBranch ? build.ref : undefined;
  if (build.ref.startsWith('refs/tags/') && pushed.some((ref) => ref.endsWith(':latest'))) return 'release';
  return undefined;
}

export class BaseWatch {
  readonly #redis: Redis;
  readonly #registries: Record<string, RegistryAuth>;
  readonly #log: Logger;

  constructor(opts: { redis: Redis; registries: Record<string, RegistryAuth>; log: Logger }) {
    this.#redis = opts.redis;
    this.#registries = opts.registries;
    this.#log = opts.log;
  }

  /** Remembers a build's bases with their digests now, replacing the slot's previous build. */
  async record(build: QueuedBuild, slot: string, buildId: string, bases: string[], now: Date): Promise<WatchEntry> {
    const client = new RegistryClient(this.#registries, { signal: AbortSignal.timeout(60_000) });
    const watched = await Promise.all(
      bases.map(async (ref): Promise<WatchedBase> => {
        try {
          const info = await client.headManifest(ref);
          return info ? { ref, digest: info.digest, state: 'ok' } : { ref, digest: null, state: 'missing' };
        } catch (err) {
          return { ref, digest: null, state: 'unavailable', note: (err as Error).message };
        }
      }),
    );
    const { reason: _previousReason, ...plain } = build;
    const entry: WatchEntry = { repository: build.repository, slot, buildId, build: plain, bases: watched, recordedAt: now.toISOString(), checkedAt: null };
    await this.#redis.hset(WATCH_KEY, fieldOf(build.repository, slot), JSON.stringify(entry));
    return entry;
  }

  async list(): Promise<WatchEntry[]> {
    const all = await this.#redis.hgetall(WATCH_KEY);
    return Object.values(all)
      .map((text) => JSON.parse(text) as WatchEntry)
      .sort((a, b) => a.repository.localeCompare(b.repository) || a.slot.localeCompare(b.slot));
  }

  /** One round: HEAD every recorded base, queue one rebuild per change, say what was found. */
  async check(enqueue: Enqueue, now: Date, isWatched: (repository: string) => boolean): Promise<BaseCheckReport> {
    const report: BaseCheckReport = { checkedAt: now.toISOString(), checked: 0, rebuilds: [], missing: [], unavailable: [] };
    const client = new RegistryClient(this.#registries, { signal: AbortSignal.timeout(120_000) });
    for (const entry of await this.list()) {
      // A repository taken out of the configuration (or its rebuildOnBaseChange) is forgotten.
      if (!isWatched(entry.repository)) {
        await this.#redis.hdel(WATCH_KEY, fieldOf(entry.repository, entry.slot));
        continue;
      }
      const changes: { base: string; from: string; to: string }[] = [];
      for (const base of entry.bases) {
        report.checked++;
        let digest: string | undefined;
        try {
          digest = (await client.headManifest(base.ref))?.digest;
        } catch (err) {
          const reason = (err as Error).message;
          report.unavailable.push({ repository: entry.repository, base: base.ref, reason });
          if (base.state !== 'unavailable')
            this.#log.warn({ repository: entry.repository, base: base.ref, error: reason }, 'cannot check a base image; trying again next round');
          Object.assign(base, { state: 'unavailable', note: reason });
          continue;
        }
        if (digest === undefined) {
          report.missing.push({ repository: entry.repository, base: base.ref });
          if (base.state !== 'missing')
            this.#log.warn({ repository: entry.repository, base: base.ref }, 'a base image disappeared from its registry; not rebuilding');
          Object.assign(base, { state: 'missing', note: 'not found in its registry' });
          continue;
        }
        if (base.digest !== null && base.digest !== digest) changes.push({ base: base.ref, from: base.digest, to: digest });
        base.digest = digest;
        base.state = 'ok';
        delete base.note;
      }
      entry.checkedAt = now.toISOString();
      // Once per change: a second round, another service process or a restart finds the key.
      const fresh = [];
      for (const c of changes) {
        const first = await this.#redis.set(rebuiltKey(entry.repository, c.base, c.to), '1', 'EX', REBUILT_TTL_SECONDS, 'NX');
        if (first === 'OK') fresh.push(c);
      }
      if (fresh.length > 0) {
        const reason = fresh.map((c) => baseChangeReason(c.base, c.from, c.to)).join('; ');
        const [id] = await enqueue([{ ...entry.build, pull: true, reason }], `base-change:${entry.buildId}`);
        this.#log.info({ repository: entry.repository, ref: entry.build.ref, buildId: id, reason }, 'base image changed: rebuilding');
        report.rebuilds.push({ repository: entry.repository, ref: entry.build.ref, sha: entry.build.sha, reason, buildId: id! });
      }
      await this.#redis.hset(WATCH_KEY, fieldOf(entry.repository, entry.slot), JSON.stringify(entry));
    }
    return report;
  }
}

const BASE_CHECK_QUEUE = 'autobuild-base-check';

/**
 * The schedule: a BullMQ job scheduler with one fixed id, so however many `serve`/`start`
 * processes share the Redis there is one check per period, run by whichever takes it.
 */
export async function startBaseCheckSchedule(opts: {
  connection: Redis;
  minutes: number;
  log: Logger;
  run: () => Promise<BaseCheckReport>;
}): Promise<{ close(): Promise<void> }> {
  const queue = new Queue(BASE_CHECK_QUEUE, { connection: opts.connection });
  await queue.upsertJobScheduler(
    'base-check',
    { every: Math.round(opts.minutes * 60_000) },
    {
      name: 'base-check',
      opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 10 } },
    },
  );
  const worker = new Worker(
    BASE_CHECK_QUEUE,
    async () => {
      const report = await opts.run();
      opts.log.info(
        { checked: report.checked, rebuilds: report.rebuilds.length, missing: report.missing.length, unavailable: report.unavailable.length },
        'base images checked',
      );
      return report.rebuilds.length;
    },
    { connection: opts.connection, concurrency: 1 },
  );
  worker.on('error', (err) => opts.log.warn({ error: err.message }, 'base check worker error'));
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}

/** Whether a repository is configured with rebuildOnBaseChange (keys match case-insensitively). */
export function isWatched(repositories: Record<string, { rebuildOnBaseChange?: boolean }>, repository: string): boolean {
  const want = repository.toLowerCase();
  return Object.entries(repositories).some(([key, repo]) => key.toLowerCase() === want && repo.rebuildOnBaseChange === true);
}

function fieldOf(repository: string, slot: string): string {
  return `${repository.toLowerCase()}\0${slot}`;
}
