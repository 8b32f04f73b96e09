// Webhook deliveries as GitHub makes them: the body signed with HMAC-SHA256 and POSTed with
// GitHub's headers. The payloads themselves come from test/support/webhook-payloads.ts.
import { createHmac, randomUUID } from 'node:crypto';

export function sign(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface DeliverOptions {
  event?: string;
  payload?: unknown;
  /** Exact bytes to send instead of JSON.stringify(payload). */
  body?: string | Buffer;
  /** Sign with this secret; omit to send no signature. */
  secret?: string;
  delivery?: string;
  /** Headers to add, or to drop when set to undefined. */
  headers?: Record<string, string | undefined>;
}

export interface Delivered {
  status: number;
  json: any;
  text: string;
  delivery: string;
}

export async function deliver(baseUrl: string, opts: DeliverOptions): Promise<Delivered> {
  const body = opts.body ?? JSON.stringify(opts.payload ?? {});
  const delivery = opts.delivery ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': opts.event ?? 'push',
    'x-github-delivery': delivery,
    'x-github-hook-id': '1',
  };
  if (opts.secret !== undefined) headers['x-hub-signature-256'] = sign(body, opts.secret);
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(`${baseUrl}/webhooks/github`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, delivery };
}
