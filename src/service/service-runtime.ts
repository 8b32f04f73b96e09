import { resolve as resolvePath, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { BuildWorker } from './worker/build-worker.js';
import { resolveApiToken } from './api-token.js';
import { BuildQueue } from './build-queue.js';
import { BaseWatch, isWatched, startBaseCheckSchedule } from './base-watch.js';
import { BuildRecords } from './build-records.js';
import { CommitStatuses } from './commit-status.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.js';
import { ensureDataDir } from './data-dir.js';
import { DEFAULT_GRACE_SECONDS, DEFAULT_LOCK_SECONDS } from './service-defaults.js';
import { createHttpServer } from './http-server.js';
import { Intake } from './intake.js';
import { InboxConsumer } from './intake-inbox.js';
import { ServiceMetrics } from './metrics.js';
import { NotificationWorker, Notifier } from './notifier.js';
import { producerConnection, redactUrl, whenReady, workerConnection } from './redis-connection.js';
import { respConnectionFor, type RespConnection } from './resp-connection.js';

// `autobuild start | serve | worker`: wires Redis, the HTTP server and the worker for one mode,
// runs until SIGTERM/SIGINT, then shuts down in order: stop accepting HTTP, stop taking jobs and
// let running builds finish (up to the grace period), close Redis, stop the embedded Redis.

export type ServiceMode = 'start' | 'serve' | 'worker';

export interface RuntimeOptions {
  mode: ServiceMode;
  config: Config;
  env: Record<string, string | undefined>;
  /** Human output (the URL, a generated token). */
  print?: (line: string) => void;
}

function seconds(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name}=${raw} is not a positive number of seconds`, `set ${name} to e.g. ${fallback}`);
  return n;
}

function configSecrets(config: Config): Secret[] {
  const clone = Object.values(config.cloneCredentials).flatMap((c) => [
    c.userinfo,
    ...c.forms,
    new Secret(Buffer.from(c.userinfo.reveal()).toString('base64')),
  ]);
  const all = [
    config.webhookSecret,
    config.apiToken,
    config.github.token,
    ...Object.values(config.registries).map((r) => r.password),
    ...Object.values(config.triggerTokens),
    ...Object.values(config.forges).flatMap((f) => [f.webhookSecret, f.token]),
    ...[...config.notifications, ...Object.values(config.repositoryNotifications).flat()].map((n) => n.secret),
    ...Object.values(config.buildSecrets).flatMap((s) => Object.values(s)),
    ...Object.values(config.buildEnv).flatMap((env) => Object.values(env)),
    ...Object.values(config.sshKeys),
    ...clone,
    ...config.buildArgSecrets,
  ];
  return all.filter((s): s is Secret => s !== undefined && !s.empty);
}

export async function runService(opts: RuntimeOptions): Promise<number> {
  const { mode, config, env } = opts;
  const print = opts.print ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const graceMs = seconds(env, 'AUTOBUILD_GRACE_SECONDS', DEFAULT_GRACE_SECONDS) * 1000;
  const lockMs = seconds(env, 'AUTOBUILD_LOCK_SECONDS', DEFAULT_LOCK_SECONDS) * 1000;
  const dataDir = resolvePath(config.dataDir);
  ensureDataDir(dataDir, config.dataDir);
  // Listening for SIGTERM/SIGINT from the very start: one that arrives while starting up (right
  // after the "listening" line, say) still means a clean stop once startup is done.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const log = pino(
    {
      level: env.AUTOBUILD_LOG_LEVEL ?? 'info',
      base: { mode },
      // A trigger URL carries its token: never write it to a log line.
      serializers: {
        req: (req: { method?: string; url?: string }) => ({
          method: req.method,
          url: String(req.url ?? '').replace(/^\/api\/trigger\/[^/?#]+/, '/api/trigger/***'),
        }),
      },
    },
    pino.destination({ dest: 2, sync: true }),
  );

  let embedded: EmbeddedRedis | undefined;
  /** The webhook hot path's own Redis connection (resp-connection.ts), when the URL allows one. */
  let fast: RespConnection | undefined;
  let url = config.redis;
  if (!url) {
    if (mode !== 'start') {
      throw new UserError(
        `autobuild ${mode} needs the Redis shared with the other processes`,
        'set redis in autobuild.yml or REDIS_URL (only `autobuild start` runs a Redis of its own)',
      );
    }
    embedded = await startEmbeddedRedis(dataDir);
    url = embedded.url;
    log.info({ redis: url, pid: embedded.pid }, 'embedded redis-server started');
  }
  const connections: Redis[] = [];
  const stopAll = async () => {
    fast?.close();
    for (const c of connections) c.disconnect();
    await embedded?.stop();
  };

  const producer = producerConnection(url);
  connections.push(producer);
  producer.on('error', (err: Error) => log.debug({ error: err.message }, 'redis connection error'));
  try {
    await whenReady(producer, url);
  } catch {
    await stopAll();
    throw new UserError(`cannot reach Redis at ${redactUrl(url)}`, 'start it, or fix redis in autobuild.yml / REDIS_URL');
  }

  const host = config.server.host;
  const port = config.server.port;
  const publicUrl = config.server.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const secrets = configSecrets(config);
  const statuses = new CommitStatuses({
    apiUrl: config.github.apiUrl,
    enabled: config.github.statuses,
    publicUrl,
    log,
    forges: config.forges,
    ...(config.github.token ? { token: config.github.token } : {}),
  });
  const records = new BuildRecords(producer);
  const queue = new BuildQueue(producer, records);
  const metrics = new ServiceMetrics(() => queue.counts());
  const notifier = new Notifier({ redis: producer, config, records, publicUrl, log });
  let notificationWorker: NotificationWorker | undefined;
  const closing = new AbortController();
  const baseWatch = new BaseWatch({ redis: producer, registries: config.registries, log });
  let baseSchedule: { close(): Promise<void> } | undefined;

  let app: FastifyInstance | undefined;
  let worker: BuildWorker | undefined;
  let inbox: InboxConsumer | undefined;
  try {
    if (mode !== 'worker') {
      const token = resolveApiToken(config.apiToken, dataDir);
      fast = respConnectionFor(url);
      const intake = new Intake({
        repositories: config.repositories,
        registries: config.registries,
        redis: producer,
        log,
        notifier,
        metrics,
        ...(fast ? { fast } : {}),
      });
      intake.warmUp();
      // Accepted deliveries become jobs here, outside the request (intake-inbox.ts).
      const inboxConnection = workerConnection(url);
      connections.push(inboxConnection);
      inboxConnection.on('error', (err: Error) => log.debug({ error: err.message }, 'redis connection error'));
      inbox = new InboxConsumer({
        connection: inboxConnection,
        queue,
        statuses,
        metrics,
        log,
        notifier,
        // Fault injection for the crash tests: take entries and never queue them, like a process killed mid-way.
        stall: env.AUTOBUILD_FAULT_INBOX_STALL === '1',
      });
      inbox.start();
      app = await createHttpServer({
        log,
        redis: producer,
        records,
        queue,
        intake,
        metrics,
        secrets,
        closing: closing.signal,
        blockingConnection: () => {
          const c = workerConnection(url);
          c.on('error', () => undefined);
          return c;
        },
        apiToken: token.token,
        publicUrl,
        triggerTokens: config.triggerTokens,
        cloneCredentials: config.cloneCredentials,
        registries: config.registries,
        forges: config.forges,
        ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
        ...(config.github.token ? { githubToken: config.github.token } : {}),
        baseWatch,
      });
      if (Object.values(config.repositories).some((r) => r.rebuildOnBaseChange)) {
        const scheduleConnection = workerConnection(url);
        connections.push(scheduleConnection);
        scheduleConnection.on('error', (err: Error) => log.debug({ error: err.message }, 'redis connection error'));
        baseSchedule = await startBaseCheckSchedule({
          connection: scheduleConnection,
          minutes: config.baseImagePollMinutes,
          log,
          run: () =>
            baseWatch.check(
              (builds, origin) => intake.accept({ builds, skipped: [] }, origin, { supersede: false }),
              new Date(),
              (repository) => isWatched(config.repositories, repository),
            ),
        });
      }
      if (!config.webhookSecret || config.webhookSecret.empty) log.warn('webhookSecret is not set: every GitHub webhook will be refused with 401');
      const address = await app.listen({ host, port }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE')
          throw new UserError(`port ${port} on ${host} is already in use`, 'stop what uses it, or set PORT / server.port to a free port');
        if (err.code === 'EACCES') throw new UserError(`no permission to listen on port ${port}`, 'use a port above 1023 (PORT or server.port)');
        if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
          throw new UserError(
            `cannot listen on ${host}: no such address on this machine`,
            'set server.host to 127.0.0.1, 0.0.0.0 or an address of this machine',
          );
        throw err;
      });
      if (token.generated) print(`autobuild: generated API token (kept in ${token.file}): ${token.token.reveal()}`);
      else if (token.file) print(`autobuild: API token in ${token.file}`);
      // Last, so whoever waits for this line has everything above it.
      print(`autobuild: listening on ${address} (dashboard ${publicUrl}/)`);
    }

    if (mode !== 'serve') {
      const connection = workerConnection(url);
      connections.push(connection);
      connection.on('error', (err: Error) => log.debug({ error: err.message }, 'redis connection error'));
      const workerRecords = new BuildRecords(connection);
      worker = new BuildWorker({
        connection,
        concurrency: config.concurrency,
        lockMs,
        config,
        redis: connection,
        records: workerRecords,
        queue: new BuildQueue(connection, workerRecords),
        statuses,
        metrics,
        log,
        workDir: join(dataDir, 'work'),
        publicUrl,
        secrets,
        notifier,
        baseWatch,
      });
      const notifyConnection = workerConnection(url);
      connections.push(notifyConnection);
      notifyConnection.on('error', (err: Error) => log.debug({ error: err.message }, 'redis connection error'));
      notificationWorker = new NotificationWorker({ connection: notifyConnection, config, metrics, log });
      print(`autobuild: worker taking builds (concurrency ${config.concurrency})`);
    }
  } catch (err) {
    // Open sockets would keep the process alive after the error is reported.
    await app?.close().catch(() => undefined);
    await inbox?.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await notifier.close().catch(() => undefined);
    await notificationWorker?.close().catch(() => undefined);
    await baseSchedule?.close().catch(() => undefined);
    await stopAll();
    throw err;
  }

  const signal = await stopRequested;
  log.info({ signal, graceSeconds: graceMs / 1000 }, 'shutting down: finishing running builds');

  closing.abort();
  await app?.close();
  await inbox?.close();
  await baseSchedule?.close().catch(() => undefined);
  await worker?.close(graceMs);
  // Notifications of the builds that just finished go out before the process stops (bounded).
  await Promise.race([notificationWorker?.close(), new Promise((r) => setTimeout(r, 10_000))]).catch(() => undefined);
  await queue.close().catch(() => undefined);
  await notifier.close().catch(() => undefined);
  await stopAll();
  log.info('stopped');
  return 0;
}
