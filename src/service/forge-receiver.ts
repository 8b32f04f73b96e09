import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bitbucketEvents } from '../core/bitbucket-events.js';
import { isUserError } from '../core/errors.js';
import type { ForgeConfig } from '../core/forges.js';
import { giteaEvents } from '../core/gitea-events.js';
import { gitlabEvents } from '../core/gitlab-events.js';
import type { ForgeType, Plan, SourceEvent } from '../core/types.js';
import { verifyBitbucketSignature, verifyGiteaSignature, verifyGitlabToken } from '../core/webhook-signatures.js';
import { buildIds } from './build-queue.js';
import { resolveBitbucketPullRequestHead } from './forge-api.js';
import type { Intake } from './intake.js';
import type { ServiceMetrics } from './metrics.js';
import { COMMIT_ID, DRAIN_LIMIT, fail, header, readBody, type Answer } from './receiver.js';

// POST /webhooks/gitlab, /webhooks/bitbucket, /webhooks/gitea: the same answers as
// /webhooks/github (401 unsigned, 400 malformed, 202 once durably queued, 200 for a repeated
// delivery, 503 without Redis), through the same intake. Each forge is one ForgeWebhook: how it
// signs, names the event and the delivery, and its payload -> SourceEvents (src/core). The
// `forges:` entry whose secret verifies the delivery says which host the repository is on.

type Headers = FastifyRequest['headers'];

export interface ForgeWebhook {
  type: ForgeType;
  path: string;
  label: string;
  /** The header(s) carrying the signature, named in the 401 answer. */
  signatureHeader: string;
  signature(headers: Headers): string | undefined;
  verify(secret: string, body: Buffer, signature: string): boolean;
  eventName(headers: Headers): string | undefined;
  deliveryId(headers: Headers): string | undefined;
  events(name: string, payload: unknown, host: string): SourceEvent[];
}

const first = (headers: Headers, ...names: string[]) => names.map((n) => header(headers[n])).find((v) => v !== undefined);

export const FORGE_WEBHOOKS: ForgeWebhook[] = [
  {
    type: 'gitlab', path: '/webhooks/gitlab', label: 'GitLab', signatureHeader: 'X-Gitlab-Token',
    signature: (h) => first(h, 'x-gitlab-token'),
    verify: (secret, _body, token) => verifyGitlabToken(secret, token),
    eventName: (h) => first(h, 'x-gitlab-event'),
    // Idempotency-Key (GitLab 17.4+) stays the same across retries too; older GitLab sends only the UUID.
    deliveryId: (h) => first(h, 'x-gitlab-event-uuid', 'idempotency-key'),
    events: gitlabEvents,
  },
  {
    type: 'bitbucket', path: '/webhooks/bitbucket', label: 'Bitbucket', signatureHeader: 'X-Hub-Signature',
    signature: (h) => first(h, 'x-hub-signature'),
    verify: verifyBitbucketSignature,
    eventName: (h) => first(h, 'x-event-key'),
    // X-Request-UUID names the delivery (a retry keeps it, X-Attempt-Number counts up);
    // X-Hook-UUID names the webhook, so it goes with it to keep two webhooks' deliveries apart.
    deliveryId: (h) => {
      const request = first(h, 'x-request-uuid');
      const hook = first(h, 'x-hook-uuid');
      return request === undefined ? undefined : hook === undefined ? request : `${hook}/${request}`;
    },
    events: bitbucketEvents,
  },
  {
    type: 'gitea', path: '/webhooks/gitea', label: 'Gitea', signatureHeader: 'X-Gitea-Signature',
    // Forgejo sends its own X-Forgejo-* headers alongside (or, in time, instead of) Gitea's.
    signature: (h) => first(h, 'x-gitea-signature', 'x-forgejo-signature'),
    verify: verifyGiteaSignature,
    eventName: (h) => first(h, 'x-gitea-event', 'x-forgejo-event'),
    deliveryId: (h) => first(h, 'x-gitea-delivery', 'x-forgejo-delivery'),
    events: giteaEvents,
  },
];

export interface ForgeReceiverOptions {
  forges: Record<string, ForgeConfig>;
  intake: Intake;
  metrics: ServiceMetrics;
}

function parseJson(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

/** The configured forge of this type whose secret verifies the body; forges without a secret never match. */
function verifiedForge(hook: ForgeWebhook, candidates: [string, ForgeConfig][], body: Buffer, signature: string): [string, ForgeConfig] | undefined {
  return candidates.find(([, forge]) => hook.verify(forge.webhookSecret!.reveal(), body, signature));
}

async function receive(hook: ForgeWebhook, opts: ForgeReceiverOptions, request: FastifyRequest, reply: FastifyReply) {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const candidates = Object.entries(opts.forges).filter(([, f]) => f.type === hook.type && f.webhookSecret !== undefined && !f.webhookSecret.empty);
  if (candidates.length === 0) {
    return fail(reply, 401, `no ${hook.type} forge with a webhookSecret is configured on this server: add forges.<host> {type: ${hook.type}, webhookSecret: ...} to autobuild.yml`);
  }
  const signature = hook.signature(request.headers);
  if (!signature) return fail(reply, 401, `missing ${hook.signatureHeader}: set the same secret in the ${hook.label} webhook as forges.<host>.webhookSecret`);
  if (body.length === 0) return fail(reply, 400, `empty body: a ${hook.label} webhook always sends a JSON payload`);
  const verified = verifiedForge(hook, candidates, body, signature);
  if (!verified) return fail(reply, 401, `${hook.signatureHeader} does not match: check that forges.<host>.webhookSecret equals the ${hook.label} webhook secret`);
  const [host, forge] = verified;

  const name = hook.eventName(request.headers);
  const deliveryHeader = hook.deliveryId(request.headers);
  if (!name) return fail(reply, 400, `missing the ${hook.label} event header: send the delivery exactly as ${hook.label} does`);
  if (!deliveryHeader) return fail(reply, 400, `missing the ${hook.label} delivery id header: send the delivery exactly as ${hook.label} does`);
  if (deliveryHeader.length > 200) return fail(reply, 400, `the ${hook.label} delivery id is longer than 200 characters`);
  // Delivery ids of different forges must never collide with each other or with GitHub's.
  const delivery = `${hook.type}:${deliveryHeader}`;

  let events: SourceEvent[];
  try {
    events = hook.events(name, parseJson(body), host);
  } catch (err) {
    if (err instanceof SyntaxError) return fail(reply, 400, `body is not valid JSON (${err.message}): send the payload exactly as ${hook.label} delivered it`);
    if (isUserError(err)) return fail(reply, 400, err.message);
    throw err;
  }

  const planned: Plan = { builds: [], skipped: [] };
  for (const event of events) {
    if (event.sha !== undefined && !COMMIT_ID.test(event.sha)) {
      // Bitbucket names a pull request's head by an abbreviated hash; its API knows the full one.
      const full = hook.type === 'bitbucket' && event.kind === 'pull_request' && /^[0-9a-f]{7,39}$/.test(event.sha)
        ? await resolveBitbucketPullRequestHead(forge, event, request.log)
        : undefined;
      if (full === undefined && hook.type === 'bitbucket' && event.kind === 'pull_request') {
        planned.skipped.push({ reason: `Bitbucket names pull request #${event.prNumber}'s head commit only by ${event.sha}, and it could not be looked up: set forges.${host}.token (and username) so autobuild can ask the Bitbucket API`, ...(event.repository ? { repository: event.repository } : {}) });
        continue;
      }
      if (full === undefined) {
        return fail(reply, 400, `${name} payload names commit ${JSON.stringify(event.sha.slice(0, 80))}, which is not a 40-hex git commit id: send the payload exactly as ${hook.label} delivered it`);
      }
      event.sha = full;
    }
    try {
      const one = await opts.intake.plan(event);
      planned.builds.push(...one.builds);
      planned.skipped.push(...one.skipped);
    } catch (err) {
      if (isUserError(err)) return fail(reply, 400, err.message);
      throw err;
    }
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
  request.log.info({ delivery, forge: hook.type, host, event: name, builds: answer.builds, skipped: answer.skipped.length }, 'webhook accepted');
  return reply.code(202).send(answer);
}

export async function registerForgeReceivers(app: FastifyInstance, opts: ForgeReceiverOptions): Promise<void> {
  await app.register(async (scope) => {
    // The signatures are over the exact bytes sent, so every body arrives raw in this scope.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => readBody(payload, done));
    scope.addHook('onResponse', async (request, reply) => {
      opts.metrics.delivery(opts.metrics.deliveryFromStatus(reply.statusCode, (request as { duplicate?: boolean }).duplicate === true));
    });
    for (const hook of FORGE_WEBHOOKS) {
      scope.post(hook.path, { bodyLimit: DRAIN_LIMIT }, (request, reply) => receive(hook, opts, request, reply));
    }
  });
}
