import type { IncomingHttpHeaders } from 'node:http';
import { isUserError } from '../core/errors.js';
import { forgeEvents, unresolvedHead, unresolvedHeadSkip } from '../core/forge-events.js';
import type { ForgeConfig } from '../core/forges.js';
import type { ForgeType, Skip, SourceEvent } from '../core/types.js';
import { verifyBitbucketSignature, verifyGiteaSignature, verifyGitlabToken } from '../core/webhook-signatures.js';
import { resolveBitbucketPullRequestHead } from './forge-api.js';
import { answerDelivery, readBody, refuse, type WebhookContext, type WebhookRoute } from './webhook-http.js';

// POST /webhooks/gitlab, /webhooks/bitbucket, /webhooks/gitea: the same answers as
// /webhooks/github (401 unsigned, 400 malformed, 202 once durably stored, 200 for a repeated
// delivery, 503 without Redis), through the same node:http body reading and the same
// intake entry (webhook-http.ts answerDelivery -> Intake.receive). Each forge is one ForgeWebhook: how it
// signs and names the event and the delivery; its payload -> checked SourceEvents is the core's
// forgeEvents, which `autobuild plan --forge` calls too, so both refuse the same payloads. The
// `forges:` entry whose secret verifies the delivery says which host the repository is on.

type Headers = IncomingHttpHeaders;

function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

interface ForgeWebhook {
  type: ForgeType;
  path: string;
  label: string;
  /** The header(s) carrying the signature, named in the 401 answer. */
  signatureHeader: string;
  signature(headers: Headers): string | undefined;
  verify(secret: string, body: Buffer, signature: string): boolean;
  eventName(headers: Headers): string | undefined;
  deliveryId(headers: Headers): string | undefined;
}

const first = (headers: Headers, ...names: string[]) => names.map((n) => header(headers[n])).find((v) => v !== undefined);

const FORGE_WEBHOOKS: ForgeWebhook[] = [
  {
    type: 'gitlab',
    path: '/webhooks/gitlab',
    label: 'GitLab',
    signatureHeader: 'X-Gitlab-Token',
    signature: (h) => first(h, 'x-gitlab-token'),
    verify: (secret, _body, token) => verifyGitlabToken(secret, token),
    eventName: (h) => first(h, 'x-gitlab-event'),
    // Idempotency-Key (GitLab 17.4+) stays the same across retries too; older GitLab sends only the UUID.
    deliveryId: (h) => first(h, 'x-gitlab-event-uuid', 'idempotency-key'),
  },
  {
    type: 'bitbucket',
    path: '/webhooks/bitbucket',
    label: 'Bitbucket',
    signatureHeader: 'X-Hub-Signature',
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
  },
  {
    type: 'gitea',
    path: '/webhooks/gitea',
    label: 'Gitea',
    signatureHeader: 'X-Gitea-Signature',
    // Forgejo sends its own X-Forgejo-* headers alongside (or, in time, instead of) Gitea's.
    signature: (h) => first(h, 'x-gitea-signature', 'x-forgejo-signature'),
    verify: verifyGiteaSignature,
    eventName: (h) => first(h, 'x-gitea-event', 'x-forgejo-event'),
    deliveryId: (h) => first(h, 'x-gitea-delivery', 'x-forgejo-delivery'),
  },
];

export interface ForgeReceiverOptions extends WebhookContext {
  forges: Record<string, ForgeConfig>;
}

function parseJson(body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'));
}

/** The configured forge of this type whose secret verifies the body; forges without a secret never match. */
function verifiedForge(hook: ForgeWebhook, candidates: [string, ForgeConfig][], body: Buffer, signature: string): [string, ForgeConfig] | undefined {
  return candidates.find(([, forge]) => hook.verify(forge.webhookSecret!.reveal(), body, signature));
}

function forgeRoute(hook: ForgeWebhook, opts: ForgeReceiverOptions): WebhookRoute {
  return async (req, res) => {
    const candidates = Object.entries(opts.forges).filter(([, f]) => f.type === hook.type && f.webhookSecret !== undefined && !f.webhookSecret.empty);
    if (candidates.length === 0) {
      return refuse(
        req,
        res,
        'unauthorized',
        `no ${hook.type} forge with a webhookSecret is configured on this server: add forges.<host> {type: ${hook.type}, webhookSecret: ...} to autobuild.yml`,
      );
    }
    const signature = hook.signature(req.headers);
    if (!signature)
      return refuse(
        req,
        res,
        'unauthorized',
        `missing ${hook.signatureHeader}: set the same secret in the ${hook.label} webhook as forges.<host>.webhookSecret`,
      );
    // Several forges of a type may be configured, each with its own secret: the body is kept and
    // each secret tried on it (readBody bounds how many large bodies are held at once).
    const read = await readBody(req);
    if (!read.ok) return refuse(req, res, read.result, read.error);
    const body = read.body;
    if (body.length === 0) return refuse(req, res, 'bad_request', `empty body: a ${hook.label} webhook always sends a JSON payload`);
    const verified = verifiedForge(hook, candidates, body, signature);
    if (!verified)
      return refuse(
        req,
        res,
        'unauthorized',
        `${hook.signatureHeader} does not match: check that forges.<host>.webhookSecret equals the ${hook.label} webhook secret`,
      );
    const [host, forge] = verified;

    const name = hook.eventName(req.headers);
    const delivery = hook.deliveryId(req.headers);
    if (!name) return refuse(req, res, 'bad_request', `missing the ${hook.label} event header: send the delivery exactly as ${hook.label} does`);
    if (!delivery) return refuse(req, res, 'bad_request', `missing the ${hook.label} delivery id header: send the delivery exactly as ${hook.label} does`);
    if (delivery.length > 200) return refuse(req, res, 'bad_request', `the ${hook.label} delivery id is longer than 200 characters`);

    let events: SourceEvent[];
    try {
      events = forgeEvents(hook.type, name, parseJson(body), host);
    } catch (err) {
      if (err instanceof SyntaxError)
        return refuse(req, res, 'bad_request', `body is not valid JSON (${err.message.slice(0, 200)}): send the payload exactly as ${hook.label} delivered it`);
      if (isUserError(err)) return refuse(req, res, 'bad_request', err.message);
      throw err;
    }

    const planned: SourceEvent[] = [];
    const skipped: Skip[] = [];
    for (const event of events) {
      if (!unresolvedHead(event)) {
        planned.push(event);
        continue;
      }
      // Bitbucket names a pull request's head by an abbreviated hash; its API knows the full one.
      const full = await resolveBitbucketPullRequestHead(forge, event, opts.log);
      if (full === undefined) skipped.push(unresolvedHeadSkip(event, host, true));
      else planned.push({ ...event, sha: full });
    }
    return answerDelivery(opts, req, res, { forge: hook.type, id: delivery, events: planned, eventName: name, skipped });
  };
}

/** The forges' webhook routes by path, for http-server.ts. */
export function forgeWebhookRoutes(opts: ForgeReceiverOptions): Record<string, WebhookRoute> {
  return Object.fromEntries(FORGE_WEBHOOKS.map((hook) => [hook.path, forgeRoute(hook, opts)]));
}
