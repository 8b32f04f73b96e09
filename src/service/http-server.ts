import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RegistryAuth } from '../adapters/registry-client.js';
import type { CloneCredentials } from '../core/config.js';
import type { ForgeConfig } from '../core/forges.js';
import type { Secret } from '../core/secret.js';
import { registerApi } from './api.js';
import type { BaseWatch } from './base-watch.js';
import { installAuth } from './auth/http-auth.js';
import { Sessions } from './auth/sessions.js';
import type { BuildQueue } from './build-queue.js';
import type { BuildRecords } from './build-records.js';
import { forgeWebhookRoutes } from './forge-receiver.js';
import { registerDashboard } from './dashboard/index.js';
import type { Intake } from './intake.js';
import type { ServiceMetrics } from './metrics.js';
import { githubWebhookRoute } from './receiver.js';
import { answersWithin } from './redis-health.js';
import { registerTrigger } from './trigger.js';
import { runRoute, type WebhookContext, type WebhookRoute } from './webhook-http.js';

// The HTTP side of the service, assembled: webhook routes on plain node:http (the hot path: no
// framework work per delivery), and on fastify the remote trigger, JSON API, health, metrics and
// the dashboard, all on one port.

export interface HttpServerOptions {
  log: Logger;
  redis: Redis;
  blockingConnection: () => Redis;
  records: BuildRecords;
  queue: BuildQueue;
  intake: Intake;
  metrics: ServiceMetrics;
  apiToken: Secret;
  /** server.publicUrl: an https one makes the session cookie Secure (auth/http-auth.ts). */
  publicUrl?: string;
  webhookSecret?: Secret;
  githubToken?: Secret;
  triggerTokens: Record<string, Secret>;
  cloneCredentials?: Record<string, CloneCredentials>;
  registries: Record<string, RegistryAuth>;
  secrets: Secret[];
  closing: AbortSignal;
  /** GitLab, Bitbucket, Gitea/Forgejo: their webhooks arrive at /webhooks/<type>. */
  forges?: Record<string, ForgeConfig>;
  /** Rebuild on base change: GET /api/bases, POST /api/base-check. */
  baseWatch?: BaseWatch;
}

const HEALTH_TIMEOUT_MS = 1_000;

/** The webhook routes by path: POST only. Other forges add theirs here. */
function webhookRoutes(opts: HttpServerOptions, ctx: WebhookContext): Record<string, WebhookRoute> {
  return {
    '/webhooks/github': githubWebhookRoute({ ...ctx, ...(opts.webhookSecret ? { webhookSecret: opts.webhookSecret } : {}) }),
    ...forgeWebhookRoutes({ ...ctx, forges: opts.forges ?? {} }),
  };
}

export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const ctx: WebhookContext = { intake: opts.intake, metrics: opts.metrics, log: opts.log, closing: opts.closing };
  const routes = new Map(Object.entries(webhookRoutes(opts, ctx)).map(([path, route]) => [path, runRoute(ctx, route)]));
  const app = Fastify({
    serverFactory: (fastifyHandler, options) => {
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = req.url ?? '';
        const q = url.indexOf('?');
        const route = req.method === 'POST' ? routes.get(q < 0 ? url : url.slice(0, q)) : undefined;
        if (route) route(req, res);
        else fastifyHandler(req, res);
      });
      // What fastify sets on a server it creates itself (keep-alive longer than clients' own,
      // so a client never reuses a connection the server is closing).
      const o = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      if (typeof o.keepAliveTimeout === 'number') server.keepAliveTimeout = o.keepAliveTimeout;
      if (typeof o.requestTimeout === 'number') server.requestTimeout = o.requestTimeout;
      if (typeof o.connectionTimeout === 'number') server.setTimeout(o.connectionTimeout);
      return server;
    },
    loggerInstance: opts.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Keep-alive sockets must not hold a SIGTERM shutdown open.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  await installAuth(app, { apiToken: opts.apiToken, sessions: new Sessions(opts.redis), ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}) });

  // Browsers must take /api/* answers for what they say they are.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  await registerTrigger(app, {
    intake: opts.intake,
    triggerTokens: opts.triggerTokens,
    forges: opts.forges ?? {},
    cloneCredentials: opts.cloneCredentials ?? {},
    ...(opts.githubToken ? { githubToken: opts.githubToken } : {}),
  });
  await registerApi(app, {
    redis: opts.redis,
    blockingConnection: opts.blockingConnection,
    records: opts.records,
    queue: opts.queue,
    intake: opts.intake,
    registries: opts.registries,
    secrets: opts.secrets,
    closing: opts.closing,
    ...(opts.baseWatch ? { baseWatch: opts.baseWatch } : {}),
  });

  app.get('/healthz', async (_request, reply) => {
    if (await answersWithin(opts.redis, HEALTH_TIMEOUT_MS)) return { ok: true, redis: 'up' };
    return reply.code(503).send({ ok: false, redis: 'down' });
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await opts.metrics.text();
    return reply.type(contentType).send(body);
  });

  await registerDashboard(app);
  return app;
}
