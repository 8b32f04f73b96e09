import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RegistryAuth } from '../adapters/registry-client.js';
import type { ForgeConfig } from '../core/forges.js';
import type { Secret } from '../core/secret.js';
import { registerApi } from './api.js';
import { installApiToken } from './auth.js';
import type { BuildQueue } from './build-queue.js';
import type { BuildRecords } from './build-records.js';
import { registerForgeReceivers } from './forge-receiver.js';
import { registerDashboard } from './dashboard/index.js';
import type { Intake } from './intake.js';
import type { ServiceMetrics } from './metrics.js';
import { registerReceiver } from './receiver.js';
import { registerTrigger } from './trigger.js';

// The HTTP side of the service, assembled: webhook receiver, remote trigger, JSON API, health,
// metrics and the dashboard, on one fastify instance.

export interface HttpServerOptions {
  log: Logger;
  redis: Redis;
  blockingConnection: () => Redis;
  records: BuildRecords;
  queue: BuildQueue;
  intake: Intake;
  metrics: ServiceMetrics;
  apiToken: Secret;
  webhookSecret?: Secret;
  githubToken?: Secret;
  triggerTokens: Record<string, Secret>;
  registries: Record<string, RegistryAuth>;
  secrets: Secret[];
  closing: AbortSignal;
  /** GitLab, Bitbucket, Gitea/Forgejo: their webhooks arrive at /webhooks/<type>. */
  forges?: Record<string, ForgeConfig>;
}

const HEALTH_TIMEOUT_MS = 1_000;

export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Keep-alive sockets must not hold a SIGTERM shutdown open.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  installApiToken(app, opts.apiToken);

  await registerReceiver(app, { intake: opts.intake, metrics: opts.metrics, ...(opts.webhookSecret ? { webhookSecret: opts.webhookSecret } : {}) });
  await registerForgeReceivers(app, { forges: opts.forges ?? {}, intake: opts.intake, metrics: opts.metrics });
  await registerTrigger(app, { intake: opts.intake, triggerTokens: opts.triggerTokens, forges: opts.forges ?? {}, ...(opts.githubToken ? { githubToken: opts.githubToken } : {}) });
  await registerApi(app, {
    redis: opts.redis, blockingConnection: opts.blockingConnection, records: opts.records, queue: opts.queue,
    intake: opts.intake, registries: opts.registries, secrets: opts.secrets, closing: opts.closing,
  });

  app.get('/healthz', async (_request, reply) => {
    try {
      await Promise.race([
        opts.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS).unref()),
      ]);
      return { ok: true, redis: 'up' };
    } catch {
      return reply.code(503).send({ ok: false, redis: 'down' });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await opts.metrics.text();
    return reply.type(contentType).send(body);
  });

  await registerDashboard(app, { apiToken: opts.apiToken });
  return app;
}
