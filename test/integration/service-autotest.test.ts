// Docker Hub's Autotest and build environment variables through the service, end to end: signed
// webhooks (pushes and pull requests from @octokit/webhooks-examples), `autobuild start`, a
// private dockerd with docker-compose, a registry, a git fixture and a recorder for GitHub.
// What a user sees: build status, commit status, the log, the registry, Redis and the API.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestPayload, pushPayload } from '../support/webhook-payloads.js';
import { busyboxDockerfile, makeFixtureRepo, startDockerd, startRegistry, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { startRecorder, type Recorder } from '../support/github-recorder.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';
import { deliver } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-autotest';
const API_TOKEN = 'api-token-for-autotest-0123456';
const INTERNAL = 'octo-org/app';
const EXTERNAL = 'octo-org/app-external';
const QUICK = 'octo-org/app-quick';
const ENV_VALUE = `env-secret-${Math.random().toString(36).slice(2)}`;
const FINISHED = ['succeeded', 'failed', 'canceled', 'superseded'];

let redis: TestRedis;
let dockerd: Dockerd;
let registry: Registry;
let recorder: Recorder;
let fixture: Fixture;
let work: string;
let service: ServiceProcess;
let base: string;

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

const SUT = [
  'services:',
  '  sut:',
  '    build: .',
  '    environment: [API_KEY]',
  '    command: ["/bin/sh", "-c", "echo sut read $$(cat /version.txt) key=$${API_KEY:-none}; test \\"$$(cat /version.txt)\\" != broken"]',
  '',
].join('\n');

/** A commit whose image holds `text` in /version.txt; sut fails when that is "broken". */
function commit(branch: string, text: string): string {
  git('checkout', '-q', '-B', branch, 'main');
  writeFileSync(join(fixture.dir, 'version.txt'), `${text}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', `version ${text}`);
  const sha = git('rev-parse', 'HEAD');
  if (branch !== 'main') git('checkout', '-q', 'main');
  return sha;
}

const image = (repo: string) => `${registry.host}/${repo}`;

/** The image's tags in the registry, without the service's shared layer cache (`buildcache`). */
async function registryTags(repo: string): Promise<string[]> {
  const res = await fetch(`http://${registry.host}/v2/${repo}/tags/list`);
  const tags = res.status === 200 ? (((await res.json()) as { tags: string[] | null }).tags ?? []) : [];
  return tags.filter((t) => t !== 'buildcache').sort();
}

async function api(path: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
}

async function waitFinished(id: string): Promise<any> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const b = (await api(`/api/builds/${id}`)).json;
    if (b && FINISHED.includes(b.status)) return b;
    if (Date.now() > deadline) throw new Error(`build ${id} still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function push(repo: string, sha: string): Promise<string> {
  const res = await deliver(base, {
    payload: pushPayload({ repository: repo, ref: 'refs/heads/main', sha, defaultBranch: 'main', cloneUrl: fixture.url }),
    secret: SECRET,
  });
  expect(res.status).toBe(202);
  return res.json.builds[0];
}

async function pullRequest(repo: string, sha: string, headRepository: string, number: number): Promise<string> {
  const payload = pullRequestPayload({ number, repository: repo, headRepository, head: 'feature' });
  payload.pull_request.head.sha = sha;
  payload.pull_request.base.repo.full_name = repo;
  const res = await deliver(base, { event: 'pull_request', payload, secret: SECRET });
  expect(res.status, res.text).toBe(202);
  return res.json.builds[0];
}

/** Every value in Redis, as text: strings, hashes, lists, sets, sorted sets and streams. */
async function everythingInRedis(): Promise<string> {
  const client = new Redis(redis.url);
  try {
    const out: string[] = [];
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      if (type === 'string') out.push(String(await client.get(key)));
      else if (type === 'hash') out.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await client.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await client.zrange(key, '0', '-1')));
      else if (type === 'stream') out.push(JSON.stringify(await client.xrange(key, '-', '+')));
      out.push(key);
    }
    return out.join('\n');
  } finally {
    client.disconnect();
  }
}

beforeAll(async () => {
  buildBinary();
  [redis, dockerd, registry, recorder] = await Promise.all([startRedis(), startDockerd(), startRegistry(), startRecorder()]);
  fixture = makeFixtureRepo({
    dockerfile: busyboxDockerfile('hello').replace('CMD', 'COPY version.txt /version.txt\nCMD'),
    files: { 'docker-compose.test.yml': SUT, 'version.txt': 'first\n' },
    hooks: { pre_test: '#!/bin/sh\necho "pre_test key=$API_KEY tag=$DOCKER_TAG"\n' },
  });
  work = mkdtempSync(join(tmpdir(), 'autobuild-service-autotest-'));
  const repo = (name: string, autotest: string) => [
    `  ${name}:`,
    `    image: ${image(name)}`,
    `    cloneUrl: "${fixture.url}"`,
    `    autotest: ${autotest}`,
    '    env: {API_KEY: "${AT_API_KEY}"}',
  ];
  const config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      `github: {token: gh-token-for-tests, apiUrl: "${recorder.url}", statuses: true}`,
      'repositories:',
      ...repo(INTERNAL, 'internal'),
      ...repo(EXTERNAL, 'external'),
      ...repo(QUICK, 'internal'),
      '    timeoutMinutes: 0.05',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService('start', {
    cwd: work,
    args: ['--config', config],
    env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host, AT_API_KEY: ENV_VALUE },
  });
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), dockerd?.stop(), registry?.stop(), recorder?.stop()]);
  fixture?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('timeouts', () => {
  it("a repository's timeoutMinutes wins over the global 60 minutes", async () => {
    const id = await push(QUICK, commit('main', 'quick'));
    const build = await waitFinished(id);
    expect(build.status).toBe('failed');
    expect(build.error).toBe('timed out after 0.05 minutes (timeoutMinutes)');
    expect(await registryTags(QUICK)).toEqual([]);
  });
});

describe('Autotest in the service', () => {
  it('a push whose sut fails pushes nothing: build failed, commit status "tests failed", sut\'s output at the end of the log', async () => {
    const sha = commit('main', 'broken');
    const id = await push(INTERNAL, sha);
    const build = await waitFinished(id);
    expect(build.status).toBe('failed');
    expect(build.error).toBe('tests failed: sut in docker-compose.test.yml exited with code 1');
    expect(await registryTags(INTERNAL)).toEqual([]);
    const statuses = await recorder.waitFor((r) => r.path === `/repos/${INTERNAL}/statuses/${sha}`, 2);
    expect(statuses.map((s) => [s.body.state, s.body.description])).toEqual([
      ['pending', expect.any(String)],
      ['failure', 'tests failed'],
    ]);
    const log = (await api(`/api/builds/${id}/log`)).text.trimEnd().split('\n');
    const end = log.slice(-4).join('\n');
    expect(end).toContain('  | sut read broken key=***');
    expect(log.at(-1)).toBe('autobuild: failed: tests failed: sut in docker-compose.test.yml exited with code 1');
  });

  it('a push whose sut passes pushes its tags; env reached pre_test and sut and is in no log, Redis key or API answer', async () => {
    const sha = commit('main', 'good');
    const id = await push(INTERNAL, sha);
    const build = await waitFinished(id);
    expect(build.status, build.error).toBe('succeeded');
    expect(await registryTags(INTERNAL)).toEqual(['edge']);
    const log = (await api(`/api/builds/${id}/log`)).text;
    expect(log).toContain('pre_test key=*** tag=edge');
    expect(log).toContain('sut read good key=***');
    const answers = [log, (await api(`/api/builds/${id}`)).text, (await api('/api/builds')).text];
    for (const text of answers) expect(text).not.toContain(ENV_VALUE);
    expect(await everythingInRedis()).not.toContain(ENV_VALUE);
  });

  it('a pull request from a fork with autotest: internal is built, not tested, not pushed', async () => {
    const sha = commit('feature-internal', 'fork-internal');
    const id = await pullRequest(INTERNAL, sha, 'stranger/app', 7);
    const build = await waitFinished(id);
    expect(build.status, build.error).toBe('succeeded');
    const log = (await api(`/api/builds/${id}/log`)).text;
    expect(log).toContain('autotest: pull request from a fork not tested: autotest is internal');
    expect(log).not.toContain('sut read');
    expect(await registryTags(INTERNAL)).not.toContain('pr-7');
  });

  it('a pull request from a fork with autotest: external is tested with no env, no hooks and no login, and not pushed', async () => {
    const sha = commit('feature-external', 'fork-external');
    const id = await pullRequest(EXTERNAL, sha, 'stranger/app', 8);
    const build = await waitFinished(id);
    expect(build.status, build.error).toBe('succeeded');
    const log = (await api(`/api/builds/${id}/log`)).text;
    expect(log).toContain('sut read fork-external key=none');
    expect(log).not.toContain('pre_test key=');
    expect(log).toContain('no registry login');
    expect(await registryTags(EXTERNAL)).toEqual([]);
  });

  it('a pull request from the repository itself (internal) is tested with env, and not pushed', async () => {
    const sha = commit('feature-own', 'own-branch');
    const id = await pullRequest(INTERNAL, sha, INTERNAL, 9);
    const build = await waitFinished(id);
    expect(build.status, build.error).toBe('succeeded');
    const log = (await api(`/api/builds/${id}/log`)).text;
    expect(log).toContain('sut read own-branch key=***');
    expect(await registryTags(INTERNAL)).not.toContain('pr-9');
  });
});
