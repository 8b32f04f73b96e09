// The service with multi-platform images and build secrets: a signed webhook, the built
// `autobuild start`, a private dockerd, a registry and Redis. What a user sees: the API's build
// record with the index digest and each platform's digest, `autobuild tags` with the index
// digests, and a secret that is in no Redis key, no API answer and no log.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtureRepo, startDockerd, startRegistry, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, repoRoot, startService, type ServiceProcess } from '../support/service-process.js';
import { pushPayload } from '../support/webhook-payloads.js';
import { deliver } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-platform-tests';
const API_TOKEN = 'api-token-for-platform-tests-01';
const BUILD_SECRET = `build-secret-${Math.random().toString(36).slice(2)}-value`;

let redis: TestRedis;
let dockerd: Dockerd;
let registry: Registry;
let multi: Fixture;
let secret: Fixture;
let work: string;
let service: ServiceProcess;
let base: string;

const api = async (path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
};

async function buildOf(repository: string, f: Fixture, ref: string): Promise<Record<string, any>> {
  const res = await deliver(base, { payload: pushPayload({ repository, ref, sha: f.sha, defaultBranch: 'main', cloneUrl: f.url }), secret: SECRET });
  expect(res.status).toBe(202);
  const [id] = res.json.builds as string[];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const b = (await api(`/api/builds/${id}`)).json;
    if (b && ['succeeded', 'failed', 'canceled'].includes(b.status)) return b;
    if (Date.now() > deadline) throw new Error(`build ${id} did not finish: ${JSON.stringify(b)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  buildBinary();
  [redis, dockerd, registry] = await Promise.all([startRedis(), startDockerd(), startRegistry()]);
  multi = makeFixtureRepo({ dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "hi"]\n' });
  secret = makeFixtureRepo({
    dockerfile:
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN --mount=type=secret,id=tok ["/bin/busybox", "sh", "-c", "/bin/busybox wc -c /run/secrets/tok > /tok.len"]\n',
  });
  work = mkdtempSync(join(tmpdir(), 'autobuild-service-platforms-'));
  const config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'github: {statuses: false}',
      'repositories:',
      '  octo-org/multi:',
      `    image: ${registry.host}/octo/multi`,
      `    cloneUrl: "${multi.url}"`,
      '    platforms: [linux/amd64, linux/arm64]',
      '  octo-org/secret:',
      `    image: ${registry.host}/octo/secret`,
      `    cloneUrl: "${secret.url}"`,
      '    secrets: {tok: ${BUILD_TOK}}',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService('start', {
    cwd: work,
    args: ['--config', config],
    env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host, BUILD_TOK: BUILD_SECRET },
  });
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), dockerd?.stop(), registry?.stop()]);
  multi?.cleanup();
  secret?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a multi-platform build in the service', () => {
  it("the record and the API list give the index digest and each platform's digest; autobuild tags shows the index digests", async () => {
    const build = await buildOf('octo-org/multi', multi, 'refs/tags/v1.0.0');
    expect(build.status, build.error).toBe('succeeded');
    expect(build.platforms.map((p: { platform: string }) => p.platform).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const image = `${registry.host}/octo/multi`;
    const index = await fetch(`http://${registry.host}/v2/octo/multi/manifests/latest`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(index.headers.get('docker-content-digest')).toBe(build.digest);
    const children = ((await index.json()) as { manifests: { digest: string; platform: { architecture: string } }[] }).manifests;
    for (const p of build.platforms as { platform: string; digest: string }[]) {
      expect(children.find((c) => c.digest === p.digest)?.platform.architecture).toBe(p.platform.split('/')[1]);
    }
    // The service's default cache: a repository of its own beside the image, holding the index.
    const cache = await fetch(`http://${registry.host}/v2/octo/multi-buildcache/tags/list`);
    expect(((await cache.json()) as { tags: string[] }).tags).toEqual(['latest']);
    const listed = (await api('/api/builds?repository=octo-org/multi')).json.builds[0];
    expect(listed).toMatchObject({ id: build.id, digest: build.digest, platforms: build.platforms });

    const tags = spawnSync(process.execPath, [join(repoRoot, 'bin', 'autobuild.js'), 'tags', image, '--json'], { encoding: 'utf8', cwd: work });
    expect(tags.status, tags.stderr).toBe(0);
    const doc = JSON.parse(tags.stdout) as { tags: { tag: string; digest: string }[] };
    for (const tag of ['1.0.0', '1.0', '1', 'latest']) expect(doc.tags.find((t) => t.tag === tag)?.digest).toBe(build.digest);
  });
});

describe('a build secret in the service', () => {
  it('reaches the RUN step, and is in no Redis key, no API answer and no log', async () => {
    const build = await buildOf('octo-org/secret', secret, 'refs/tags/v1.0.0');
    expect(build.status, build.error).toBe('succeeded');
    const log = await api(`/api/builds/${build.id}/log`);
    expect(log.text).toContain('/run/secrets/tok');
    const everything = [log.text, JSON.stringify(build), (await api('/api/builds')).text, (await api('/api/images')).text];
    for (const text of everything) expect(text).not.toContain(BUILD_SECRET);

    // Every value of every key in Redis, whatever its type.
    const r = new Redis(redis.url);
    try {
      const keys = await r.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const type = await r.type(key);
        const dump =
          type === 'string'
            ? await r.get(key)
            : type === 'hash'
              ? JSON.stringify(await r.hgetall(key))
              : type === 'list'
                ? JSON.stringify(await r.lrange(key, '0', '-1'))
                : type === 'set'
                  ? JSON.stringify(await r.smembers(key))
                  : type === 'zset'
                    ? JSON.stringify(await r.zrange(key, '0', '-1'))
                    : type === 'stream'
                      ? JSON.stringify(await r.xrange(key, '-', '+'))
                      : '';
        expect(dump ?? '', `Redis key ${key}`).not.toContain(BUILD_SECRET);
      }
    } finally {
      r.disconnect();
    }
    // The image holds what the RUN step computed from the secret (its length), never the value.
    const out = execFileSync(
      'docker',
      ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/busybox', `${registry.host}/octo/secret:1.0.0`, 'cat', '/tok.len'],
      { env: { ...process.env, DOCKER_HOST: dockerd.host }, encoding: 'utf8' },
    );
    expect(out.trim()).toBe(`${BUILD_SECRET.length} /run/secrets/tok`);
  });
});
