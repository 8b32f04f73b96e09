import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { RegistryClient, type RegistryAuth } from '../adapters/registry-client.js';
import { maskSecrets, type Secret } from '../core/secret.js';
import { authenticate, refuseGuesser } from './auth/http-auth.js';
import { followBuildLog, readBuildLog } from './build-log.js';
import type { BuildQueue } from './build-queue.js';
import { BUILD_STATUSES, FINISHED, summary, type BuildRecords, type BuildStatus } from './build-records.js';
import { isWatched, type BaseWatch } from './base-watch.js';
import type { Intake } from './intake.js';

// The JSON API under /api/* (the trigger aside): builds, their logs, cancel and retry, and what
// the dashboard shows about images and the queue. Every route is authenticated by the rule in
// auth/access-rule.ts (a Bearer token, or the dashboard's session cookie).

export interface ApiOptions {
  redis: Redis;
  /** Opens a connection of its own for a follower's blocking reads. */
  blockingConnection: () => Redis;
  records: BuildRecords;
  queue: BuildQueue;
  intake: Intake;
  registries: Record<string, RegistryAuth>;
  /** Masked once more when a log is served, whatever the worker that wrote it knew. */
  secrets: Secret[];
  /** Aborted at shutdown: ends live log streams so the server can close. */
  closing: AbortSignal;
  baseWatch?: BaseWatch;
}

const unavailable = { error: 'Redis is unavailable; try again later' };

export async function registerApi(app: FastifyInstance, opts: ApiOptions): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/api/trigger/')) return;
      if (refuseGuesser(request, reply)) return reply;
      const access = await authenticate(request);
      if (access.allowed) return;
      if (access.why === 'cross-site') {
        return reply.code(403).send({
          error:
            "cross-site request refused: a change made with the dashboard's session cookie must come from the dashboard's own page (Sec-Fetch-Site: same-origin, or an Origin naming this host); scripts send Authorization: Bearer <apiToken>",
        });
      }
      const error =
        access.why === 'no-session'
          ? 'the dashboard session has expired or was signed out: sign in again, or send Authorization: Bearer <apiToken>'
          : 'missing or wrong API token: send Authorization: Bearer <apiToken> (printed at start, or in dataDir/api-token)';
      return reply.code(401).header('www-authenticate', 'Bearer realm="autobuild"').send({ error });
    });
    // Redis errors on reads become 503 rather than fastify's generic 500.
    api.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
      if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: err.message });
      request.log.warn({ error: err.message }, 'API request failed');
      return reply.code(503).send(unavailable);
    });

    api.get<{ Querystring: { repository?: string; status?: string; limit?: string; before?: string } }>('/api/builds', async (request, reply) => {
      const q = request.query;
      if (q.status !== undefined && !(BUILD_STATUSES as readonly string[]).includes(q.status)) {
        return reply.code(400).send({ error: `status=${q.status} is not a build status: use one of ${BUILD_STATUSES.join(', ')}` });
      }
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        return reply.code(400).send({ error: `limit=${q.limit} must be a whole number from 1 to 500` });
      }
      const list = await opts.records.list({
        limit,
        ...(q.repository ? { repository: q.repository } : {}),
        ...(q.status ? { status: q.status as BuildStatus } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      return { builds: list.map(summary) };
    });

    api.get<{ Params: { id: string } }>('/api/builds/:id', async (request, reply) => {
      const record = await opts.records.get(request.params.id);
      if (!record) return reply.code(404).send({ error: `no build ${request.params.id}` });
      return record;
    });

    api.get<{ Params: { id: string }; Querystring: { follow?: string } }>('/api/builds/:id/log', async (request, reply) => {
      const id = request.params.id;
      if (!(await opts.records.status(id))) return reply.code(404).send({ error: `no build ${id}` });
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store');
      const follow = request.query.follow === '1' || request.query.follow === 'true';
      if (!follow) return maskSecrets(await readBuildLog(opts.redis, id), opts.secrets);

      const out = new PassThrough();
      const stop = new AbortController();
      // The response closing (client gone, or we ended it) stops the follower.
      reply.raw.on('close', () => stop.abort());
      opts.closing.addEventListener('abort', () => stop.abort(), { once: true });
      const blocking = opts.blockingConnection();
      const finished = async () => FINISHED.includes((await opts.records.status(id)) ?? 'failed');
      void followBuildLog(blocking, id, (text) => out.write(maskSecrets(text, opts.secrets)), finished, stop.signal)
        .catch((err: Error) => request.log.warn({ id, error: err.message }, 'log follow ended early'))
        .finally(() => {
          blocking.disconnect();
          out.end();
        });
      return reply.send(out);
    });

    api.post<{ Params: { id: string } }>('/api/builds/:id/cancel', async (request, reply) => {
      const id = request.params.id;
      const status = await opts.records.status(id);
      if (!status) return reply.code(404).send({ error: `no build ${id}` });
      const was = await opts.queue.cancel(id, new Date());
      if (!was) return reply.code(409).send({ error: `build ${id} is already ${status}: only queued or running builds can be canceled` });
      // A running build's worker says `canceled` when it has stopped; a queued one has no worker.
      if (was === 'queued') opts.intake.notifier?.notify('canceled', id);
      return { id, status: 'canceled', was };
    });

    api.post<{ Params: { id: string } }>('/api/builds/:id/retry', async (request, reply) => {
      const record = await opts.records.get(request.params.id);
      if (!record) return reply.code(404).send({ error: `no build ${request.params.id}` });
      if (!FINISHED.includes(record.status)) {
        return reply.code(409).send({ error: `build ${record.id} is still ${record.status}: cancel it first or wait for it to end` });
      }
      // A retry may rebuild an older commit: it must not take a newer queued push's place.
      const ids = await opts.intake.accept({ builds: [record.build], skipped: [] }, `retry:${record.id}`, { supersede: false });
      return reply.code(202).send({ builds: ids, retryOf: record.id });
    });

    api.get('/api/images', async () => {
      const client = new RegistryClient(opts.registries, { signal: AbortSignal.timeout(30_000) });
      const rows = Object.entries(opts.intake.repositories).flatMap(([repository, repo]) => repo.images.map((image) => ({ repository, image })));
      const images = await Promise.all(
        rows.map(async ({ repository, image }) => {
          try {
            return { image, repository, tags: await client.tagDigests(image) };
          } catch (err) {
            return { image, repository, tags: [], error: (err as Error).message };
          }
        }),
      );
      return { images };
    });

    api.get('/api/queue', async () => opts.queue.counts());

    // Rebuild on base change: what is watched, and a check now (the schedule runs the same one).
    api.get('/api/bases', async () => ({ bases: (await opts.baseWatch?.list()) ?? [] }));
    api.post('/api/base-check', async () => {
      if (!opts.baseWatch) return { checkedAt: new Date().toISOString(), checked: 0, rebuilds: [], missing: [], unavailable: [] };
      return opts.baseWatch.check(
        (builds, origin) => opts.intake.accept({ builds, skipped: [] }, origin, { supersede: false }),
        new Date(),
        (repository) => isWatched(opts.intake.repositories, repository),
      );
    });
  });
}
