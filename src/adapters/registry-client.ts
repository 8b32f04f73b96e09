import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { BuildError } from '../core/errors.js';
import { isLoopbackDomain, parseImageName, parseReference } from '../core/references.js';
import type { Secret } from '../core/secret.js';

// Registry HTTP API v2 over fetch: just what autobuild needs to decide and verify tags (list
// tags, read a manifest's digest) and to add a tag to a manifest already in the registry.
// Auth follows the registry's WWW-Authenticate challenge: Basic, or Bearer tokens from the
// realm it names (Docker Hub, GHCR, distribution's token auth), cached per scope.

/** Credentials and transport of one registry host, as under `registries.<host>` in autobuild.yml. */
import type { RegistryAuth } from '../core/types.js';

export type { RegistryAuth };

export interface ManifestInfo {
  digest: string;
  mediaType: string;
}

export interface Manifest extends ManifestInfo {
  bytes: Uint8Array;
}

export interface TagDigest {
  tag: string;
  digest: string;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

const REQUEST_TIMEOUT_MS = 30_000;
const READ_ATTEMPTS = 3;

/** Docker Hub's names: images say `docker.io`, the API lives elsewhere. */
const DOCKER_HUB_API = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** The `registries` entry for a domain, with Docker Hub's aliases treated as one host. */
export function authFor(registries: Record<string, RegistryAuth>, domain: string): RegistryAuth {
  if (registries[domain]) return registries[domain];
  if (DOCKER_HUB_ALIASES.includes(domain)) {
    for (const alias of DOCKER_HUB_ALIASES) if (registries[alias]) return registries[alias];
  }
  return {};
}

/** Whether autobuild and the builders must talk plain HTTP to this registry. */
export function isInsecureRegistry(registries: Record<string, RegistryAuth>, domain: string): boolean {
  return isLoopbackDomain(domain) || authFor(registries, domain).insecure === true;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export class RegistryClient {
  readonly #registries: Record<string, RegistryAuth>;
  readonly #signal?: AbortSignal;
  readonly #pageSize: number;
  /** Bearer tokens by `host scope`; `basic` once a host asked for Basic auth. */
  readonly #tokens = new Map<string, string>();
  readonly #basicHosts = new Set<string>();

  constructor(registries: Record<string, RegistryAuth> = {}, options: { signal?: AbortSignal; pageSize?: number } = {}) {
    this.#registries = registries;
    this.#signal = options.signal;
    this.#pageSize = options.pageSize ?? 1000;
  }

  /** Every tag of `image` (a name without tag), following `Link` pagination; [] when the repository does not exist. */
  async listTags(image: string): Promise<string[]> {
    const name = parseImageName(image);
    const tags: string[] = [];
    let url: string | undefined = `${this.#base(name.domain)}/v2/${name.path}/tags/list?n=${this.#pageSize}`;
    while (url) {
      const res = await this.#request(name.domain, scopeOf(name.path, 'pull'), url, { method: 'GET' }, `list tags of ${image}`, true);
      if (res.status === 404) return [];
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      url = nextLink(res.headers.get('link'), url);
    }
    return tags;
  }

  /** The digest and media type of `ref`'s manifest, or undefined when the tag does not exist. */
  async headManifest(ref: string): Promise<ManifestInfo | undefined> {
    const r = parseReference(ref);
    const url = `${this.#base(r.domain)}/v2/${r.path}/manifests/${r.digest ?? r.tag ?? 'latest'}`;
    const res = await this.#request(
      r.domain,
      scopeOf(r.path, 'pull'),
      url,
      { method: 'HEAD', headers: { accept: MANIFEST_TYPES.join(', ') } },
      `read the manifest of ${ref}`,
      true,
    );
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest');
    // Some registries omit the digest on HEAD; the body's hash is the digest by definition.
    if (!digest) return (await this.getManifest(ref)) ?? undefined;
    return { digest, mediaType: mediaTypeOf(res) };
  }

  /** The manifest of `ref` as stored (exact bytes, so its digest stays the same when re-put). */
  async getManifest(ref: string): Promise<Manifest | undefined> {
    const r = parseReference(ref);
    const url = `${this.#base(r.domain)}/v2/${r.path}/manifests/${r.digest ?? r.tag ?? 'latest'}`;
    const res = await this.#request(
      r.domain,
      scopeOf(r.path, 'pull'),
      url,
      { method: 'GET', headers: { accept: MANIFEST_TYPES.join(', ') } },
      `read the manifest of ${ref}`,
      true,
    );
    if (res.status === 404) return undefined;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return { digest, mediaType: mediaTypeOf(res), bytes };
  }

  /**
   * Points `ref` (a tag, or `name@digest` to store it untagged) at a manifest whose blobs are
   * already in the repository; returns its digest.
   */
  async putManifest(ref: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const r = parseReference(ref);
    const url = `${this.#base(r.domain)}/v2/${r.path}/manifests/${r.digest ?? r.tag ?? 'latest'}`;
    const res = await this.#request(
      r.domain,
      scopeOf(r.path, 'push'),
      url,
      { method: 'PUT', headers: { 'content-type': mediaType }, body: Buffer.from(bytes) },
      `push the manifest of ${ref}`,
      false,
    );
    if (res.status >= 300) {
      const text = await res.text().catch(() => '');
      throw new BuildError(`registry ${r.domain} did not accept the manifest of ${ref} (HTTP ${res.status})`, {
        tail: [text.slice(0, 500)],
        transient: res.status >= 500,
      });
    }
    return res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  /** Whether the repository of `image` already holds the blob (then it need not be uploaded). */
  async hasBlob(image: string, digest: string): Promise<boolean> {
    const name = parseImageName(image);
    const url = `${this.#base(name.domain)}/v2/${name.path}/blobs/${digest}`;
    const res = await this.#request(name.domain, scopeOf(name.path, 'push'), url, { method: 'HEAD' }, `look for blob ${digest} in ${image}`, true);
    await res.body?.cancel();
    return res.status === 200;
  }

  /**
   * Uploads one blob (a layer or an image config) from a file, unless the repository has it:
   * POST for an upload session, then one PUT with the whole body and its digest.
   */
  async uploadBlob(image: string, digest: string, file: string): Promise<void> {
    if (await this.hasBlob(image, digest)) return;
    const name = parseImageName(image);
    const what = `upload blob ${digest} to ${image}`;
    const start = await this.#request(
      name.domain,
      scopeOf(name.path, 'push'),
      `${this.#base(name.domain)}/v2/${name.path}/blobs/uploads/`,
      { method: 'POST' },
      what,
      false,
    );
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (start.status !== 202 || !location)
      throw new BuildError(`registry ${name.domain} did not start an upload to ${what} (HTTP ${start.status})`, { transient: start.status >= 500 });
    const url = new URL(location, `${this.#base(name.domain)}/`);
    url.searchParams.set('digest', digest);
    const body = () => Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
    const res = await this.#request(
      name.domain,
      scopeOf(name.path, 'push'),
      url.toString(),
      {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
        duplex: 'half',
      } as unknown as RequestInit,
      what,
      false,
    );
    await res.body?.cancel();
    if (res.status !== 201)
      throw new BuildError(`registry ${name.domain} did not accept the blob to ${what} (HTTP ${res.status})`, { transient: res.status >= 500 });
  }

  /**
   * Connects to `image`'s registry and answers its auth challenge for pushing (a HEAD of `tag`),
   * ahead of the pushes: run beside a build, the pushes then find the connection open and the
   * token cached. Never fails; the pushes report any problem.
   */
  async warmUp(image: string, tag: string): Promise<void> {
    try {
      const name = parseImageName(image);
      const url = `${this.#base(name.domain)}/v2/${name.path}/manifests/${tag}`;
      const res = await this.#request(
        name.domain,
        scopeOf(name.path, 'push'),
        url,
        { method: 'HEAD', headers: { accept: MANIFEST_TYPES.join(', ') } },
        `reach ${image}`,
        false,
      );
      await res.body?.cancel();
    } catch {
      // Left to the pushes, which say what went wrong.
    }
  }

  /** Every tag of `image` with its manifest digest, sorted by tag. */
  async tagDigests(image: string): Promise<TagDigest[]> {
    const name = parseImageName(image);
    const tags = (await this.listTags(image)).sort();
    const out: TagDigest[] = [];
    // A few HEAD requests at a time: fast for many tags, gentle on the registry.
    for (let i = 0; i < tags.length; i += 8) {
      const batch = await Promise.all(tags.slice(i, i + 8).map(async (tag) => ({ tag, info: await this.headManifest(`${name.name}:${tag}`) })));
      for (const b of batch) if (b.info) out.push({ tag: b.tag, digest: b.info.digest });
    }
    return out;
  }

  /**
   * Logs in to a registry the way `docker login` does, without touching any repository: GET
   * /v2/, answering its challenge (Basic, or a token asked for with no scope). Says how the
   * registry let us in; throws a BuildError naming the registries.<host> keys when it refused.
   */
  async login(domain: string): Promise<'anonymous' | 'credentials'> {
    const res = await this.#request(domain, undefined, `${this.#base(domain)}/v2/`, { method: 'GET' }, `log in to ${domain}`, true);
    await res.body?.cancel();
    if (res.status === 404) throw new BuildError(`${domain} does not answer the registry API at /v2/ (HTTP 404)`);
    const challenged = this.#basicHosts.has(domain) || this.#tokens.has(`${domain} `);
    return challenged && authFor(this.#registries, domain).username ? 'credentials' : 'anonymous';
  }

  #base(domain: string): string {
    const host = DOCKER_HUB_ALIASES.includes(domain) ? DOCKER_HUB_API : domain;
    return `${isInsecureRegistry(this.#registries, domain) ? 'http' : 'https'}://${host}`;
  }

  /**
   * Sends one request, answering an auth challenge once. Reads are retried on transient failures
   * (network, 5xx); writes are not, the caller decides. 401/403 after authenticating is final.
   */
  async #request(domain: string, scope: string | undefined, url: string, init: RequestInit, what: string, retry: boolean): Promise<Response> {
    const attempts = retry ? READ_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#authenticated(domain, scope, url, init, what);
      } catch (err) {
        if (!(err instanceof BuildError) || !err.transient || attempt >= attempts || this.#signal?.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
      }
    }
  }

  /** `scope` undefined: a login, as `docker login` does it (a token for no repository). */
  async #authenticated(domain: string, scope: string | undefined, url: string, init: RequestInit, what: string): Promise<Response> {
    let res = await this.#send(url, init, this.#authorization(domain, scope), what, domain);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      await res.body?.cancel();
      if (challenge?.scheme === 'basic') this.#basicHosts.add(domain);
      else if (challenge?.scheme === 'bearer') await this.#fetchToken(domain, challenge, scope, what);
      res = await this.#send(url, init, this.#authorization(domain, scope), what, domain);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.#denied(domain, what, res.status);
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      throw new BuildError(`registry ${domain} failed to ${what} (HTTP ${res.status})`, { transient: true });
    }
    if (res.status >= 400 && res.status !== 404) {
      const text = init.method === 'HEAD' ? '' : await res.text().catch(() => '');
      throw new BuildError(`registry ${domain} refused to ${what} (HTTP ${res.status})`, { tail: text ? [text.slice(0, 500)] : [] });
    }
    return res;
  }

  async #send(url: string, init: RequestInit, authorization: string | undefined, what: string, domain: string): Promise<Response> {
    const headers = new Headers(init.headers);
    if (authorization) headers.set('authorization', authorization);
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const signal = this.#signal ? AbortSignal.any([this.#signal, timeout]) : timeout;
    try {
      // A streamed body (a blob upload) is made afresh for each attempt, as a stream reads once.
      const body = typeof init.body === 'function' ? (init.body as () => BodyInit)() : init.body;
      return await fetch(url, { ...init, body, headers, signal, redirect: 'follow' });
    } catch (err) {
      if (this.#signal?.aborted) throw new BuildError(`canceled while trying to ${what}`);
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new BuildError(`cannot reach registry ${domain} to ${what}: ${reason}`, { transient: true });
    }
  }

  #authorization(domain: string, scope: string | undefined): string | undefined {
    const token = this.#tokens.get(`${domain} ${scope ?? ''}`);
    if (token) return `Bearer ${token}`;
    if (this.#basicHosts.has(domain)) {
      const auth = authFor(this.#registries, domain);
      if (auth.username && auth.password) return `Basic ${basic(auth.username, auth.password)}`;
    }
    return undefined;
  }

  async #fetchToken(domain: string, challenge: Challenge, scope: string | undefined, what: string): Promise<void> {
    const realm = challenge.params.realm;
    if (!realm) throw new BuildError(`registry ${domain} asked for a token without saying where to get one (no realm)`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    if (scope !== undefined) url.searchParams.set('scope', scope);
    const auth = authFor(this.#registries, domain);
    const authorization = auth.username && auth.password ? `Basic ${basic(auth.username, auth.password)}` : undefined;
    const res = await this.#send(url.toString(), { method: 'GET' }, authorization, `get a token to ${what}`, domain);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.#denied(domain, what, res.status);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new BuildError(`token service of ${domain} failed (HTTP ${res.status}) while trying to ${what}`, { transient: res.status >= 500 });
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new BuildError(`token service of ${domain} answered without a token`);
    this.#tokens.set(`${domain} ${scope ?? ''}`, token);
  }

  #denied(domain: string, what: string, status: number): BuildError {
    const auth = authFor(this.#registries, domain);
    const hint = auth.username
      ? `check registries.${domain}.username and registries.${domain}.password in autobuild.yml (user ${auth.username} may lack access)`
      : `set registries.${domain}.username and registries.${domain}.password in autobuild.yml`;
    return new BuildError(`registry ${domain} denied access (HTTP ${status}) to ${what}`, { hint, transient: false });
  }
}

function scopeOf(path: string, action: 'pull' | 'push'): string {
  return `repository:${path}:${action === 'push' ? 'pull,push' : 'pull'}`;
}

function basic(username: string, password: Secret): string {
  return Buffer.from(`${username}:${password.reveal()}`).toString('base64');
}

function mediaTypeOf(res: Response): string {
  return (res.headers.get('content-type') ?? MANIFEST_TYPES[3]!).split(';')[0]!.trim();
}

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."` */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The `rel="next"` target of a Link header, resolved against the current URL. */
function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return m ? new URL(m[1]!, current).toString() : undefined;
}
