// Real GitHub webhook payloads from @octokit/webhooks-examples, changed only where a test needs
// it, signed with HMAC-SHA256 as GitHub signs them, and POSTed with GitHub's headers.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}

const require = createRequire(import.meta.url);
const definitions = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8')) as WebhookDefinition[];

/** A deep copy of the first example of `event` that `pick` accepts. */
export function example(event: string, pick: (p: Record<string, any>) => boolean = () => true): Record<string, any> {
  const def = definitions.find((d) => d.name === event);
  const found = def?.examples.find((e) => pick(e as Record<string, any>));
  if (!found) throw new Error(`no ${event} example matches in @octokit/webhooks-examples`);
  return structuredClone(found) as Record<string, any>;
}

export interface PushChanges {
  repository?: string;
  cloneUrl?: string;
  ref: string;
  sha: string;
  defaultBranch?: string;
  deleted?: boolean;
}

/** The real push example (a branch push that is not a deletion) moved to another repo/ref/commit. */
export function pushPayload(c: PushChanges): Record<string, any> {
  const p = example('push', (e) => e.deleted === false && String(e.ref).startsWith('refs/heads/'));
  const full = c.repository ?? p.repository.full_name;
  const [owner, name] = full.split('/');
  p.ref = c.ref;
  p.before = p.after;
  p.after = c.deleted ? '0'.repeat(40) : c.sha;
  p.deleted = c.deleted ?? false;
  p.created = false;
  p.repository.full_name = full;
  p.repository.name = name;
  p.repository.owner.login = owner;
  p.repository.owner.name = owner;
  if (c.cloneUrl) p.repository.clone_url = c.cloneUrl;
  if (c.defaultBranch) {
    p.repository.default_branch = c.defaultBranch;
    p.repository.master_branch = c.defaultBranch;
  }
  if (p.head_commit) {
    p.head_commit.id = c.sha;
    p.head_commit.tree_id = c.sha;
  }
  for (const commit of p.commits ?? []) commit.id = c.sha;
  return p;
}

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
