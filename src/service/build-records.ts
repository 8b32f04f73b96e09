import type { Redis } from 'ioredis';
import type { QueuedBuild } from '../core/queued-build.js';
import { RedisScript } from './redis-connection.js';
import { redisKeys } from './redis-keys.js';

// One record per build in Redis: what was asked (the planned build), where it is (status) and
// what came out (digest, pushed refs, held tags, steps). Records are hashes so a status change is
// one atomic script, and two sorted sets (all builds, builds of one repository) keyed by a global
// sequence give the newest-first listing without scanning.

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'superseded'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];
export const FINISHED: readonly BuildStatus[] = ['succeeded', 'failed', 'canceled', 'superseded'];

export interface BuildStep {
  step: string;
  status: 'running' | 'done';
  startedAt: string;
  ms?: number;
}

export interface BuildRecord {
  id: string;
  repository: string;
  ref: string;
  sha: string;
  images: string[];
  tags: string[];
  refs: string[];
  status: BuildStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  digest: string | null;
  error: string | null;
  pushed: { ref: string; digest: string }[];
  held: { ref: string; reason: string }[];
  /** A multi-platform build: each platform's digest in the index (`digest`); else []. */
  platforms: { platform: string; digest: string }[];
  steps: BuildStep[];
  /** Why it ran when no push asked for it (`base image X changed A -> B`); else null. */
  reason: string | null;
  /** What started it: a GitHub delivery id, `trigger`, `retry:<id>` or `base-change:<id>`. */
  origin: string;
  /** The planned build exactly as queued; a retry queues it again. */
  build: QueuedBuild;
}

export interface ListQuery {
  repository?: string;
  status?: BuildStatus;
  limit?: number;
  /** A build id: list only builds queued before it (paging). */
  before?: string;
}

const recordKey = redisKeys.build;
const INDEX = redisKeys.builds;
const repoIndex = redisKeys.buildsOfRepository;
const SEQ = redisKeys.buildSeq;

/**
 * Lua: creates a record only if its id is new, so a redelivered webhook cannot reset a running
 * build. Shared by CREATE below and by the intake's accept script (intake-inbox.ts).
 */
export const CREATE_RECORD_LUA = `
local function create_record(id, repo_index, fields)
  local key = '${redisKeys.build('')}' .. id
  if redis.call('EXISTS', key) == 1 then return 0 end
  local seq = redis.call('INCR', '${SEQ}')
  redis.call('HSET', key, 'seq', seq, unpack(fields))
  redis.call('ZADD', '${INDEX}', seq, id)
  redis.call('ZADD', repo_index, seq, id)
  return seq
end
`;

const CREATE = new RedisScript(`${CREATE_RECORD_LUA}
return create_record(ARGV[1], KEYS[1], {unpack(ARGV, 2)})`);

// Moves a build to a new status only from the allowed ones; returns the old status or nil.
const TRANSITION = new RedisScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return false end
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == cur then
    redis.call('HSET', KEYS[1], 'status', ARGV[2], unpack(ARGV, 3))
    return cur
  end
end
return false`);

type Fields = Partial<Omit<BuildRecord, 'id' | 'build' | 'repository' | 'ref' | 'sha' | 'images' | 'tags' | 'refs' | 'origin' | 'createdAt' | 'status'>>;

function encode(fields: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out.push(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

/** The hash fields of a new `queued` record, as CREATE_RECORD_LUA takes them. */
export function recordFields(id: string, build: QueuedBuild, origin: string, now: Date): string[] {
  return encode({
    id,
    repository: build.repository,
    ref: build.ref,
    sha: build.sha,
    images: build.images,
    tags: build.tags,
    refs: build.refs,
    status: 'queued',
    createdAt: now.toISOString(),
    origin,
    build,
    pushed: [],
    held: [],
    steps: [],
    // Kept apart from `build` too, so the list reads it without the planned build.
    ...(build.reason ? { reason: build.reason } : {}),
  });
}

/** Reads a record's hash, whole (every field) or as the list reads it (the summary fields only). */
function hashReader(hash: Record<string, string>) {
  return {
    json: <T>(key: string, fallback: T): T => (hash[key] === undefined ? fallback : (JSON.parse(hash[key]!) as T)),
    text: (key: string): string | null => (hash[key] === undefined || hash[key] === 'null' ? null : hash[key]!),
  };
}

/** The fields the builds list shows (README "HTTP endpoints"), and all it reads of a record. */
const SUMMARY_FIELDS = [
  'id',
  'repository',
  'ref',
  'sha',
  'images',
  'tags',
  'status',
  'createdAt',
  'startedAt',
  'finishedAt',
  'digest',
  'error',
  'platforms',
  'reason',
] as const;

export type BuildSummary = Pick<BuildRecord, (typeof SUMMARY_FIELDS)[number]>;

function summaryOf(hash: Record<string, string> & { id: string }): BuildSummary {
  const { json, text } = hashReader(hash);
  return {
    id: hash.id,
    repository: hash.repository ?? '',
    ref: hash.ref ?? '',
    sha: hash.sha ?? '',
    images: json('images', []),
    tags: json('tags', []),
    status: (hash.status ?? 'queued') as BuildStatus,
    createdAt: hash.createdAt ?? '',
    startedAt: text('startedAt'),
    finishedAt: text('finishedAt'),
    digest: text('digest'),
    error: text('error'),
    platforms: json('platforms', []),
    reason: text('reason'),
  };
}

function decode(hash: Record<string, string>): BuildRecord | undefined {
  if (!hash.id) return undefined;
  const { json } = hashReader(hash);
  const summary = summaryOf({ ...hash, id: hash.id });
  return {
    ...summary,
    refs: json('refs', []),
    pushed: json('pushed', []),
    held: json('held', []),
    steps: json('steps', []),
    origin: hash.origin ?? '',
    build: json('build', {} as QueuedBuild),
    // Records written before `reason` had a field of its own keep it inside the planned build.
    reason: summary.reason ?? json<QueuedBuild>('build', {} as QueuedBuild).reason ?? null,
  };
}

function decodeSummary(values: (string | null)[]): BuildSummary | undefined {
  const hash = Object.fromEntries(SUMMARY_FIELDS.flatMap((f, i) => (values[i] == null ? [] : [[f, values[i]!]])));
  return hash.id ? summaryOf({ ...hash, id: hash.id }) : undefined;
}

export class BuildRecords {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Writes a `queued` record unless one with this id exists; true when it was new. */
  async create(id: string, build: QueuedBuild, origin: string, now: Date): Promise<boolean> {
    const seq = await CREATE.run(this.#redis, [repoIndex(build.repository)], [id, ...recordFields(id, build, origin, now)]);
    return Number(seq) > 0;
  }

  async get(id: string): Promise<BuildRecord | undefined> {
    return decode(await this.#redis.hgetall(recordKey(id)));
  }

  async status(id: string): Promise<BuildStatus | undefined> {
    return ((await this.#redis.hget(recordKey(id), 'status')) ?? undefined) as BuildStatus | undefined;
  }

  /** The order in which builds were queued; higher is newer. */
  async sequence(id: string): Promise<number> {
    return Number((await this.#redis.hget(recordKey(id), 'seq')) ?? 0);
  }

  /** Atomically moves `id` from one of `from` to `to`; returns the previous status or undefined. */
  async transition(id: string, from: readonly BuildStatus[], to: BuildStatus, fields: Fields = {}): Promise<BuildStatus | undefined> {
    const prev = await TRANSITION.run(this.#redis, [recordKey(id)], [from.join(','), to, ...encode(fields)]);
    return (prev ?? undefined) as BuildStatus | undefined;
  }

  async update(id: string, fields: Fields): Promise<void> {
    const args = encode(fields);
    if (args.length > 0) await this.#redis.hset(recordKey(id), ...args);
  }

  /**
   * Newest first, as the API lists them; filters are applied while paging through the index, at
   * most 5,000 entries deep. Reads only the listed fields of each record (never the planned build,
   * the log or the steps), so a list costs the same whatever the builds carry.
   */
  async list(query: ListQuery): Promise<BuildSummary[]> {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const index = query.repository ? repoIndex(query.repository) : INDEX;
    let max = '+inf';
    if (query.before) {
      const seq = await this.sequence(query.before);
      if (seq > 0) max = `(${seq}`;
    }
    const out: BuildSummary[] = [];
    const batch = Math.max(limit, 100);
    for (let offset = 0; offset < 5_000 && out.length < limit; offset += batch) {
      const ids = await this.#redis.zrevrangebyscore(index, max, '-inf', 'LIMIT', offset, batch);
      if (ids.length === 0) break;
      const pipe = this.#redis.pipeline();
      for (const id of ids) pipe.hmget(recordKey(id), ...SUMMARY_FIELDS);
      const rows = (await pipe.exec()) ?? [];
      for (const [err, values] of rows) {
        if (err) throw err;
        const record = decodeSummary(values as (string | null)[]);
        if (record && (!query.status || record.status === query.status)) out.push(record);
        if (out.length >= limit) break;
      }
      if (ids.length < batch) break;
    }
    return out;
  }
}

/** The record as the API lists it (README "HTTP endpoints"), without the planned build. */
export function summary(r: BuildSummary): BuildSummary {
  return {
    id: r.id,
    repository: r.repository,
    ref: r.ref,
    sha: r.sha,
    images: r.images,
    tags: r.tags,
    status: r.status,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    digest: r.digest,
    error: r.error,
    platforms: r.platforms,
    reason: r.reason,
  };
}
