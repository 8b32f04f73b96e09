import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { describeEvent, maskingSink, type PipelineEvent } from '../../adapters/log-sink.js';
import { runBuild } from '../../pipeline/pipeline.js';
import { defaultCache } from '../../core/build-settings.js';
import type { Config } from '../../core/config.js';
import { BuildError, isUserError, TestsFailedError } from '../../core/errors.js';
import { boundText, resolveQueuedBuild, toQueuedBuild, type QueuedBuild } from '../../core/queued-build.js';
import type { Secret } from '../../core/secret.js';
import type { PlannedBuild } from '../../core/types.js';
import { BuildLogWriter } from '../build-log.js';
import { cloneSource } from '../clone-source.js';
import type { BuildJobData, BuildQueue } from '../build-queue.js';
import { FINISHED, type BuildRecords, type BuildStep } from '../build-records.js';
import type { CommitStatuses } from '../commit-status.js';
import { notifyWebhooks } from '../dockerhub-webhooks.js';
import { imageLock } from '../image-lock.js';
import { pushOrder } from '../push-order.js';
import { watchSlot, type BaseWatch } from '../base-watch.js';
import type { ServiceMetrics } from '../metrics.js';
import type { Notifier } from '../notifier.js';

// One queued build, start to end: re-derive it from this worker's own configuration (a job found
// in Redis is not trusted; one that asks for anything the configuration does not allow is
// refused before anything runs), skip it if it was canceled or superseded while queued, run the
// pipeline with a signal that cancel, timeout and shutdown can pull, keep the record and the log
// current, then tell GitHub and the configured webhooks. Transient failures go back to BullMQ to
// be retried with backoff; build failures end the job for good (UnrecoverableError).

export interface BuildJobContext {
  config: Config;
  redis: Redis;
  records: BuildRecords;
  queue: BuildQueue;
  statuses: CommitStatuses;
  metrics: ServiceMetrics;
  log: Logger;
  workDir: string;
  publicUrl: string;
  secrets: Secret[];
  /** Tells the configured notification receivers of started/succeeded/failed/canceled. */
  notifier?: Notifier;
  /** Aborted when the worker's shutdown grace period is over. */
  shutdown: AbortSignal;
  /** Records the FROM images of builds of `rebuildOnBaseChange` repositories. */
  baseWatch?: BaseWatch;
}

const CANCEL_POLL_MS = 1_000;

type StopReason = 'canceled' | 'timeout' | 'shutdown';

function repositoryEntry(config: Config, name: string) {
  const want = name.toLowerCase();
  return Object.entries(config.repositories).find(([key]) => key.toLowerCase() === want);
}

/**
 * A repository that says nothing about cacheFrom/cacheTo gets the shared registry cache, so a
 * worker with an empty local store reuses the layers another worker pushed (core/build-settings).
 */
function withServiceCache(build: PlannedBuild): PlannedBuild {
  if (build.cacheFrom !== undefined || build.cacheTo !== undefined) return build;
  return { ...build, ...defaultCache(build.images) };
}

/** A refused job still leaves a failed record, so whoever watches the builds sees it. */
async function refuse(id: string, data: unknown, reason: string, ctx: BuildJobContext): Promise<void> {
  const field = (key: string) => {
    const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
    return typeof value === 'string' ? boundText(value, 200) : '';
  };
  const shell: QueuedBuild = {
    repository: field('repository'),
    ref: field('ref'),
    sha: field('sha'),
    images: [],
    context: '',
    dockerfile: '',
    buildArgs: [],
    labels: {},
    tags: [],
    refs: [],
    push: false,
    tagInfo: [],
    trusted: false,
  };
  await ctx.records.create(id, shell, 'refused', new Date());
  if (await ctx.records.transition(id, ['queued', 'running'], 'failed', { finishedAt: new Date().toISOString(), error: reason })) {
    ctx.metrics.buildEnded('failed');
  }
  ctx.log.warn({ buildId: id, error: reason }, 'refused a queued build that this configuration does not allow');
}

export async function runBuildJob(job: Job<BuildJobData>, ctx: BuildJobContext): Promise<string> {
  const { buildId: id } = job.data;
  let build: PlannedBuild;
  try {
    build = resolveQueuedBuild(job.data.build, { repositories: ctx.config.repositories, githubApiUrl: ctx.config.github.apiUrl });
  } catch (err) {
    if (!isUserError(err)) throw err;
    await refuse(id, job.data.build, err.message, ctx);
    throw new UnrecoverableError(err.message);
  }
  const log = ctx.log.child({ buildId: id, repository: build.repository, ref: build.ref });
  const now = () => new Date().toISOString();
  const [repoKey, repo] = repositoryEntry(ctx.config, build.repository) ?? [];

  // A record lost with its Redis data (the job survived in another way) is recreated from the job.
  const current = (await ctx.records.status(id)) ?? (await ctx.records.create(id, toQueuedBuild(build, repo), 'recovered', new Date()), 'queued');
  if (FINISHED.includes(current)) return current;
  const newer = (await ctx.queue.isSuperseded(build, id)) ?? (await ctx.queue.settle(build, id));
  if (newer) {
    if (await ctx.records.transition(id, ['queued', 'running'], 'superseded', { finishedAt: now(), error: `superseded by ${newer}` })) {
      ctx.metrics.buildEnded('superseded');
      log.info({ newer }, 'superseded by a newer push of the same branch');
    }
    return 'superseded';
  }
  const startedAt = new Date();
  // `running` -> `running` is a build taken over after its worker died (stalled job).
  if (!(await ctx.records.transition(id, ['queued', 'running'], 'running', { startedAt: startedAt.toISOString(), error: null }))) {
    return (await ctx.records.status(id)) ?? 'canceled';
  }

  // Once per build: a job taken over after its worker died is `running` already.
  if (current === 'queued') ctx.notifier?.notify('started', id);
  const writer = new BuildLogWriter(ctx.redis, id);
  const steps: BuildStep[] = [];
  const digests = new Map<string, string>();
  let bases: string[] = [];
  const sink = maskingSink(
    {
      line: (text) => writer.line(text),
      event: (e: PipelineEvent) => {
        writer.line(describeEvent(e));
        if (e.type === 'step-started') steps.push({ step: e.step, status: 'running', startedAt: now() });
        if (e.type === 'step-finished') {
          const step = [...steps].reverse().find((s) => s.step === e.step && s.status === 'running');
          if (step) Object.assign(step, { status: 'done', ms: e.ms });
        }
        if (e.type === 'pushed') digests.set(e.ref, e.digest);
        if (e.type === 'bases') bases = e.refs;
        if (e.type.startsWith('step-')) void ctx.records.update(id, { steps }).catch(() => undefined);
      },
    },
    ctx.secrets,
  );
  const attempt = job.attemptsStarted > 0 ? job.attemptsStarted : job.attemptsMade + 1;
  sink.line(`autobuild: building ${build.repository} ${build.ref} at ${build.sha} (attempt ${attempt}) -> ${build.refs.join(' ')}`);
  if (build.reason) sink.line(`autobuild: ${build.reason}`);
  log.info({ attempt }, 'build started');

  let stopped: StopReason | undefined;
  const controller = new AbortController();
  const stop = (reason: StopReason) => {
    stopped ??= reason;
    controller.abort(new Error(reason));
  };
  // Re-read here, never taken from the job: a repository's own timeout wins over the global one.
  const timeoutMinutes = repo?.timeoutMinutes ?? ctx.config.timeoutMinutes;
  const timeoutMs = timeoutMinutes * 60_000;
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const poll = setInterval(() => {
    ctx.records.status(id).then(
      (s) => {
        if (s === 'canceled') stop('canceled');
      },
      () => undefined,
    );
  }, CANCEL_POLL_MS);
  const onShutdown = () => stop('shutdown');
  ctx.shutdown.addEventListener('abort', onShutdown, { once: true });

  // Secrets come from this worker's own configuration, never from the job in Redis.
  const buildSecrets = repoKey ? (ctx.config.buildSecrets[repoKey] ?? {}) : {};
  const { cloneUrl, token } = cloneSource(ctx.config, build.repository, repo, build.cloneUrl);
  await mkdir(ctx.workDir, { recursive: true });
  const workRoot = await mkdtemp(join(ctx.workDir, `${id}-`));
  const seconds = () => (Date.now() - startedAt.getTime()) / 1000;

  try {
    if (!cloneUrl) throw new BuildError(`no clone URL for ${build.repository}: set repositories.${build.repository}.cloneUrl in autobuild.yml`);
    const result = await runBuild({
      build: withServiceCache(build),
      secrets: buildSecrets,
      mirrors: ctx.config.mirrors,
      source: {
        cloneUrl,
        sha: build.sha,
        ...(token ? { token } : {}),
        submodules: repo?.submodules ?? true,
        ...(repoKey && ctx.config.sshKeys[repoKey] ? { sshKey: ctx.config.sshKeys[repoKey] } : {}),
        ...(repo?.knownHosts ? { knownHosts: repo.knownHosts } : {}),
      },
      masked: ctx.secrets,
      workRoot,
      builder: ctx.config.builder,
      registries: ctx.config.registries,
      log: sink,
      signal: controller.signal,
      withImageLock: imageLock(ctx.redis, controller.signal),
      pushOrder: pushOrder(ctx.redis, await ctx.records.sequence(id)),
      now: new Date(),
      // Hooks run sandboxed; these hold the service's secrets and other builds' files.
      hideFromHooks: [ctx.config.file, ctx.config.dataDir, ctx.workDir, homedir()].flatMap((p) => (p ? [resolve(p)] : [])),
      // From this worker's configuration, never from the job (the pipeline drops it when untrusted).
      env: repoKey ? (ctx.config.buildEnv[repoKey] ?? {}) : {},
      autotest: { ...(repo?.autotest ? { mode: repo.autotest } : {}) },
    });
    const pushed = result.pushed.map((ref) => ({ ref, digest: digests.get(ref) ?? result.digest }));
    sink.line(`autobuild: succeeded, digest ${result.digest}`);
    await writer.end();
    await ctx.records.transition(id, ['running'], 'succeeded', {
      finishedAt: now(),
      digest: result.digest,
      pushed,
      held: result.held,
      steps,
      error: null,
      ...(result.platforms ? { platforms: result.platforms } : {}),
    });
    ctx.metrics.buildEnded('succeeded', seconds());
    ctx.notifier?.notify('succeeded', id);
    log.info({ digest: result.digest, pushed: pushed.length }, 'build succeeded');
    const slot = repo?.rebuildOnBaseChange ? watchSlot(build, result.pushed) : undefined;
    if (slot && ctx.baseWatch) {
      await ctx.baseWatch
        .record(toQueuedBuild(build, repo), slot, id, bases, new Date())
        .catch((err: Error) => log.warn({ error: err.message }, 'could not record the base images'));
    }
    const pushedAt = new Date();
    await Promise.all([
      ctx.statuses.set(build, id, 'success', `pushed ${pushed.length} tag${pushed.length === 1 ? '' : 's'}`),
      notifyWebhooks(
        repo?.webhooks ?? [],
        pushed.map(({ ref }) => ({
          ref,
          pushedAt,
          pusher: 'autobuild',
          dockerfile: build.dockerfile,
          callbackUrl: `${ctx.publicUrl.replace(/\/+$/, '')}/#/builds/${id}`,
        })),
        log,
      ),
    ]);
    return 'succeeded';
  } catch (err) {
    const message = stopped === 'timeout' ? `timed out after ${timeoutMinutes} minutes (timeoutMinutes)` : (err as Error).message;
    if (err instanceof BuildError) for (const line of err.tail) sink.line(`  | ${line}`);
    sink.line(`autobuild: ${stopped === 'canceled' ? 'canceled' : `failed: ${message}`}`);
    const retrying =
      stopped === 'shutdown' || (err instanceof BuildError && err.transient && stopped === undefined && job.attemptsMade + 1 < (job.opts.attempts ?? 1));
    await (retrying ? writer.flush() : writer.end());

    if (stopped === 'canceled') {
      ctx.metrics.buildEnded('canceled', seconds());
      ctx.notifier?.notify('canceled', id);
      await ctx.statuses.set(build, id, 'error', 'canceled');
      return 'canceled';
    }
    if (stopped === 'shutdown') {
      // Another worker (or this one after a restart) picks it up again.
      await ctx.records.transition(id, ['running'], 'queued', { error: 'the worker stopped during the build; queued again' });
      throw new Error('worker shut down during the build');
    }
    if (retrying) {
      await ctx.records.transition(id, ['running'], 'queued', { error: `${message} (will retry)` });
      log.warn({ error: message }, 'transient failure; retrying with backoff');
      throw err;
    }
    await ctx.records.transition(id, ['running'], 'failed', { finishedAt: now(), error: message, steps });
    ctx.metrics.buildEnded('failed', seconds());
    ctx.notifier?.notify('failed', id);
    log.warn({ error: message }, 'build failed');
    await ctx.statuses.set(build, id, 'failure', err instanceof TestsFailedError ? err.summary : message);
    throw new UnrecoverableError(message);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    ctx.shutdown.removeEventListener('abort', onShutdown);
    await rm(workRoot, { recursive: true, force: true }).catch(() => undefined);
  }
}
