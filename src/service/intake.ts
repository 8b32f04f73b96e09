import type { Logger } from 'pino';
import { RegistryClient, type RegistryAuth } from '../adapters/registry-client.js';
import { plan, type PlanInput } from '../core/plan.js';
import type { Plan, RepositoryConfig, SourceEvent } from '../core/types.js';
import type { BuildQueue } from './build-queue.js';
import type { CommitStatuses } from './commit-status.js';
import type { ServiceMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';

// The one path from an event to queued builds, shared by the webhook receiver, the remote
// trigger and retries: look up the tags already in the registry, plan with the core, record and
// queue the builds, then tell GitHub they are pending.

/** Tags listed this recently are used as they are. */
const TAGS_FRESH_MS = 5_000;
/** Up to this age they are still used, while a fresh list is fetched for the next webhook. */
const TAGS_STALE_MS = 60_000;
const TAGS_TIMEOUT_MS = 5_000;

export interface IntakeOptions {
  repositories: Record<string, RepositoryConfig>;
  registries: Record<string, RegistryAuth>;
  queue: BuildQueue;
  statuses: CommitStatuses;
  metrics: ServiceMetrics;
  log: Logger;
  /** Tells the configured notification receivers that builds were queued. */
  notifier?: Notifier;
}

export class Intake {
  readonly #opts: IntakeOptions;
  /** A burst of pushes asks the registry once, not once per delivery. */
  readonly #tags = new Map<string, { at: number; tags: Promise<string[]> }>();
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

  /** Tags in the registry, union over the images; none when the registry cannot be read. */
  async existingTags(images: string[]): Promise<string[]> {
    const all = await Promise.all(images.map((image) => this.#tagsOf(image)));
    return [...new Set(all.flat())];
  }

  // A webhook waits for the registry only when no list younger than a minute is at hand: the
  // push-time decision re-checks moving tags, so planning with a slightly old list (or, when the
  // registry cannot be read, none) is safe.
  #tagsOf(image: string): Promise<string[]> {
    const cached = this.#tags.get(image);
    const age = cached ? Date.now() - cached.at : Infinity;
    if (cached && age < TAGS_FRESH_MS) return cached.tags;
    const fetching = this.#fetching.get(image) ?? this.#fetchTags(image);
    return cached && age < TAGS_STALE_MS ? cached.tags : fetching;
  }

  #fetchTags(image: string): Promise<string[]> {
    const client = new RegistryClient(this.#opts.registries, { signal: AbortSignal.timeout(TAGS_TIMEOUT_MS) });
    const tags = client.listTags(image).catch((err: Error) => {
      this.#opts.log.warn({ image, error: err.message }, 'could not list registry tags; planning as if there were none');
      return [] as string[];
    });
    this.#fetching.set(image, tags);
    void tags.then(() => {
      this.#fetching.delete(image);
      this.#tags.set(image, { at: Date.now(), tags });
    });
    return tags;
  }

  async plan(event: SourceEvent, manual = false): Promise<Plan> {
    const repo = this.repository(event.repository);
    const existingTags = repo && event.kind === 'push' ? await this.existingTags(repo.images) : [];
    const input: PlanInput & { manual?: boolean } = { event, repositories: this.#opts.repositories, existingTags, manual };
    return plan(input);
  }

  /**
   * Records and queues the planned builds; resolves once Redis holds them. `duplicate`: this
   * delivery was accepted before (nothing new is queued and no status is sent again).
   */
  async accept(planned: Plan, ids: string[], origin: string, opts: { delivery?: { id: string; answer: string }; supersede?: boolean } = {}): Promise<{ duplicate: boolean }> {
    const result = await this.#opts.queue.enqueue(planned.builds, ids, origin, new Date(), opts);
    result.superseded.forEach(() => this.#opts.metrics.buildEnded('superseded'));
    if (result.duplicate) return { duplicate: true };
    // Statuses are best effort and slow (GitHub round trips): never make the sender wait on them.
    for (const [i, build] of planned.builds.entries()) {
      void this.#opts.statuses.set(build, ids[i]!, 'pending', 'queued').catch(() => undefined);
      this.#opts.notifier?.notify('queued', ids[i]!);
    }
    return { duplicate: false };
  }
}
