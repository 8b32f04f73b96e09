// Rebuild when a base image changes, end to end: a release built by `autobuild start` FROM a base
// in an htpasswd registry (reached through a proxy that can play "down"), the base pushed again
// under the same tag, POST /api/base-check: exactly one rebuild of the same commit, every tag of
// that release moved to an image on the new base layer, the older release untouched, a second
// check quiet; a registry answering 429 is tried again next round and logged once; a base that
// disappears is reported, not rebuilt. The Dockerfile takes its bases through ARGs, multi-stage.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { makeFixtureRepo, startDockerd, startProxy, startRegistry, type Dockerd, type Fixture, type Proxy, type Registry } from '../support/engines.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';
import { pushPayload } from '../support/webhook-payloads.js';
import { deliver } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-base-tests';
const API_TOKEN = 'api-token-for-base-tests-0123';
const USER = 'bot';
const PASSWORD = 'base-registry-pass-9876';
const REPO = 'octo-org/app';
const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

let redis: TestRedis;
let dockerd: Dockerd;
let registry: Registry;
let proxy: Proxy;
let fixture: Fixture;
let service: ServiceProcess;
let work: string;
let base: string;
let image: string;
let apiBase: string;
let dockerConfig: string;
/** While set, the proxy answers 429 to reads of the base's manifests, as a rate-limited registry. */
let rateLimited = false;

const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

async function registryManifest(ref: string): Promise<{ digest: string; layers: string[] } | undefined> {
  const [host, ...rest] = ref.split('/');
  const [path, tag] = rest.join('/').split(':');
  const res = await fetch(`http://${host}/v2/${path}/manifests/${tag}`, { headers: { accept: ACCEPT, authorization: auth } });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { layers?: { digest: string }[] };
  return { digest: res.headers.get('docker-content-digest')!, layers: (body.layers ?? []).map((l) => l.digest) };
}

/**
 * Builds and pushes the base image: busybox plus a file that tells versions apart. Async: the
 * proxy lives in this process, so a synchronous docker push would wait on itself.
 */
async function pushBase(version: string): Promise<void> {
  const ctx = join(work, `base-${version}`);
  mkdirSync(ctx, { recursive: true });
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(ctx, 'busybox'));
  writeFileSync(
    join(ctx, 'Dockerfile'),
    ['FROM scratch', 'COPY busybox /bin/busybox', `RUN ["/bin/busybox", "sh", "-c", "echo base-${version} > /base.txt"]`, ''].join('\n'),
  );
  const env = { ...process.env, DOCKER_HOST: dockerd.host, DOCKER_CONFIG: dockerConfig };
  await execa('docker', ['build', '-q', '-t', base, ctx], { env });
  await execa('docker', ['push', '-q', base], { env });
}

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${apiBase}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, ...init.headers } });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : undefined, text };
};

async function waitBuild(id: string, timeoutMs = 180_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = (await api(`/api/builds/${id}`)).json;
    if (b && ['succeeded', 'failed', 'canceled', 'superseded'].includes(b.status)) return b;
    if (Date.now() > deadline) throw new Error(`build ${id} still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function release(tag: string, text: string): Promise<Record<string, any>> {
  writeFileSync(join(fixture.dir, 'version.txt'), `${text}\n`);
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: fixture.dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@e.x',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@e.x',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
      },
    }).trim();
  git('add', '-A');
  git('commit', '-q', '-m', `release ${tag}`);
  git('tag', tag);
  const sha = git('rev-parse', 'HEAD');
  const res = await deliver(apiBase, {
    payload: pushPayload({ repository: REPO, ref: `refs/tags/${tag}`, sha, defaultBranch: 'main', cloneUrl: fixture.url }),
    secret: SECRET,
  });
  expect(res.status).toBe(202);
  const build = await waitBuild(res.json.builds[0]);
  expect(build.status, build.error).toBe('succeeded');
  return build;
}

beforeAll(async () => {
  buildBinary();
  work = mkdtempSync(join(tmpdir(), 'autobuild-base-rebuild-'));
  [redis, dockerd, registry] = await Promise.all([startRedis(), startDockerd(), startRegistry({ username: USER, password: PASSWORD })]);
  proxy = await startProxy(registry.host, (req, res) => {
    if (!rateLimited || !/^\/v2\/base\/img\/manifests\//.test(req.url ?? '')) return false;
    res.writeHead(429, { 'retry-after': '60', 'content-type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
    return true;
  });
  base = `${proxy.host}/base/img:1`;
  image = `${proxy.host}/octo/app`;
  dockerConfig = join(work, 'docker-config');
  mkdirSync(dockerConfig);
  writeFileSync(
    join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
  );
  await pushBase('v1');

  // Multi-stage, bases through ARG defaults: the registry host and the tag are ARGs.
  const [host] = proxy.host.split(':');
  fixture = makeFixtureRepo({
    dockerfile: [
      `ARG BASE_HOST=${host}`,
      `ARG BASE_PORT=${proxy.host.split(':')[1]}`,
      'ARG BASE_TAG=1',
      'FROM ${BASE_HOST}:${BASE_PORT}/base/img:${BASE_TAG} AS base',
      'FROM base',
      'COPY version.txt /version.txt',
      'CMD ["/bin/busybox", "cat", "/base.txt", "/version.txt"]',
      '',
    ].join('\n'),
  });
  const port = await freePort();
  apiBase = `http://127.0.0.1:${port}`;
  const config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'baseImagePollMinutes: 600',
      'registries:',
      `  "${proxy.host}": {username: ${USER}, password: \${BASE_PASSWORD}}`,
      'repositories:',
      `  ${REPO}:`,
      `    image: ${image}`,
      `    cloneUrl: "${fixture.url}"`,
      '    rebuildOnBaseChange: true',
      '',
    ].join('\n'),
  );
  service = await startService('start', {
    cwd: work,
    args: ['--config', config],
    env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host, BASE_PASSWORD: PASSWORD },
  });
}, 300_000);

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), dockerd?.stop(), registry?.stop(), proxy?.stop()]);
  fixture?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('rebuild when a base image changes', () => {
  it('rebuilds the newest release once, on the new base, and leaves older releases alone', async () => {
    const old = await release('v0.9.0', '0.9.0');
    const current = await release('v1.0.0', '1.0.0');
    expect(current.tags).toEqual(['1.0.0', '1.0', '1', 'latest']);
    const baseV1 = (await registryManifest(base))!;

    const watched = (await api('/api/bases')).json.bases;
    expect(watched).toEqual([
      expect.objectContaining({ repository: REPO, slot: 'release', buildId: current.id, bases: [{ ref: base, digest: baseV1.digest, state: 'ok' }] }),
    ]);
    expect((await api('/api/base-check', { method: 'POST' })).json).toMatchObject({ checked: 1, rebuilds: [], missing: [], unavailable: [] });

    await pushBase('v2');
    const baseV2 = (await registryManifest(base))!;
    expect(baseV2.digest).not.toBe(baseV1.digest);

    // The registry rate-limits: nothing is rebuilt, it is tried again next round, logged once.
    rateLimited = true;
    for (let i = 0; i < 2; i++) {
      const limited = (await api('/api/base-check', { method: 'POST' })).json;
      expect(limited.rebuilds).toEqual([]);
      expect(limited.unavailable).toEqual([{ repository: REPO, base, reason: expect.stringMatching(/429/) }]);
    }
    rateLimited = false;
    expect(service.stderr().match(/cannot check a base image/g)).toHaveLength(1);

    const check = (await api('/api/base-check', { method: 'POST' })).json;
    const reason = `base image ${base} changed ${baseV1.digest} -> ${baseV2.digest}`;
    expect(check.rebuilds).toEqual([{ repository: REPO, ref: 'refs/tags/v1.0.0', sha: current.sha, reason, buildId: expect.any(String) }]);
    const rebuilt = await waitBuild(check.rebuilds[0].buildId);
    expect(rebuilt.status, rebuilt.error).toBe('succeeded');
    expect(rebuilt.reason).toBe(reason);
    expect(rebuilt.sha).toBe(current.sha);
    expect(rebuilt.build.pull).toBe(true);
    expect((await api(`/api/builds/${rebuilt.id}/log`)).text).toContain(`autobuild: ${reason}`);
    expect((await api('/api/builds?limit=1')).json.builds[0]).toMatchObject({ id: rebuilt.id, reason });

    // Every tag of the release points at the new image, which sits on the new base's layers.
    for (const tag of current.tags) {
      const m = (await registryManifest(`${image}:${tag}`))!;
      expect(m.digest).toBe(rebuilt.digest);
      expect(m.digest).not.toBe(current.digest);
      expect(m.layers.slice(0, baseV2.layers.length)).toEqual(baseV2.layers);
    }
    // The older release keeps its image on the old base.
    for (const tag of ['0.9.0', '0.9', '0']) expect((await registryManifest(`${image}:${tag}`))!.digest).toBe(old.digest);

    // Once per change: the next round finds nothing new.
    expect((await api('/api/base-check', { method: 'POST' })).json).toMatchObject({ checked: 1, rebuilds: [], unavailable: [] });
  });

  it('the images page shows the bases and when they were checked; the build page says why it ran', async () => {
    const context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${apiBase}/#/images`);
      await page.locator('form[action="/login"]').waitFor({ timeout: 30_000 });
      await page.fill('#token', API_TOKEN);
      await page.click('button[type=submit]');
      const row = page.locator('section.image table.bases tbody tr', { hasText: base });
      await row.waitFor({ timeout: 30_000 });
      const cells = await row.locator('td').allInnerTexts();
      const watched = (await api('/api/bases')).json.bases[0];
      expect(cells[0]).toContain('newest release');
      expect(cells.slice(1, 4)).toEqual([base, watched.bases[0].digest, 'followed']);
      expect(cells[4]).toBe(watched.checkedAt);
      const rebuilt = (await api('/api/builds?limit=1')).json.builds[0];
      await page.goto(`${apiBase}/#/builds/${rebuilt.id}`);
      await expect.poll(() => page.locator('.notice.reason').innerText(), { timeout: 30_000 }).toBe(`Why it ran: ${rebuilt.reason}`);
    } finally {
      await context.close();
    }
  });

  it('a base that disappears is reported, not rebuilt', async () => {
    const digest = (await registryManifest(base))!.digest;
    const [host, ...rest] = base.split('/');
    const del = await fetch(`http://${host}/v2/${rest.join('/').split(':')[0]}/manifests/${digest}`, { method: 'DELETE', headers: { authorization: auth } });
    expect(del.status).toBe(202);
    const before = (await api('/api/builds')).json.builds.length;
    const check = (await api('/api/base-check', { method: 'POST' })).json;
    expect(check).toMatchObject({ rebuilds: [], missing: [{ repository: REPO, base }] });
    expect((await api('/api/builds')).json.builds.length).toBe(before);
    expect((await api('/api/bases')).json.bases[0].bases[0]).toMatchObject({ ref: base, state: 'missing' });
  });
});
