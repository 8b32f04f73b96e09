import { BuildError } from '../core/errors.js';
import { indexPlatforms, type PlatformDigest } from '../core/image-index.js';
import { parseImageName, parseReference, withTag } from '../core/references.js';
import { decideTags, tagKinds } from '../core/semver-tags.js';
import type { PlannedBuild, TagInfo } from '../core/types.js';
import type { Builder, BuiltImage, RunContext } from '../adapters/builders/builder.js';
import type { LogSink } from '../adapters/log-sink.js';
import { isInsecureRegistry, type Manifest, type RegistryAuth, type RegistryClient } from '../adapters/registry-client.js';

// The push phase of a build: one built image out under every planned ref, immutable refs first,
// moving refs and `latest` last under the image locks, each ref's digest recorded and verified.

const PUSH_ATTEMPTS = 3;
const RETRY_BASE_MS = 1_000;

export interface PushOrder {
  /** This build's place in queue order; higher is newer. */
  seq: number;
  /** The newest place in queue order that pushed `ref`, if any. */
  last(ref: string): Promise<number | undefined>;
  /** Remembers that this build pushed `ref`. */
  pushed(ref: string): Promise<void>;
}

/** What the Pusher needs of the build's options. */
export interface PusherOptions {
  /** Keyed by registry host as in autobuild.yml. */
  registries: Record<string, RegistryAuth>;
  signal?: AbortSignal;
}

/** What pushInOrder needs of the build's options: the locks and the queue order across builds. */
export interface PushInOrderOptions {
  /** Serialises moving-tag decisions per image across builds; default: no lock. */
  withImageLock?: <T>(image: string, fn: () => Promise<T>) => Promise<T>;
  pushOrder?: PushOrder;
}

/**
 * Immutable refs first; then, holding every image's lock, moving refs, and `latest` last and
 * alone. The refs of one class go out together (Pusher.pushAll). The registry's tag lists, which
 * the moving tags are decided against, are read under the locks while the immutable refs are
 * still being pushed: this build's own immutable tags cannot change that decision.
 */
export async function pushInOrder(
  build: PlannedBuild,
  pusher: Pusher,
  registry: RegistryClient,
  opts: PushInOrderOptions,
  result: { held: { ref: string; reason: string }[] },
): Promise<void> {
  const infos = tagKinds(build.tags, build.tagInfo);
  const targets = (list: TagInfo[], keep?: Map<string, TagInfo[]>) =>
    list.flatMap((info) => build.images.filter((image) => keep?.get(image)?.includes(info) ?? true).map((image) => ({ image, tag: info.tag })));
  const immutable = pusher.pushAll(targets(infos.filter((t) => t.kind === 'immutable')));
  const moving = infos.filter((t) => t.kind !== 'immutable');
  if (moving.length === 0) return immutable;
  // Awaited below, or in `finally` when the moving part fails first.
  immutable.catch(() => undefined);

  const lock = opts.withImageLock ?? ((_image, fn) => fn());
  const order = opts.pushOrder;
  const images = [...build.images].sort();
  // Locks are taken in sorted order so two builds sharing images cannot deadlock.
  const underLocks = (i: number, fn: () => Promise<void>): Promise<void> => (i === images.length ? fn() : lock(images[i]!, () => underLocks(i + 1, fn)));
  try {
    await underLocks(0, async () => {
      // Decided again right before pushing: a build that finishes late never moves a tag back.
      const listed = await Promise.all(build.images.map((image) => registry.listTags(image)));
      await immutable;
      const keep = new Map<string, TagInfo[]>();
      const hold = (image: string, tag: string, reason: string) => {
        const ref = withTag(image, tag);
        result.held.push({ ref, reason });
        pusher.log.event({ type: 'held', ref, reason });
      };
      for (const [i, image] of build.images.entries()) {
        const decision = decideTags(moving, listed[i]!);
        for (const h of decision.held) hold(image, h.tag, h.reason);
        const kept: TagInfo[] = [];
        for (const info of decision.keep) {
          // Versions order tags that have one; the others (edge, a branch's name) go by push order.
          const last = info.version === undefined && order ? await order.last(withTag(image, info.tag)) : undefined;
          if (last !== undefined && order && last > order.seq)
            hold(image, info.tag, `a newer push (#${last} in queue order, this is #${order.seq}) already moved ${info.tag}`);
          else kept.push(info);
        }
        keep.set(image, kept);
      }
      const mark = async (list: { image: string; tag: string }[]) => {
        if (order) for (const t of list) if (pusher.pushed.includes(withTag(t.image, t.tag))) await order.pushed(withTag(t.image, t.tag));
      };
      const movingTargets = targets(
        moving.filter((t) => t.kind === 'moving'),
        keep,
      );
      try {
        await pusher.pushAll(movingTargets);
      } finally {
        await mark(movingTargets);
      }
      for (const target of targets(
        moving.filter((t) => t.kind === 'latest'),
        keep,
      )) {
        try {
          await pusher.pushAll([target]);
        } finally {
          await mark([target]);
        }
      }
    });
  } finally {
    await immutable.catch(() => undefined);
  }
}

/**
 * Pushes one image under many refs. The first ref of each image goes through the builder
 * (uploads layers); later tags of the same image re-put the stored manifest through the
 * registry API, which uploads nothing and is much faster than another `docker push`.
 */
export class Pusher {
  readonly pushed: string[] = [];
  digest = '';
  /** Each platform's digest in the pushed index (multi-platform builds). */
  platforms?: PlatformDigest[];
  readonly #digests = new Map<string, string>();
  readonly #manifests = new Map<string, Manifest>();

  constructor(
    private readonly builder: Builder,
    private readonly registry: RegistryClient,
    private readonly opts: PusherOptions,
    private readonly built: BuiltImage,
    /** The local name (IMAGE_NAME): the image, or buildah's manifest list of platforms. */
    private readonly localName: string,
    private readonly work: string,
    private readonly ctx: RunContext,
    readonly log: LogSink,
  ) {}

  /**
   * Pushes refs of one class at once: each image's first ref through the builder when the image
   * has none yet (that uploads the layers), then every other ref in parallel as manifest PUTs
   * over the registry client's kept-alive connections. Pushed refs are recorded in the order
   * given, also when one of them failed (whose error is then thrown).
   */
  async pushAll(targets: { image: string; tag: string }[]): Promise<void> {
    const firsts = new Map<string, { image: string; tag: string }>();
    for (const t of targets) if (!this.#manifests.has(t.image) && !firsts.has(t.image)) firsts.set(t.image, t);
    const settle = (list: { image: string; tag: string }[]) =>
      Promise.allSettled(
        list.map((t) => {
          const ref = withTag(t.image, t.tag);
          return this.#retry(ref, () => this.#upload(t.image, ref));
        }),
      );
    const done = new Map<{ image: string; tag: string }, PromiseSettledResult<string>>();
    const first = [...firsts.values()];
    (await settle(first)).forEach((r, i) => done.set(first[i]!, r));
    // When an image's first push failed, its other refs are not tried.
    const failedImages = new Set(first.filter((t) => done.get(t)!.status === 'rejected').map((t) => t.image));
    const rest = targets.filter((t) => !done.has(t) && !failedImages.has(t.image));
    (await settle(rest)).forEach((r, i) => done.set(rest[i]!, r));
    let error: unknown;
    for (const t of targets) {
      const r = done.get(t);
      if (r?.status === 'fulfilled') this.#record(t.image, withTag(t.image, t.tag), r.value);
      else if (r?.status === 'rejected') error ??= r.reason;
    }
    if (error !== undefined) throw error;
  }

  /** The first ref of an image uploads through the builder; later ones re-put its manifest. */
  async #upload(image: string, ref: string): Promise<string> {
    const manifest = this.#manifests.get(image);
    if (manifest) return this.registry.putManifest(ref, manifest.bytes, manifest.mediaType);
    const domain = parseImageName(image).domain;
    const { platforms } = this.built;
    const { digest } = await this.builder.push(
      {
        image: platforms ? this.localName : this.built.imageId,
        ref,
        insecure: isInsecureRegistry(this.opts.registries, domain),
        workDir: this.work,
        ...(platforms ? { platforms } : {}),
      },
      this.ctx,
    );
    // Only a speed-up: when the manifest cannot be read back, later tags use the builder too.
    const stored = await this.registry.getManifest(`${image}@${digest}`).catch((err: unknown) => {
      this.log.line(
        `cannot read back ${image}@${digest} (${err instanceof Error ? err.message : String(err)}); pushing further tags with ${this.builder.name}`,
      );
      return undefined;
    });
    if (stored) {
      this.#manifests.set(image, stored);
      if (platforms && !this.platforms) {
        this.platforms = indexPlatforms(stored.bytes);
        for (const p of this.platforms) this.log.line(`${p.platform}: ${image}@${p.digest}`);
        const lacking = platforms.map((p) => p.platform).filter((p) => !this.platforms!.some((q) => q.platform === p || q.platform.startsWith(`${p}/`)));
        if (lacking.length > 0)
          throw new BuildError(
            `the image index pushed to ${ref} lacks ${lacking.join(', ')} (it has ${this.platforms.map((p) => p.platform).join(', ') || 'nothing'}) — the builder did not build every platform`,
          );
      }
    }
    return digest;
  }

  /**
   * The built image (or index) under a cache ref, for builders whose cache travels inside the
   * image (BuildKit's inline cache). A cache that cannot be written costs the next build time,
   * never this build: failures are logged, not raised.
   */
  async pushCache(cacheRef: string): Promise<void> {
    // A cache ref without a tag means `latest`, as docker and BuildKit read it.
    const parsed = parseReference(cacheRef);
    const ref = withTag(parsed.name, parsed.tag ?? 'latest');
    const image = parsed.name;
    try {
      const digest = await this.#retry(ref, () => this.#upload(image, ref));
      this.log.line(`cache: pushed ${ref}@${digest}`);
    } catch (err) {
      this.log.line(`cache: could not push ${ref}: ${err instanceof Error ? err.message : String(err)} (the next build starts without it)`);
    }
  }

  /** A `hooks/push` pushed on its own: take what the registry now holds under our refs. */
  async adoptHookPush(refs: string[]): Promise<void> {
    for (const ref of refs) {
      const info = await this.registry.headManifest(ref);
      if (info) this.#record(parseImageNameOf(ref), ref, info.digest);
    }
  }

  /** Every pushed ref must resolve, in the registry, to the digest this build pushed. */
  async verify(): Promise<void> {
    const found = await Promise.all(this.pushed.map(async (ref) => ({ ref, actual: (await this.registry.headManifest(ref))?.digest })));
    const wrong = found
      .filter(({ ref, actual }) => actual !== this.#digests.get(parseImageNameOf(ref)))
      .map(({ ref, actual }) => `${ref}: registry has ${actual ?? 'nothing'}, pushed ${this.#digests.get(parseImageNameOf(ref))}`);
    if (wrong.length) throw new BuildError(`the registry does not hold what was pushed (${wrong.length} refs)`, { tail: wrong });
  }

  #record(image: string, ref: string, digest: string): void {
    const previous = this.#digests.get(image);
    if (previous && previous !== digest) throw new BuildError(`${ref} got digest ${digest} but this build pushed ${previous} before`);
    this.#digests.set(image, digest);
    if (!this.digest) this.digest = digest;
    this.pushed.push(ref);
    this.log.event({ type: 'pushed', ref, digest });
  }

  /** Transient failures (network, 5xx) are retried with backoff; auth failures fail at once. */
  async #retry(ref: string, fn: () => Promise<string>): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof BuildError) || !err.transient || attempt >= PUSH_ATTEMPTS || this.opts.signal?.aborted) throw err;
        this.log.event({ type: 'retry', ref, attempt: attempt + 1, reason: err.message });
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1), this.opts.signal);
      }
    }
  }
}

function parseImageNameOf(ref: string): string {
  const at = ref.lastIndexOf('@');
  const noDigest = at === -1 ? ref : ref.slice(0, at);
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
