import { chmod, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { mountedSecrets, parseCacheSpec, type CacheSpec } from '../core/build-settings.js';
import { dockerfileBases } from '../core/dockerfile-bases.js';
import { BuildError } from '../core/errors.js';
import type { PlatformDigest } from '../core/image-index.js';
import { registriesConf } from '../core/mirrors.js';
import { parseReference, withTag, type ImageReference } from '../core/references.js';
import { decideAutotest } from '../core/autotest.js';
import type { Secret } from '../core/secret.js';
import type { AutotestMode, PlannedBuild } from '../core/types.js';
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
import { pushInOrder, Pusher, type PushOrder } from './pusher.js';
import { RegistryClient, isInsecureRegistry, type RegistryAuth } from '../adapters/registry-client.js';

// One build from source to registry: check out, run Docker Hub hooks at their steps, build once,
// push immutable tags, then (under the image lock) decide the moving tags again against the
// registry and push them, `latest` last, and finally check every pushed ref's digest.

export interface BuildOptions {
  build: PlannedBuild;
  source:
    | { dir: string }
    | {
        cloneUrl: string;
        sha: string;
        token?: GitAuth;
        /** Submodules recursively (default true), over the token or `sshKey`, host keys checked. */
        submodules?: boolean;
        sshKey?: Secret;
        knownHosts?: string;
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
  // The plan decided whether this code is the repository writers' (README "Security model"); a
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
      commit = await step('checkout', () =>
        checkout({
          cloneUrl: source.cloneUrl,
          sha: source.sha,
          dir: root,
          token: source.token,
          signal,
          onLine: ctx.onLine,
          ...(source.submodules === undefined ? {} : { submodules: source.submodules }),
          // Untrusted code gets no ssh key, and its submodules get no token: a fork's .gitmodules
          // could otherwise pull another private repository into a build it controls.
          ...(trusted && source.sshKey ? { sshKey: source.sshKey } : {}),
          ...(source.knownHosts ? { knownHosts: source.knownHosts } : {}),
          credentialsForSubmodules: trusted,
        }),
      );
    }
    const commitMessage = commit.commitMessage || build.commitMessage || '';
    const contextDir = resolve(root, build.context);
    const dockerfile = await locateDockerfile(root, contextDir, build.dockerfile);
    // A checkout is someone's repository: its Dockerfile and context must not lead out of it
    // (a symlink to /etc/shadow, a context of `../..`), or the engine would read the host.
    if (!('dir' in opts.source)) await confineToCheckout(root, { context: contextDir, Dockerfile: dockerfile });
    // What the Dockerfile builds FROM, for the log and for rebuilding when a base changes.
    const dockerfileText = await readFile(dockerfile, 'utf8');
    const bases = dockerfileBases(dockerfileText, build.buildArgs);
    log.event({ type: 'bases', refs: bases.bases.map((b) => b.ref), problems: bases.problems });
    const baseImages = bases.bases.map((b) => parseReference(b.ref));
    const cache = cacheSettings(build, trusted, log);

    // Logged in to the registries the build pushes to, pulls its bases from and keeps its cache in.
    credentials = await prepareCredentials({
      workRoot: work,
      images: [...build.images, ...baseImages.map((b) => b.name), ...[...cache.from, ...cache.to].flatMap((c) => (c.ref ? [parseReference(c.ref).name] : []))],
      registries: trusted ? opts.registries : {},
      builder: opts.builder,
      existing: trusted ? opts.dockerConfig : undefined,
      signal,
      onLine: ctx.onLine,
    });
    if (opts.builder === 'buildah') await ensureFile(credentials.authFile);
    const registry = new RegistryClient(opts.registries, { signal });
    const builder: Builder =
      opts.builder === 'buildah'
        ? new BuildahBuilder({ authFile: credentials.authFile, dockerConfig: credentials.dockerConfig })
        : new DockerBuilder({ dockerConfig: credentials.dockerConfig, registry });
    const variables = hookVariables(build, commitMessage, relative(contextDir, dockerfile));
    const settings = await buildSettings(opts, trusted, work, dockerfileText, baseImages, cache, log);
    const ownCheckout = !('dir' in opts.source);
    const openHookWorkspace = () =>
      (workspace ??= openWorkspace({
        dir: sandboxDir,
        dockerConfig: credentials?.dockerConfig,
        hide: opts.hideFromHooks ?? [],
        // The service's own checkout goes to the hooks' uid; the CLI's DIR stays its owner's.
        switchUser: ownCheckout,
        required: ownCheckout,
        ...(ownCheckout ? { tree: root } : {}),
      }));
    // An untrusted build (a fork's pull request) gets none of the service's: no `env` either.
    const buildEnv = trusted ? { ...opts.passEnv, ...Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, v.reveal()])) } : {};
    const hookContext = {
      dockerfileDir: dirname(dockerfile),
      contextDir,
      variables,
      env: { ...buildEnv, ...builder.hookEnv },
      workspace: openHookWorkspace,
      secrets,
      signal,
      onLine: ctx.onLine,
    };
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
        return await builder.build(
          { contextDir, dockerfile, buildArgs: build.buildArgs, labels, localName: variables.IMAGE_NAME, workDir: work, ...settings },
          ctx,
        );
      } catch (err) {
        throw emulationFailure(err, platforms) ?? err;
      }
    });
    await hook('post_build');
    // Docker Hub's order: build, test, push; a failed test pushes nothing.
    await testStep({
      decision: decideAutotest({ ...opts.autotest, pullRequest: build.ref.startsWith('refs/pull/'), trusted }),
      builder,
      image: { id: built.imageId, name: variables.IMAGE_NAME },
      platforms: built.platforms?.length ?? 1,
      trusted,
      root,
      contextDir,
      dockerfile,
      dockerfileDir: dirname(dockerfile),
      hooks: hookContext,
      runHook: runTrustedHook,
      workDir: work,
      ctx,
      step,
    });

    const result: BuildResult = {
      images: build.images,
      tags: build.tags,
      refs: build.refs,
      digest: '',
      imageId: built.imageId,
      pushed: [],
      held: [],
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
    await workspace?.then(
      (w) => w.dispose(),
      () => undefined,
    );
    await credentials?.dispose();
    await rm(work, { recursive: true, force: true });
    await rm(sandboxDir, { recursive: true, force: true });
  }
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
    if (
      await stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  throw new BuildError(`no Dockerfile at ${dockerfile} (looked in the context ${relative(root, contextDir) || '.'} and the repository root)`, {
    hint: "set dockerfile/context in the repository's config",
  });
}

async function confineToCheckout(root: string, paths: Record<string, string>): Promise<void> {
  const top = await realpath(root);
  for (const [what, path] of Object.entries(paths)) {
    const real = await realpath(path).catch(() => path);
    const rel = relative(top, real);
    if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
      throw new BuildError(`the ${what} ${relative(root, path) || '.'} leads outside the repository's checkout (to ${real}), which a build may not read`, {
        hint: 'point dockerfile/context at files inside the repository, not at symlinks that leave it',
      });
    }
  }
}

async function ensureFile(file: string): Promise<void> {
  if (
    !(await stat(file).then(
      () => true,
      () => false,
    ))
  )
    await writeFile(file, '{"auths":{}}\n', { mode: 0o600 });
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
  opts: BuildOptions,
  trusted: boolean,
  work: string,
  dockerfileText: string,
  /** The images the Dockerfile builds FROM (core/dockerfile-bases.ts). */
  baseImages: ImageReference[],
  cache: { from: CacheSpec[]; to: CacheSpec[] },
  log: LogSink,
): Promise<Partial<BuildSpec>> {
  const { build } = opts;
  // A fork's pull request gets no secrets: its Dockerfile is not the repository owners'.
  const given = trusted ? (opts.secrets ?? {}) : {};
  const missing = mountedSecrets(dockerfileText)
    .filter((m) => m.required && !given[m.id])
    .map((m) => m.id);
  if (missing.length > 0) {
    const id = missing[0]!;
    throw new BuildError(
      `the Dockerfile mounts secret "${id}" (RUN --mount=type=secret,id=${id}) but this build has no secret of that id — add it under secrets: in autobuild.yml (secrets: {${id}: \${VAR}}), as --secret id=${id},env=VAR, or in the Action's secrets input; or write required=false on the mount${trusted ? '' : ' (a pull request from a fork gets no secrets)'}`,
    );
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
    log.line(
      `mirrors: configured for ${mirrored.join(', ')}, but the docker builder pulls through its daemon, which reads only its own registry-mirrors (daemon.json, for docker.io) — this build does not use them; use builder: buildah to pull through them`,
    );
  }
  // buildah reads plain-HTTP hosts (a loopback registry holding a base image or the cache) and
  // mirrors from a registries.conf; the docker daemon has its own settings for both.
  const pulledHosts = [...cache.from, ...cache.to].flatMap((c) => (c.ref ? [parseReference(c.ref).domain] : [])).concat(baseImages.map((b) => b.domain));
  const insecureHosts = [...new Set([...pulledHosts, ...Object.keys(opts.registries)])].filter((h) => isInsecureRegistry(opts.registries, h));
  if (opts.builder === 'buildah' && (mirrored.length > 0 || insecureHosts.some((h) => pulledHosts.includes(h)))) {
    const file = join(work, 'registries.conf');
    await writeFile(file, registriesConf({ mirrors, insecureHosts }));
    settings.registriesConf = file;
    if (mirrored.length > 0)
      log.line(`mirrors: FROM pulls from ${mirrored.join(', ')} go through ${mirrored.flatMap((h) => mirrors[h] ?? []).join(', ')} first`);
  }
  return settings;
}

function secretsOf(opts: BuildOptions): Secret[] {
  const out: Secret[] = [...Object.values(opts.secrets ?? {}), ...(opts.masked ?? [])];
  for (const auth of Object.values(opts.registries)) if (auth.password) out.push(auth.password);
  if ('token' in opts.source && opts.source.token) out.push(authSecret(opts.source.token));
  if ('sshKey' in opts.source && opts.source.sshKey) out.push(opts.source.sshKey);
  out.push(...Object.values(opts.env ?? {}));
  return out;
}
