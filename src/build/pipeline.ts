import { chmod, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { mountedSecrets, parseCacheSpec, type CacheSpec } from '../core/build-settings.js';
import { dockerfileBases } from '../core/dockerfile-bases.js';
import { BuildError } from '../core/errors.js';
import { indexPlatforms, type PlatformDigest } from '../core/image-index.js';
import { registriesConf } from '../core/mirrors.js';
import { isLoopbackDomain, parseImageName, parseReference, withTag } from '../core/references.js';
import { decideAutotest } from '../core/autotest.js';
import type { Secret } from '../core/secret.js';
import { decideTags } from '../core/semver-tags.js';
import type { AutotestMode, PlannedBuild, TagInfo } from '../core/types.js';
import { BuildahBuilder } from '../adapters/builders/buildah.js';
import type { Builder, BuildSpec, BuiltImage, RunContext } from '../adapters/builders/builder.js';
import { DockerBuilder, prepareDockerEngine } from '../adapters/builders/docker.js';
import { prepareCredentials, type BuildCredentials } from '../adapters/credentials.js';
import { checkEmulation, emulationFailure } from '../adapters/emulation.js';
import { authSecret, checkout, headCommit, type GitAuth } from '../adapters/git.js';
import { runHook, type HookName, type HookVariables } from '../adapters/hooks.js';
import { maskingSink, type LogSink, type StepName } from '../adapters/log-sink.js';
import { openWorkspace, type SandboxWorkspace } from '../adapters/sandbox.js';
import { testStep } from './test-step.js';
import { RegistryClient, isInsecureRegistry, type Manifest, type RegistryAuth } from '../adapters/registry-client.js';

// One build from source to registry: check out, run Docker Hub hooks at their steps, build once,
// push immutable tags, then (under the image lock) decide the moving tags again against the
// registry and push them, `latest` last, and finally check every pushed ref's digest.

export type { RegistryAuth } from '../adapters/registry-client.js';

export interface BuildOptions {
  build: PlannedBuild;
  source: { dir: string } | {
    cloneUrl: string; sha: string; token?: GitAuth;
    /** Submodules recursively (default true), over the token or `sshKey`, host keys checked. */
    submodules?: boolean; sshKey?: Secret; knownHosts?: string;
  };
  /** Extra values masked in every line and error (e.g. build-arg values from `${VAR}`). */
  masked?: Secret[];
  /** Private temp space; the pipeline works in a fresh subdirectory and removes it. */
  workRoot: string;
  builder: 'docker' | 'buildah';
  /** Keyed by registry host as in autobuild.yml. */
  registries: Record<string, RegistryAuth>;
  log: LogSink;
  signal?: AbortSignal;
  /** Serialises moving-tag decisions per image across builds; default: no lock. */
  withImageLock?: <T>(image: string, fn: () => Promise<T>) => Promise<T>;
  /**
   * Push order across builds (the service's queue order), consulted under the image locks: a
   * moving tag without a version (a branch's `edge`, a branch name) is held when a build queued
   * later already pushed it, so an older push finishing late never moves it backward.
   */
  pushOrder?: PushOrder;
  now?: Date;
  /** A DOCKER_CONFIG the caller already logged in (GitHub Action); used as is, never deleted. */
  dockerConfig?: string;
  /** Paths hooks must not see even by name: the service's config file, its dataDir. */
  hideFromHooks?: string[];
  /** Build secrets by id, for `RUN --mount=type=secret,id=ID`; masked in every line. */
  secrets?: Record<string, Secret>;
  /** Pull-through mirrors for `FROM` pulls, by registry host (autobuild.yml `mirrors`). */
  mirrors?: Record<string, string[]>;
  /** Docker Hub's build environment variables: hooks and tests see them; masked everywhere. */
  env?: Record<string, Secret>;
  /** Variables handed to hooks and tests as they are (the Action's workflow `env:`, which the runner masks). */
  passEnv?: Record<string, string>;
  /** The repository's `autotest` and whether tests were turned off (--no-test); core/autotest.ts decides. */
  autotest?: { mode?: AutotestMode; disabled?: boolean };
}

export interface PushOrder {
  /** This build's place in queue order; higher is newer. */
  seq: number;
  /** The newest place in queue order that pushed `ref`, if any. */
  last(ref: string): Promise<number | undefined>;
  /** Remembers that this build pushed `ref`. */
  pushed(ref: string): Promise<void>;
}

export interface BuildResult {
  images: string[];
  tags: string[];
  refs: string[];
  digest: string;
  imageId: string;
  pushed: string[];
  held: { ref: string; reason: string }[];
  /** A multi-platform build: each platform's manifest digest in the index (`digest`). */
  platforms?: PlatformDigest[];
  /** The labels the build gave the image (OCI annotations and `labels`), when autobuild built it. */
  labels?: Record<string, string>;
}

const PUSH_ATTEMPTS = 3;
const RETRY_BASE_MS = 1_000;

export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const { build, signal } = opts;
  const secrets = secretsOf(opts);
  const log = maskingSink(opts.log, secrets);
  await mkdir(opts.workRoot, { recursive: true });
  const work = await mkdtemp(join(opts.workRoot, 'build-'));
  if (opts.builder === 'docker') prepareDockerEngine(join(work, 'docker-config-none'));
  // Hooks run as a uid of their own (adapters/sandbox.ts) that must reach the checkout, so a
  // clone lives here, outside the service's private workRoot; so do the hooks' HOME and TMPDIR.
  const sandboxDir = await mkdtemp(join(tmpdir(), 'autobuild-build-'));
  let workspace: Promise<SandboxWorkspace> | undefined;
  const step = stepper(log, signal);
  const ctx: RunContext = { secrets, signal, onLine: (l) => log.line(l) };
  let credentials: BuildCredentials | undefined;
  // The plan decided whether this code is the repository writers' (CONTRACT.md section 7); a
  // build without the field (an old or forged job) counts as untrusted. Untrusted: no login, no
  // hooks, nothing pushed.
  const trusted = build.trusted === true;
  if (!trusted) log.line('autobuild: untrusted source (a pull request from a fork): no registry login, no hooks, nothing is pushed');
  try {
    // Where the tree comes from: a fresh checkout of exactly the planned commit, or a directory.
    let root: string;
    let commit: { commitMessage: string; commitTime?: string };
    if ('dir' in opts.source) {
      root = resolve(opts.source.dir);
      commit = await headCommit(root);
    } else {
      const source = opts.source;
      root = join(sandboxDir, 'src');
      commit = await step('checkout', () => checkout({
        cloneUrl: source.cloneUrl, sha: source.sha, dir: root, token: source.token, signal, onLine: ctx.onLine,
        ...(source.submodules === undefined ? {} : { submodules: source.submodules }),
        // Untrusted code gets no ssh key, and its submodules get no token: a fork's .gitmodules
        // could otherwise pull another private repository into a build it controls.
        ...(trusted && source.sshKey ? { sshKey: source.sshKey } : {}),
        ...(source.knownHosts ? { knownHosts: source.knownHosts } : {}),
        credentialsForSubmodules: trusted,
      }));
    }
    const commitMessage = commit.commitMessage || build.commitMessage || '';
    const contextDir = resolve(root, build.context);
    const dockerfile = await locateDockerfile(root, contextDir, build.dockerfile);
    // A checkout is someone's repository: its Dockerfile and context must not lead out of it
    // (a symlink to /etc/shadow, a context of `../..`), or the engine would read the host.
    if (!('dir' in opts.source)) await confineToCheckout(root, { context: contextDir, Dockerfile: dockerfile });
    // What the Dockerfile builds FROM, for the log and for rebuilding when a base changes.
    const bases = dockerfileBases(await readFile(dockerfile, 'utf8'), build.buildArgs);
    log.event({ type: 'bases', refs: bases.bases.map((b) => b.ref), problems: bases.problems });
    const dockerfileText = await readFile(dockerfile, 'utf8');
    const cache = cacheSettings(build, trusted, log);

    // Logged in to the registries the build pushes to, pulls its bases from and keeps its cache in.
    credentials = await prepareCredentials({
      workRoot: work, images: [...build.images, ...baseImageNames(dockerfileText), ...[...cache.from, ...cache.to].flatMap((c) => (c.ref ? [parseReference(c.ref).name] : []))],
      registries: trusted ? opts.registries : {}, builder: opts.builder, existing: trusted ? opts.dockerConfig : undefined, signal, onLine: ctx.onLine,
    });
    if (opts.builder === 'buildah') await ensureFile(credentials.authFile);
    const registry = new RegistryClient(opts.registries, { signal });
    const builder: Builder = opts.builder === 'buildah'
      ? new BuildahBuilder({ authFile: credentials.authFile, dockerConfig: credentials.dockerConfig })
      : new DockerBuilder({ dockerConfig: credentials.dockerConfig, registry });
    const variables = hookVariables(build, commitMessage, relative(contextDir, dockerfile));
    const settings = await buildSettings(opts, trusted, work, dockerfileText, cache, log);
    const ownCheckout = !('dir' in opts.source);
    const openHookWorkspace = () => (workspace ??= openWorkspace({
      dir: sandboxDir, dockerConfig: credentials?.dockerConfig, hide: opts.hideFromHooks ?? [],
      // The service's own checkout goes to the hooks' uid; the CLI's DIR stays its owner's.
      switchUser: ownCheckout, required: ownCheckout, ...(ownCheckout ? { tree: root } : {}),
    }));
    // An untrusted build (a fork's pull request) gets none of the service's: no `env` either.
    const buildEnv = trusted ? { ...opts.passEnv, ...Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, v.reveal()])) } : {};
    const hookContext = { dockerfileDir: dirname(dockerfile), contextDir, variables, env: { ...buildEnv, ...builder.hookEnv }, workspace: openHookWorkspace, secrets, signal, onLine: ctx.onLine };
    const runTrustedHook = (name: HookName) => (trusted ? runHook(name, hookContext) : Promise.resolve(false));
    const hook = (name: HookName) => step(`hook:${name}`, () => runTrustedHook(name), true);

    await hook('post_checkout');
    await hook('pre_build');
    // While the image builds, the registry client connects and authenticates for the push.
    if (build.push && trusted && build.tags[0] !== undefined) for (const image of build.images) void registry.warmUp(image, build.tags[0]);
    let labels: Record<string, string> | undefined;
    const built = await step('build', async (): Promise<BuiltImage> => {
      if (await runTrustedHook('build')) {
        return { imageId: await builder.imageId(variables.IMAGE_NAME, ctx) };
      }
      labels = { ...ociLabels(build, commit.commitTime ?? (opts.now ?? new Date()).toISOString()), ...build.labels };
      const platforms = settings.platforms ?? [];
      await checkEmulation(platforms, dockerfileText);
      try {
        return await builder.build({ contextDir, dockerfile, buildArgs: build.buildArgs, labels, localName: variables.IMAGE_NAME, workDir: work, ...settings }, ctx);
      } catch (err) {
        throw emulationFailure(err, platforms) ?? err;
      }
    });
    await hook('post_build');
    // Docker Hub's order: build, test, push; a failed test pushes nothing.
    await testStep({
      decision: decideAutotest({ ...opts.autotest, pullRequest: build.ref.startsWith('refs/pull/'), trusted }),
      builder, image: { id: built.imageId, name: variables.IMAGE_NAME }, platforms: built.platforms?.length ?? 1, trusted, root,
      contextDir, dockerfile, dockerfileDir: dirname(dockerfile), hooks: hookContext, runHook: runTrustedHook, workDir: work, ctx, step,
    });

    const result: BuildResult = {
      images: build.images, tags: build.tags, refs: build.refs, digest: '', imageId: built.imageId, pushed: [], held: [],
      ...(built.platforms ? { platforms: built.platforms.map((p) => ({ platform: p.platform, digest: '' })) } : {}),
      ...(labels ? { labels } : {}),
    };
    if (!build.push || !trusted) return result;

    await hook('pre_push');
    const pusher = new Pusher(builder, registry, opts, built, variables.IMAGE_NAME, work, ctx, log);
    await step('push', async () => {
      if (await runTrustedHook('push')) {
        await pusher.adoptHookPush(build.refs);
      } else {
        await pushInOrder(build, pusher, registry, opts, result);
        for (const ref of built.cacheRefs ?? []) await pusher.pushCache(ref);
      }
    });
    await hook('post_push');
    await step('verify', () => pusher.verify());
    result.pushed = pusher.pushed;
    result.digest = pusher.digest;
    if (pusher.platforms) result.platforms = pusher.platforms;
    return result;
  } finally {
    await workspace?.then((w) => w.dispose(), () => undefined);
    await credentials?.dispose();
    await rm(work, { recursive: true, force: true });
    await rm(sandboxDir, { recursive: true, force: true });
  }
}

/**
 * Immutable refs first; then, holding every image's lock, moving refs, and `latest` last and
 * alone. The refs of one class go out together (Pusher.pushAll). The registry's tag lists, which
 * the moving tags are decided against, are read under the locks while the immutable refs are
 * still being pushed: this build's own immutable tags cannot change that decision.
 */
async function pushInOrder(build: PlannedBuild, pusher: Pusher, registry: RegistryClient, opts: BuildOptions, result: BuildResult): Promise<void> {
  const infos = tagInfos(build);
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
  const underLocks = (i: number, fn: () => Promise<void>): Promise<void> =>
    i === images.length ? fn() : lock(images[i]!, () => underLocks(i + 1, fn));
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
          if (last !== undefined && order && last > order.seq) hold(image, info.tag, `a newer push (#${last} in queue order, this is #${order.seq}) already moved ${info.tag}`);
          else kept.push(info);
        }
        keep.set(image, kept);
      }
      const mark = async (list: { image: string; tag: string }[]) => {
        if (order) for (const t of list) if (pusher.pushed.includes(withTag(t.image, t.tag))) await order.pushed(withTag(t.image, t.tag));
      };
      const movingTargets = targets(moving.filter((t) => t.kind === 'moving'), keep);
      try {
        await pusher.pushAll(movingTargets);
      } finally {
        await mark(movingTargets);
      }
      for (const target of targets(moving.filter((t) => t.kind === 'latest'), keep)) {
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

/** The planned tags with their kinds; builds without tagInfo (`--tag`) push `latest` last. */
function tagInfos(build: PlannedBuild): TagInfo[] {
  const known = new Map((build.tagInfo ?? []).map((t) => [t.tag, t]));
  return build.tags.map((tag): TagInfo => known.get(tag) ?? { tag, kind: tag === 'latest' ? 'latest' : 'immutable' });
}

/**
 * Pushes one image under many refs. The first ref of each image goes through the builder
 * (uploads layers); later tags of the same image re-put the stored manifest through the
 * registry API, which uploads nothing and is much faster than another `docker push`.
 */
class Pusher {
  readonly pushed: string[] = [];
  digest = '';
  /** Each platform's digest in the pushed index (multi-platform builds). */
  platforms?: PlatformDigest[];
  readonly #digests = new Map<string, string>();
  readonly #manifests = new Map<string, Manifest>();

  constructor(
    private readonly builder: Builder,
    private readonly registry: RegistryClient,
    private readonly opts: BuildOptions,
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
      Promise.allSettled(list.map((t) => { const ref = withTag(t.image, t.tag); return this.#retry(ref, () => this.#upload(t.image, ref)); }));
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
    const { digest } = await this.builder.push({
      image: platforms ? this.localName : this.built.imageId, ref,
      insecure: isInsecureRegistry(this.opts.registries, domain), workDir: this.work, ...(platforms ? { platforms } : {}),
    }, this.ctx);
    // Only a speed-up: when the manifest cannot be read back, later tags use the builder too.
    const stored = await this.registry.getManifest(`${image}@${digest}`).catch((err: unknown) => {
      this.log.line(`cannot read back ${image}@${digest} (${err instanceof Error ? err.message : String(err)}); pushing further tags with ${this.builder.name}`);
      return undefined;
    });
    if (stored) {
      this.#manifests.set(image, stored);
      if (platforms && !this.platforms) {
        this.platforms = indexPlatforms(stored.bytes);
        for (const p of this.platforms) this.log.line(`${p.platform}: ${image}@${p.digest}`);
        const lacking = platforms.map((p) => p.platform).filter((p) => !this.platforms!.some((q) => q.platform === p || q.platform.startsWith(`${p}/`)));
        if (lacking.length > 0) throw new BuildError(`the image index pushed to ${ref} lacks ${lacking.join(', ')} (it has ${this.platforms.map((p) => p.platform).join(', ') || 'nothing'}) — the builder did not build every platform`);
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

/** Runs one step with started/finished events; a hook step that found no hook emits nothing. */
function stepper(log: LogSink, signal?: AbortSignal) {
  return async <T>(name: StepName, fn: () => Promise<T>, quietWhenFalse = false): Promise<T> => {
    if (signal?.aborted) throw new BuildError(`build canceled before ${name}`);
    const started = Date.now();
    let announced = false;
    if (!quietWhenFalse) {
      log.event({ type: 'step-started', step: name });
      announced = true;
    }
    const value = await fn();
    if (quietWhenFalse && value === false) return value;
    if (!announced) log.event({ type: 'step-started', step: name });
    log.event({ type: 'step-finished', step: name, ms: Date.now() - started });
    return value;
  };
}

/** Docker Hub's hook variables for this build: the first image and tag name the local image. */
function hookVariables(build: PlannedBuild, commitMessage: string, dockerfilePath: string): HookVariables {
  const repo = build.images[0] ?? 'autobuild/local';
  const tag = build.tags[0] ?? (build.sha ? `sha-${build.sha.slice(0, 7)}` : 'autobuild');
  return {
    SOURCE_BRANCH: build.ref.replace(/^refs\/(heads|tags)\//, ''),
    SOURCE_COMMIT: build.sha,
    COMMIT_MSG: commitMessage,
    DOCKER_REPO: repo,
    DOCKERFILE_PATH: dockerfilePath,
    DOCKER_TAG: tag,
    IMAGE_NAME: withTag(repo, tag),
    ...(build.platforms?.length ? { PLATFORMS: build.platforms.join(',') } : {}),
  };
}

/**
 * OCI annotations as docker/metadata-action sets them, except that `created` is the commit's
 * time when known (as with SOURCE_DATE_EPOCH): the same commit then gives the same image.
 */
function ociLabels(build: PlannedBuild, created: string): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.created': created };
  if (build.sha) labels['org.opencontainers.image.revision'] = build.sha;
  const source = build.cloneUrl?.replace(/\.git$/, '') ?? (build.repository ? `https://github.com/${build.repository}` : undefined);
  if (source && /^https?:\/\//.test(source)) labels['org.opencontainers.image.source'] = source;
  const version = build.version ?? build.tags[0];
  if (version) labels['org.opencontainers.image.version'] = version;
  return labels;
}

/** Docker Hub reads the Dockerfile path relative to the context; build-push-action, to the repository. */
async function locateDockerfile(root: string, contextDir: string, dockerfile: string): Promise<string> {
  for (const candidate of [resolve(contextDir, dockerfile), resolve(root, dockerfile)]) {
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new BuildError(`no Dockerfile at ${dockerfile} (looked in the context ${relative(root, contextDir) || '.'} and the repository root)`, { hint: "set dockerfile/context in the repository's config" });
}

async function confineToCheckout(root: string, paths: Record<string, string>): Promise<void> {
  const top = await realpath(root);
  for (const [what, path] of Object.entries(paths)) {
    const real = await realpath(path).catch(() => path);
    const rel = relative(top, real);
    if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
      throw new BuildError(`the ${what} ${relative(root, path) || '.'} leads outside the repository's checkout (to ${real}), which a build may not read`, { hint: 'point dockerfile/context at files inside the repository, not at symlinks that leave it' });
    }
  }
}

async function ensureFile(file: string): Promise<void> {
  if (!(await stat(file).then(() => true, () => false))) await writeFile(file, '{"auths":{}}\n', { mode: 0o600 });
}

/** cacheFrom/cacheTo parsed; a build that pushes nothing writes no cache either. */
function cacheSettings(build: PlannedBuild, trusted: boolean, log: LogSink): { from: CacheSpec[]; to: CacheSpec[] } {
  const from = (build.cacheFrom ?? []).map((c) => parseCacheSpec(c, 'cacheFrom'));
  let to = (build.cacheTo ?? []).map((c) => parseCacheSpec(c, 'cacheTo'));
  // An untrusted build (a fork's pull request) must not write into the cache trusted builds read.
  if (to.length > 0 && (!build.push || !trusted)) {
    log.line(`cache: ${trusted ? 'this build pushes nothing' : 'an untrusted build'}, so it writes no cache (cacheTo skipped)`);
    to = [];
  }
  return { from, to };
}

/** The BuildSpec fields beyond the Dockerfile: platforms, stage, cache, secrets, mirrors. */
async function buildSettings(
  opts: BuildOptions, trusted: boolean, work: string, dockerfileText: string, cache: { from: CacheSpec[]; to: CacheSpec[] }, log: LogSink,
): Promise<Partial<BuildSpec>> {
  const { build } = opts;
  // A fork's pull request gets no secrets: its Dockerfile is not the repository owners'.
  const given = trusted ? opts.secrets ?? {} : {};
  const missing = mountedSecrets(dockerfileText).filter((m) => m.required && !given[m.id]).map((m) => m.id);
  if (missing.length > 0) {
    const id = missing[0]!;
    throw new BuildError(`the Dockerfile mounts secret "${id}" (RUN --mount=type=secret,id=${id}) but this build has no secret of that id — add it under secrets: in autobuild.yml (secrets: {${id}: \${VAR}}), as --secret id=${id},env=VAR, or in the Action's secrets input; or write required=false on the mount${trusted ? '' : ' (a pull request from a fork gets no secrets)'}`);
  }
  // Secret values go to files only the builder reads (never argv or the environment of a tool
  // that might print it); the work directory is removed after the build.
  const secrets: { id: string; file: string }[] = [];
  if (Object.keys(given).length > 0) {
    const dir = join(work, 'secrets');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    for (const [id, value] of Object.entries(given)) {
      const file = join(dir, id);
      await writeFile(file, value.reveal(), { mode: 0o600 });
      secrets.push({ id, file });
    }
  }
  const settings: Partial<BuildSpec> = {
    ...(build.platforms?.length ? { platforms: build.platforms } : {}),
    ...(build.target ? { target: build.target } : {}),
    ...(build.pull ? { pull: true } : {}),
    ...(build.noCache ? { noCache: true } : {}),
    ...(cache.from.length ? { cacheFrom: cache.from } : {}),
    ...(cache.to.length ? { cacheTo: cache.to } : {}),
    ...(secrets.length ? { secrets } : {}),
  };
  const mirrors = opts.mirrors ?? {};
  const mirrored = Object.keys(mirrors).filter((h) => (mirrors[h] ?? []).length > 0);
  if (opts.builder === 'docker' && mirrored.length > 0) {
    log.line(`mirrors: configured for ${mirrored.join(', ')}, but the docker builder pulls through its daemon, which reads only its own registry-mirrors (daemon.json, for docker.io) — this build does not use them; use builder: buildah to pull through them`);
  }
  // buildah reads plain-HTTP hosts (a loopback registry holding a base image or the cache) and
  // mirrors from a registries.conf; the docker daemon has its own settings for both.
  const pulledHosts = [...cache.from, ...cache.to].flatMap((c) => (c.ref ? [parseReference(c.ref).domain] : []))
    .concat(baseImageNames(dockerfileText).map((n) => parseReference(n).domain));
  const insecureHosts = [...new Set([...pulledHosts, ...Object.keys(opts.registries)])].filter((h) => isLoopbackDomain(h) || opts.registries[h]?.insecure);
  if (opts.builder === 'buildah' && (mirrored.length > 0 || insecureHosts.some((h) => pulledHosts.includes(h)))) {
    const file = join(work, 'registries.conf');
    await writeFile(file, registriesConf({ mirrors, insecureHosts }));
    settings.registriesConf = file;
    if (mirrored.length > 0) log.line(`mirrors: FROM pulls from ${mirrored.join(', ')} go through ${mirrored.flatMap((h) => mirrors[h] ?? []).join(', ')} first`);
  }
  return settings;
}

/** The registries of `FROM` images (not `scratch`, not earlier stages, not `${ARG}` names). */
function baseImageNames(dockerfileText: string): string[] {
  const stages = new Set<string>();
  const out: string[] = [];
  for (const m of dockerfileText.matchAll(/^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = m[1]!;
    if (m[2]) stages.add(m[2].toLowerCase());
    if (image === 'scratch' || image.includes('$') || stages.has(image.toLowerCase())) continue;
    try {
      out.push(parseReference(image).name);
    } catch {
      // Not an image reference the build could pull either; the builder will say so.
    }
  }
  return out;
}

function secretsOf(opts: BuildOptions): Secret[] {
  const out: Secret[] = [...Object.values(opts.secrets ?? {}), ...(opts.masked ?? [])];
  for (const auth of Object.values(opts.registries)) if (auth.password) out.push(auth.password);
  if ('token' in opts.source && opts.source.token) out.push(authSecret(opts.source.token));
  if ('sshKey' in opts.source && opts.source.sshKey) out.push(opts.source.sshKey);
  out.push(...Object.values(opts.env ?? {}));
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
