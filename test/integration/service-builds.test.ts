// The service end to end with real engines: signed webhooks from @octokit/webhooks-examples
// payloads, the built `autobuild start` / `serve` + `worker` processes, a private dockerd, a
// registry, a git fixture repository and a recorder standing in for GitHub and webhook receivers.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxDockerfile, makeFixtureRepo, startDockerd, startRegistry, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { startRecorder, type Recorder } from '../support/github-recorder.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';
import { sleepers, sleepMark } from '../support/processes.js';
import { pushPayload } from '../support/webhook-payloads.js';
import { deliver } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-build-tests';
const API_TOKEN = 'api-token-for-build-tests-0123';
const TRIGGER = 'trigger-token-for-build-tests';
const REPO = 'octo-org/app';
const FINISHED = ['succeeded', 'failed', 'canceled', 'superseded'];

let redis: TestRedis;
let dockerd: Dockerd;
let registry: Registry;
let recorder: Recorder;
let fixture: Fixture;
let work: string;
let image: string;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (...args: string[]) => execFileSync('git', args, { cwd: fixture.dir, env: GIT_ENV, encoding: 'utf8' }).trim();

/** A new commit on `branch` whose image differs from every other (version.txt is copied in). */
function commit(branch: string, text: string, opts: { slow?: boolean | number; tag?: string } = {}): string {
  git('checkout', '-q', '-B', branch, 'main');
  writeFileSync(join(fixture.dir, 'version.txt'), `${text}\n`);
  const dockerfile = busyboxDockerfile('hello').replace(
    'CMD',
    `${opts.slow ? `RUN ["/bin/sleep", "${opts.slow === true ? 8 : opts.slow}"]\n` : ''}COPY version.txt /version.txt\nCMD`,
  );
  writeFileSync(join(fixture.dir, 'Dockerfile'), dockerfile);
  git('add', '-A');
  git('commit', '-q', '-m', `version ${text}`);
  const sha = git('rev-parse', 'HEAD');
  if (opts.tag) git('tag', opts.tag);
  if (branch !== 'main') git('checkout', '-q', 'main');
  return sha;
}

async function manifestDigest(tag: string): Promise<string | undefined> {
  const [host, ...path] = image.split('/');
  const res = await fetch(`http://${host}/v2/${path.join('/')}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json',
    },
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

function writeConfig(name: string, extra: string[] = []): string {
  const file = join(work, name);
  writeFileSync(
    file,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      `github: {token: gh-token-for-tests, apiUrl: "${recorder.url}", statuses: true}`,
      ...extra,
      'repositories:',
      `  ${REPO}:`,
      `    image: ${image}`,
      `    cloneUrl: "${fixture.url}"`,
      `    triggerToken: ${TRIGGER}`,
      `    webhooks: ["${recorder.url}/hooks/deploy"]`,
      '    rules:',
      '      - {sourceType: branch, source: "/slow.*/", tag: "{sourceref}"}',
      '',
    ].join('\n'),
  );
  return file;
}

function client(base: string) {
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, ...init.headers } });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
  const push = async (ref: string, sha: string) => {
    const res = await deliver(base, { payload: pushPayload({ repository: REPO, ref, sha, defaultBranch: 'main', cloneUrl: fixture.url }), secret: SECRET });
    expect(res.status).toBe(202);
    return res.json.builds as string[];
  };
  const waitStatus = async (id: string, want: (s: string) => boolean = (s) => FINISHED.includes(s), timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const b = (await api(`/api/builds/${id}`)).json;
      if (b && want(b.status)) return b;
      if (Date.now() > deadline) throw new Error(`build ${id} still ${b?.status} after ${timeoutMs} ms: ${JSON.stringify(b)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { api, push, waitStatus };
}

beforeAll(async () => {
  buildBinary();
  [redis, dockerd, registry, recorder] = await Promise.all([startRedis(), startDockerd(), startRegistry(), startRecorder()]);
  fixture = makeFixtureRepo();
  work = mkdtempSync(join(tmpdir(), 'autobuild-service-builds-'));
  image = `${registry.host}/octo/app`;
});

afterAll(async () => {
  await Promise.all([redis?.dispose(), dockerd?.stop(), registry?.stop(), recorder?.stop()]);
  fixture?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('autobuild start (HTTP and worker in one process)', () => {
  let service: ServiceProcess;
  let c: ReturnType<typeof client>;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = await startService('start', {
      cwd: work,
      args: ['--config', writeConfig('start.yml')],
      env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host },
    });
    c = client(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await service?.stop();
  });

  it('a tag push ends in the registry with every tag at the built digest, statuses and Docker Hub webhooks sent', async () => {
    const sha = commit('main', 'v1.0.0', { tag: 'v1.0.0' });
    const [id] = await c.push('refs/tags/v1.0.0', sha);
    const build = await c.waitStatus(id!);
    expect(build.status, build.error).toBe('succeeded');
    expect(build.tags).toEqual(['1.0.0', '1.0', '1', 'latest']);
    for (const tag of build.tags) expect(await manifestDigest(tag)).toBe(build.digest);
    expect(build.pushed.map((p: { ref: string }) => p.ref)).toEqual(build.refs);

    const statuses = await recorder.waitFor((r) => r.path === `/repos/${REPO}/statuses/${sha}`, 2);
    expect(statuses.map((s) => s.body.state)).toEqual(['pending', 'success']);
    for (const s of statuses) {
      expect(s.body.context).toBe(`autobuild/${image}`);
      expect(s.body.target_url).toMatch(new RegExp(`/#/builds/${id}$`));
      expect(s.headers.authorization).toBe('Bearer gh-token-for-tests');
    }
    const hooks = await recorder.waitFor(
      (r) => r.path === '/hooks/deploy' && build.tags.includes(r.body.push_data.tag) && r.at >= Date.parse(build.startedAt),
      4,
    );
    expect(hooks.map((h) => h.body.push_data.tag).sort()).toEqual([...build.tags].sort());
    expect(hooks[0]!.body.repository).toMatchObject({ repo_name: image, name: 'app', namespace: 'octo' });
    expect(typeof hooks[0]!.body.callback_url).toBe('string');

    const images = (await c.api('/api/images')).json.images;
    expect(images).toEqual([{ image, repository: REPO, tags: expect.arrayContaining(build.tags.map((tag: string) => ({ tag, digest: build.digest }))) }]);

    const log = await c.api(`/api/builds/${id}/log`);
    expect(log.text).toContain(`pushed ${image}:latest`);
    expect(log.text).not.toContain(SECRET);
  });

  // 200 in CI (about 10 s); the issue's 1,000: AUTOBUILD_TEST_BURST=1000 npx vitest run <this file> -t burst
  const burst = Number(process.env.AUTOBUILD_TEST_BURST ?? 200);
  it(`a burst of ${burst} pushes to one branch builds at most 2 and edge ends at the last commit`, async () => {
    const shas = Array.from({ length: burst }, (_, i) => commit('main', `burst-${i}`));
    const ids: string[] = [];
    for (const sha of shas) ids.push(...(await c.push('refs/heads/main', sha)));
    expect(ids).toHaveLength(burst);
    const last = await c.waitStatus(ids.at(-1)!);
    expect(last.status, last.error).toBe('succeeded');
    const builds = await Promise.all(ids.map((id) => c.waitStatus(id)));
    const ran = builds.filter((b) => b.status !== 'superseded');
    expect(ran.length).toBeLessThanOrEqual(2);
    expect(builds.filter((b) => b.status === 'superseded').length).toBeGreaterThanOrEqual(burst - 2);
    expect(await manifestDigest('edge')).toBe(last.digest);
    expect(last.sha).toBe(shas.at(-1));
  }, 180_000);

  it('release tags pushed out of order end with latest and the moving tags at the highest versions', async () => {
    const versions = ['1.2.0', '3.0.0', '1.1.0', '2.0.0'];
    const digests: Record<string, string> = {};
    const ids: [string, string][] = [];
    for (const v of versions) {
      const sha = commit('main', `release-${v}`, { tag: `v${v}` });
      ids.push([v, (await c.push(`refs/tags/v${v}`, sha))[0]!]);
    }
    for (const [v, id] of ids) {
      const b = await c.waitStatus(id);
      expect(b.status, b.error).toBe('succeeded');
      digests[v] = b.digest;
      expect(await manifestDigest(v)).toBe(b.digest);
    }
    expect(await manifestDigest('latest')).toBe(digests['3.0.0']);
    expect(await manifestDigest('3')).toBe(digests['3.0.0']);
    expect(await manifestDigest('2')).toBe(digests['2.0.0']);
    expect(await manifestDigest('1')).toBe(digests['1.2.0']);
    expect(await manifestDigest('1.1')).toBe(digests['1.1.0']);
  }, 180_000);

  it('the remote trigger {"build":true} builds the default branch at its current commit', async () => {
    const sha = git('rev-parse', 'main');
    const trigger = await c.api(`/api/trigger/${TRIGGER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ build: true }),
    });
    expect(trigger.status, trigger.text).toBe(202);
    const b = await c.waitStatus(trigger.json.builds[0]);
    expect(b.status, b.error).toBe('succeeded');
    expect(b.sha).toBe(sha);
    expect(b.tags).toEqual(['edge']);
    expect(await manifestDigest('edge')).toBe(b.digest);
  });

  it('cancel stops a running build at once, and a followed log streams until the build ends', async () => {
    const sha = commit('slow-cancel', 'cancel', { slow: 60 });
    const [id] = await c.push('refs/heads/slow-cancel', sha);
    await c.waitStatus(id!, (s) => s === 'running');
    const res = await fetch(`${base}/api/builds/${id}/log?follow=1`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('autobuild: building')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const t0 = Date.now();
    expect((await c.api(`/api/builds/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('autobuild: canceled');
    expect(Date.now() - t0).toBeLessThan(20_000);
    const b = await c.waitStatus(id!);
    expect(b.status).toBe('canceled');
    expect(await manifestDigest('slow-cancel')).toBeUndefined();
    // The worker is free again: the next build runs.
    const next = await c.push('refs/heads/slow-after-cancel', commit('slow-after-cancel', 'after-cancel'));
    expect((await c.waitStatus(next[0]!)).status).toBe('succeeded');
  }, 120_000);

  it('SIGTERM lets the running build finish, then exits 0', async () => {
    const sha = commit('slow-term', 'slow-term', { slow: true });
    const [id] = await c.push('refs/heads/slow-term', sha);
    await c.waitStatus(id!, (s) => s === 'running');
    const code = await service.stop();
    expect(code).toBe(0);
    const redisCheck = await startService('serve', {
      cwd: work,
      args: ['--config', writeConfig('check.yml')],
      env: { PORT: String(await freePort()), REDIS_URL: redis.url },
    });
    try {
      const base = /listening on (\S+)/.exec(redisCheck.stderr())![1]!;
      const b = (await client(base).api(`/api/builds/${id}`)).json;
      expect(b.status).toBe('succeeded');
      expect(await manifestDigest('slow-term')).toBe(b.digest);
    } finally {
      await redisCheck.stop();
    }
  }, 120_000);
});

describe('autobuild serve + worker processes on one Redis', () => {
  let serve: ServiceProcess;
  const workers: ServiceProcess[] = [];
  let c: ReturnType<typeof client>;
  const startWorker = async () => {
    const w = await startService('worker', {
      cwd: work,
      args: ['--config', writeConfig('split.yml')],
      env: { REDIS_URL: redis.url, DOCKER_HOST: dockerd.host, AUTOBUILD_LOCK_SECONDS: '3' },
    });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    const port = await freePort();
    serve = await startService('serve', { cwd: work, args: ['--config', writeConfig('split.yml')], env: { PORT: String(port), REDIS_URL: redis.url } });
    c = client(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill9()));
    await serve?.stop();
  });

  it('a Redis restart between accepting and building loses nothing', async () => {
    const sha = commit('slow-restart', 'restart');
    const [id] = await c.push('refs/heads/slow-restart', sha);
    await redis.restart();
    await startWorker();
    await startWorker();
    const b = await c.waitStatus(id!);
    expect(b.status, b.error).toBe('succeeded');
    expect(await manifestDigest('slow-restart')).toBe(b.digest);
  }, 120_000);

  it('kill -9 of the worker running a build: another worker finishes it', async () => {
    const sha = commit('slow-kill', 'kill', { slow: true });
    const [id] = await c.push('refs/heads/slow-kill', sha);
    await c.waitStatus(id!, (s) => s === 'running');
    const started = new RegExp(`"buildId":"${id}".*build started`);
    let holder: ServiceProcess | undefined;
    for (let i = 0; i < 50 && !holder; i++) {
      holder = workers.find((w) => started.test(w.stderr()));
      if (!holder) await new Promise((r) => setTimeout(r, 100));
    }
    expect(holder).toBeDefined();
    await holder!.kill9();
    const b = await c.waitStatus(id!, undefined, 100_000);
    expect(b.status, b.error).toBe('succeeded');
    const other = workers.find((w) => w !== holder)!;
    expect(other.stderr()).toMatch(new RegExp(`"buildId":"${id}".*build succeeded`));
    expect(await manifestDigest('slow-kill')).toBe(b.digest);
  }, 150_000);
});

describe('timeoutMinutes', () => {
  it('a build running past timeoutMinutes is stopped, marked failed and reported to GitHub as a failure', async () => {
    const port = await freePort();
    const service = await startService('start', {
      cwd: work,
      args: ['--config', writeConfig('timeout.yml', ['timeoutMinutes: 0.1'])],
      env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host },
    });
    try {
      const c = client(`http://127.0.0.1:${port}`);
      const sha = commit('slow-timeout', 'timeout', { slow: 120 });
      const [id] = await c.push('refs/heads/slow-timeout', sha);
      const t0 = Date.now();
      const b = await c.waitStatus(id!, undefined, 60_000);
      expect(b.status).toBe('failed');
      expect(b.error).toMatch(/timed out after 0.1 minutes/);
      expect(Date.now() - t0).toBeLessThan(40_000);
      const statuses = await recorder.waitFor((r) => r.path === `/repos/${REPO}/statuses/${sha}`, 2);
      expect(statuses.map((s) => s.body.state)).toEqual(['pending', 'failure']);
      expect(await manifestDigest('slow-timeout')).toBeUndefined();
    } finally {
      expect(await service.stop()).toBe(0);
    }
  }, 120_000);

  it("a hook's detached children holding its output do not outlive timeoutMinutes, and start still exits 0 on SIGTERM", async () => {
    const marks = [sleepMark(), sleepMark()] as const;
    const port = await freePort();
    const service = await startService('start', {
      cwd: work,
      args: ['--config', writeConfig('hook-timeout.yml', ['timeoutMinutes: 0.1'])],
      env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host },
    });
    try {
      const c = client(`http://127.0.0.1:${port}`);
      git('checkout', '-q', '-B', 'slow-hook', 'main');
      mkdirSync(join(fixture.dir, 'hooks'), { recursive: true });
      writeFileSync(join(fixture.dir, 'hooks', 'pre_build'), `#!/bin/sh\nsetsid sleep ${marks[0]} &\n( ( sleep ${marks[1]} & ) & )\nsleep ${marks[1]}\n`);
      chmodSync(join(fixture.dir, 'hooks', 'pre_build'), 0o755);
      git('add', '-A');
      git('commit', '-q', '-m', 'a hook that detaches');
      const sha = git('rev-parse', 'HEAD');
      git('checkout', '-q', 'main');
      const [id] = await c.push('refs/heads/slow-hook', sha);
      const t0 = Date.now();
      const b = await c.waitStatus(id!, undefined, 60_000);
      expect(b.status).toBe('failed');
      expect(b.error).toMatch(/timed out after 0.1 minutes/);
      expect(Date.now() - t0).toBeLessThan(40_000);
      expect(sleepers(marks[0])).toEqual([]);
      expect(sleepers(marks[1])).toEqual([]);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  }, 120_000);
});
