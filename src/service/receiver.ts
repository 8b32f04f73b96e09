import { Webhooks } from '@octokit/webhooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { eventFromPayload } from '../core/events.js';
import { isUserError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import type { Skip } from '../core/types.js';
import { buildIds } from './build-queue.js';
import type { Intake } from './intake.js';
import type { ServiceMetrics } from './metrics.js';

// POST /webhooks/github. The body is kept as the exact bytes GitHub sent, because the HMAC in
// X-Hub-Signature-256 is over those bytes. The answer is given only after Redis has the jobs, so
// a 202 means "will be built" and anything else makes GitHub (or the sender) deliver again.

export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;
/** Past this, a body is not worth reading to the end to be able to answer 413. */
export const DRAIN_LIMIT = 64 * 1024 * 1024;
export const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export interface ReceiverOptions {
  webhookSecret?: Secret;
  intake: Intake;
  metrics: ServiceMetrics;
}

export interface Answer {
  delivery: string;
  builds: string[];
  skipped: Skip[];
}

export function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function fail(reply: FastifyReply, code: number, error: string) {
  return reply.code(code).send({ error });
}

/** JSON, or GitHub's form encoding (`payload=<json>`) when the hook was set up that way. */
function parseBody(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new SyntaxError('form body has no payload field');
    return JSON.parse(payload);
  }
  return JSON.parse(text);
}

/**
 * Reads the body, keeping at most 25 MB. A larger body is still read to its end (up to a cap)
 * before answering 413: closing a socket with unread data resets it, and the sender would see a
 * broken connection instead of the 413.
 */
export function readBody(payload: NodeJS.ReadableStream, done: (err: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= WEBHOOK_BODY_LIMIT) chunks.push(chunk);
    else chunks.length = 0;
    if (size > DRAIN_LIMIT) (payload as NodeJS.ReadableStream & { destroy(): void }).destroy();
  });
  payload.on('error', (err: Error) => done(err));
  payload.on('end', () => {
    if (size > WEBHOOK_BODY_LIMIT) {
      done(Object.assign(new Error(`body is larger than GitHub's 25 MB webhook limit (${size} bytes)`), { statusCode: 413 }));
    } else {
      done(null, Buffer.concat(chunks));
    }
  });
}

export async function registerReceiver(app: FastifyInstance, opts: ReceiverOptions): Promise<void> {
  const secret = opts.webhookSecret;
  const webhooks = secret && !secret.empty ? new Webhooks({ secret: secret.reveal() }) : undefined;

  await app.register(async (scope) => {
    // Every content type arrives as raw bytes in this scope only; the API keeps fastify's parsers.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => readBody(payload, done));
    scope.addHook('onResponse', async (request, reply) => {
      opts.metrics.delivery(opts.metrics.deliveryFromStatus(reply.statusCode, (request as { duplicate?: boolean }).duplicate === true));
    });

    scope.post('/webhooks/github', { bodyLimit: DRAIN_LIMIT }, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = header(request.headers['x-hub-signature-256']);
      if (!webhooks) return fail(reply, 401, 'webhookSecret is not configured on this server: set it in autobuild.yml (webhookSecret) and in the GitHub webhook');
      if (!signature) return fail(reply, 401, 'missing X-Hub-Signature-256: set the same secret in the GitHub webhook as webhookSecret');
      if (body.length === 0) return fail(reply, 400, 'empty body: a GitHub webhook always sends a JSON payload');
      let valid = false;
      try {
        valid = await webhooks.verify(body.toString('utf8'), signature);
      } catch {
        valid = false;
      }
      if (!valid) return fail(reply, 401, 'X-Hub-Signature-256 does not match the body: check that webhookSecret equals the GitHub webhook secret');

      const name = header(request.headers['x-github-event']);
      const delivery = header(request.headers['x-github-delivery']);
      if (!name) return fail(reply, 400, 'missing X-GitHub-Event header: send the event name as GitHub does');
      if (!delivery) return fail(reply, 400, 'missing X-GitHub-Delivery header: send a unique delivery id as GitHub does');
      if (delivery.length > 200) return fail(reply, 400, 'X-GitHub-Delivery is longer than 200 characters: send the delivery id GitHub generated');

      let payload: unknown;
      try {
        payload = parseBody(body, request.headers['content-type']);
      } catch (err) {
        return fail(reply, 400, `body is not valid JSON (${(err as Error).message}): send the payload exactly as GitHub delivered it`);
      }
      if (name === 'ping') return reply.code(200).send({ delivery, builds: [], skipped: [{ reason: 'ping: nothing to build' }] });

      let event;
      try {
        event = eventFromPayload(name, payload);
      } catch (err) {
        if (isUserError(err)) return fail(reply, 400, err.message);
        throw err;
      }

      // The commit id reaches git and the build record; only a real object id may queue a build.
      if (event.sha !== undefined && !COMMIT_ID.test(event.sha)) {
        return fail(reply, 400, `${name} payload names commit ${JSON.stringify(event.sha.slice(0, 80))}, which is not a 40-hex git commit id: send the payload exactly as GitHub delivered it`);
      }
      let planned;
      try {
        planned = await opts.intake.plan(event);
      } catch (err) {
        if (isUserError(err)) return fail(reply, 400, err.message);
        throw err;
      }
      const answer: Answer = { delivery, builds: buildIds(planned.builds.length, delivery), skipped: planned.skipped };
      let accepted;
      try {
        accepted = await opts.intake.accept(planned, answer.builds, delivery, { delivery: { id: delivery, answer: JSON.stringify(answer) } });
      } catch (err) {
        request.log.warn({ delivery, error: (err as Error).message }, 'could not queue the delivery');
        return fail(reply, 503, 'the build queue (Redis) is unavailable; deliver again later');
      }
      if (accepted.duplicate) {
        (request as { duplicate?: boolean }).duplicate = true;
        return reply.code(200).send(answer);
      }
      request.log.info({ delivery, event: name, builds: answer.builds, skipped: answer.skipped.length }, 'webhook accepted');
      return reply.code(202).send(answer);
    });
  });
}
