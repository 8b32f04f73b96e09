import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { tagsOf } from '../adapters/existing-tags.js';
import { RegistryClient, type RegistryAuth } from '../adapters/registry-client.js';
import { plan, type PlanInput } from '../core/plan.js';
import { toQueuedBuild, type QueuedBuild } from '../core/queued-build.js';
import type { Plan, PlannedBuild, RepositoryConfig, Skip, SourceEvent } from '../core/types.js';
import { buildIds } from './build-queue.js';
import type { ServiceMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';
import { acceptIntoInbox } from './intake-inbox.js';
import { deliveryName, redisKeys } from './redis-keys.js';
import type { RespConnection } from './resp-connection.js';

// The one path from an event to accepted builds, shared by every webhook route (GitHub and the
// other forges), the remote trigger and retries: look up the tags already in the registry, plan
// with the core, then store the delivery in Redis in one atomic, fsync'd step (intake-inbox.ts).
// Jobs and commit statuses follow from the inbox, outside the request.

/** Tags listed this recently are not asked for again. */
const TAGS_FRESH_MS = 5_000;
/** With no list at hand yet, a webhook waits this long for the registry, then plans without one. */
const TAGS_FIRST_WAIT_MS = 250;
const TAGS_TIMEOUT_MS = 5_000;

export interface IntakeOptions {
  repositories: Record<string, RepositoryConfig>;
  registries: Record<string, RegistryAuth>;
  /** The producer connection: fails fast, so a webhook gets 503 while Redis is away. */
  redis: Redis;
  /** Counts the builds superseded at accept. */
  metrics?: ServiceMetrics;
  /** A bare connection for the accept script, when the Redis URL allows one (resp-connection.ts). */
  fast?: RespConnection;
  log: Logger;
  /** Tells the configured notification receivers that builds were queued. */
  notifier?: Notifier;
}

/** What the intake took: a first delivery (the route answers 202), or a repeat with the first answer (200). */
export interface DeliveryAnswer {
  /** The JSON body, `{"delivery","builds":[ids],"skipped":[...]}`. */
  body: string;
  duplicate: boolean;
  builds: string[];
  skipped: number;
}

export class Intake {
  readonly #opts: IntakeOptions;
  /** A burst of pushes asks the registry once, not once per delivery. */
  readonly #tags = new Map<string, { at: number; tags: string[] }>();
  readonly #fetching = new Map<string, Promise<string[]>>();

  constructor(opts: IntakeOptions) {
    this.#opts = opts;
  }

  get notifier(): Notifier | undefined {
    return this.#opts.notifier;
  }

  get repositories(): Record<string, RepositoryConfig> {
    return this.#opts.repositories;
  }

  /** The configured repository for `owner/name`, matched case-insensitively as GitHub does. */
  repository(name: string | undefined): RepositoryConfig | undefined {
    if (!name) return undefined;
    const want = name.toLowerCase();
    for (const [key, repo] of Object.entries(this.#opts.repositories)) if (key.toLowerCase() === want) return repo;
    return undefined;
  }

  /** Lists every configured image's tags now, so the first webhook finds them at hand. */
  warmUp(): void {
    for (const repo of Object.values(this.#opts.repositories)) for (const image of repo.images) void this.#tagsOf(image);
  }

  /** Tags in the registry, union over the images; none when the registry cannot be read. */
  async existingTags(images: string[]): Promise<string[]> {
    const all = await Promise.all(images.map((image) => this.#tagsOf(image)));
    return [...new Set(all.flat())];
  }

  // A list at hand is used at once, however old, and refreshed in the background; only when
  // there is none yet does a webhook wait, and then briefly. Planning with an old list (or none)
  // is safe: moving tags are decided again against the registry right before they are pushed.
  #tagsOf(image: string): Promise<string[]> | string[] {
    const cached = this.#tags.get(image);
    if (cached && Date.now() - cached.at < TAGS_FRESH_MS) return cached.tags;
    const fetching = this.#fetching.get(image) ?? this.#fetchTags(image);
    if (cached) return cached.tags;
    return Promise.race([fetching, new Promise<string[]>((r) => setTimeout(() => r([]), TAGS_FIRST_WAIT_MS).unref())]);
  }

  #fetchTags(image: string): Promise<string[]> {
    const client = new RegistryClient(this.#opts.registries, { signal: AbortSignal.timeout(TAGS_TIMEOUT_MS) });
    let failed = false;
    const tags = tagsOf(client, image, (_image, why) => {
      failed = true;
      this.#opts.log.warn({ image, error: why }, 'could not list registry tags; planning as if there were none');
    }).then((read) => {
      // A failure keeps the last list (or none), remembered like a list, so the next webhooks
      // do not wait on a registry that is away.
      const list = failed ? (this.#tags.get(image)?.tags ?? []) : read;
      this.#fetching.delete(image);
      this.#tags.set(image, { at: Date.now(), tags: list });
      return list;
    });
    this.#fetching.set(image, tags);
    return tags;
  }

  async plan(event: SourceEvent, manual = false): Promise<Plan> {
    const repo = this.repository(event.repository);
    const existingTags = repo && event.kind === 'push' ? await this.existingTags(repo.images) : [];
    const input: PlanInput & { manual?: boolean } = { event, repositories: this.#opts.repositories, existingTags, manual };
    return plan(input);
  }

  /**
   * The entry point of every webhook route: a verified delivery of `forge` (github, gitlab,
   * bitbucket, gitea), already read into events. Plans them, and stores the delivery durably;
   * resolves once Redis has it on disk. A delivery id seen before gets its first answer back
   * (status 200) and queues nothing. Throws UserError for an event that cannot be planned (400)
   * and anything else when Redis cannot be reached (503).
   */
  async receive(forge: string, delivery: string, events: SourceEvent[], opts: { skipped?: Skip[]; now?: Date } = {}): Promise<DeliveryAnswer> {
    const now = opts.now ?? new Date();
    const builds: QueuedBuild[] = [];
    const skipped: Skip[] = [...(opts.skipped ?? [])];
    for (const event of events) {
      const planned = await this.plan(event);
      builds.push(...planned.builds.map((b) => this.#queued(b)));
      skipped.push(...planned.skipped);
    }
    // Ids follow from the delivery, so the answer to a repeat can be given without a lookup.
    // Other forges' ids are prefixed so they never collide with each other or with GitHub's.
    const named = deliveryName(forge, delivery);
    const ids = buildIds(builds.length, named);
    const body = JSON.stringify({ delivery: named, builds: ids, skipped });
    const { first, superseded } = await acceptIntoInbox(this.#opts.fast ?? this.#opts.redis, {
      builds,
      ids,
      origin: named,
      supersede: true,
      now,
      delivery: { key: redisKeys.delivery(forge, delivery), answer: body },
    });
    if (first !== undefined) {
      let builds: string[] = [];
      try {
        builds = (JSON.parse(first) as { builds: string[] }).builds;
      } catch {
        // An answer stored by an older version may not be this shape; the text is sent as it is.
      }
      return { body: first, duplicate: true, builds, skipped: 0 };
    }
    for (let i = 0; i < superseded; i++) this.#opts.metrics?.buildEnded('superseded');
    return { body, duplicate: false, builds: ids, skipped: skipped.length };
  }

  /**
   * Stores builds that do not come from a delivery (remote trigger, retry) under fresh ids.
   * `supersede: false` (a retry of an older commit) replaces no queued build.
   */
  async accept(planned: Plan | { builds: QueuedBuild[] }, origin: string, opts: { supersede?: boolean } = {}): Promise<string[]> {
    const ids = buildIds(planned.builds.length);
    const builds = planned.builds.map((b: PlannedBuild | QueuedBuild) => this.#queued(b));
    const { superseded } = await acceptIntoInbox(this.#opts.redis, { builds, ids, origin, supersede: opts.supersede ?? true, now: new Date() });
    for (let i = 0; i < superseded; i++) this.#opts.metrics?.buildEnded('superseded');
    return ids;
  }

  /** A planned build as it goes into Redis: build-arg names only (a retry's is queued already). */
  #queued(build: PlannedBuild | QueuedBuild): QueuedBuild {
    return Array.isArray(build.buildArgs) ? (build as QueuedBuild) : toQueuedBuild(build as PlannedBuild, this.repository(build.repository));
  }
}
