import { eventFromPayload } from '../core/events.js';
import { isUserError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { answer, answerDelivery, header, readBody, refuse, sameMac, signatureBytes, type WebhookContext, type WebhookRoute } from './webhook-http.js';

// POST /webhooks/github. The HMAC in X-Hub-Signature-256 is over the exact bytes GitHub sent, so
// it is computed over those bytes while they arrive. The answer is given only once Redis holds
// the delivery on disk (intake.ts), so a 202 means "will be built" and anything else makes
// GitHub (or the sender) deliver again.

export interface ReceiverOptions extends WebhookContext {
  webhookSecret?: Secret;
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

export function githubWebhookRoute(opts: ReceiverOptions): WebhookRoute {
  const secret = opts.webhookSecret && !opts.webhookSecret.empty ? opts.webhookSecret : undefined;
  return async (req, res) => {
    if (!secret)
      return refuse(
        req,
        res,
        'unauthorized',
        'webhookSecret is not configured on this server: set it in autobuild.yml (webhookSecret) and in the GitHub webhook',
      );
    const signatureHeader = header(req, 'x-hub-signature-256');
    if (!signatureHeader) return refuse(req, res, 'unauthorized', 'missing X-Hub-Signature-256: set the same secret in the GitHub webhook as webhookSecret');
    // Refused before a byte of the body is read: nobody has shown the secret yet.
    const signature = signatureBytes(signatureHeader);
    if (!signature) return refuse(req, res, 'unauthorized', 'X-Hub-Signature-256 is not sha256=<64 hex>: check the GitHub webhook is set to send it');
    const name = header(req, 'x-github-event');
    const delivery = header(req, 'x-github-delivery');
    if (!name) return refuse(req, res, 'bad_request', 'missing X-GitHub-Event header: send the event name as GitHub does');
    if (!delivery) return refuse(req, res, 'bad_request', 'missing X-GitHub-Delivery header: send a unique delivery id as GitHub does');
    if (delivery.length > 200) return refuse(req, res, 'bad_request', 'X-GitHub-Delivery is longer than 200 characters: send the delivery id GitHub generated');

    const read = await readBody(req, secret.reveal());
    if (!read.ok) return refuse(req, res, read.result, read.error);
    if (read.body.length === 0) return refuse(req, res, 'bad_request', 'empty body: a GitHub webhook always sends a JSON payload');
    if (!sameMac(read.hmac!, signature))
      return refuse(req, res, 'unauthorized', 'X-Hub-Signature-256 does not match the body: check that webhookSecret equals the GitHub webhook secret');

    let payload: unknown;
    try {
      payload = parseBody(read.body, req.headers['content-type']);
    } catch (err) {
      return refuse(
        req,
        res,
        'bad_request',
        `body is not valid JSON (${(err as Error).message.slice(0, 200)}): send the payload exactly as GitHub delivered it`,
      );
    }
    if (name === 'ping') return answer(req, res, 'ping', { delivery, builds: [], skipped: [{ reason: 'ping: nothing to build' }] });

    let event;
    try {
      event = eventFromPayload(name, payload);
    } catch (err) {
      if (isUserError(err)) return refuse(req, res, 'bad_request', err.message);
      throw err;
    }
    return answerDelivery(opts, req, res, { forge: 'github', id: delivery, events: [event], eventName: name });
  };
}
