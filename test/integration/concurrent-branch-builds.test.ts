// Builds of one branch with the image lock and the push order the service gives them (real
// Redis): the branch tag never moves back to the older commit when the older build finishes last.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { runBuild, type BuildResult } from '../../src/pipeline/pipeline.js';
import { eventFromRef } from '../../src/core/events.js';
import { plan } from '../../src/core/plan.js';
import type { PlannedBuild, RepositoryConfig } from '../../src/core/types.js';
import { imageLock } from '../../src/service/image-lock.js';
import { pushOrder } from '../../src/service/push-order.js';
import { busyboxDockerfile, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

let dockerd: Dockerd;
let registry: Registry;
let redis: TestRedis;
let client: Redis;
let fixture: Fixture;
let workRoot: string;
let gateServer: Server;
let gateUrl: string;
const opened = new Set<string>();
const asked = new Set<string>();
const savedDockerHost = process.env.DOCKER_HOST;

// pre_push waits until the test opens the gate of its commit (over HTTP: hooks run sandboxed,
// with the host's /tmp hidden), so builds can be held at that step.
const prePush = (url: string) =>
  `#!/bin/sh\ni=0\nwhile ! busybox wget -q --spider "${url}/$SOURCE_COMMIT" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n`;

beforeAll(async () => {
  [dockerd, registry, redis] = await Promise.all([startDockerd(), startRegistry(), startRedis()]);
  process.env.DOCKER_HOST = dockerd.host;
  client = new Redis(redis.url);
  workRoot = tempDir('branch-builds');
  gateServer = createServer((req, res) => {
    asked.add(req.url ?? '');
    res.writeHead(opened.has((req.url ?? '').slice(1)) ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => gateServer.listen(0, '127.0.0.1', () => resolve()));
  gateUrl = `http://127.0.0.1:${(gateServer.address() as { port: number }).port}`;
  fixture = makeFixtureRepo({ content: 'first' });
  mkdirSync(join(fixture.dir, 'hooks'), { recursive: true });
  writeFileSync(join(fixture.dir, 'hooks', 'pre_push'), prePush(gateUrl), { mode: 0o755 });
});

afterAll(async () => {
  client?.disconnect();
  fixture?.cleanup();
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
  gateServer?.close();
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
  await Promise.all([dockerd?.stop(), registry?.stop(), redis?.dispose()]);
});

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A new commit on main whose image differs from every other. */
function commit(content: string): string {
  writeFileSync(join(fixture.dir, 'Dockerfile'), busyboxDockerfile(content));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: fixture.dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('add', '-A');
  git('commit', '-q', '-m', content);
  return git('rev-parse', 'HEAD');
}

function edgeBuild(image: string, sha: string): PlannedBuild {
  const repo: RepositoryConfig = repositoryConfig({ images: [image] });
  const event = eventFromRef({ ref: 'refs/heads/main', sha, repository: 'octo/app', defaultBranch: 'main' });
  const build = plan({ event, repositories: { 'octo/app': repo } }).builds[0]!;
  expect(build.tags).toEqual(['edge']);
  return build;
}

/** Starts a build as the worker does; resolves `atPrePush` once it waits in pre_push. */
function start(build: PlannedBuild, seq: number) {
  const log = collectingSink();
  let reached: () => void = () => undefined;
  const atPrePush = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const sink = {
    line: (l: string) => log.line(l),
    event: (e: Parameters<typeof log.event>[0]) => {
      log.event(e);
      if (e.type === 'step-started' && e.step === 'hook:pre_push') reached();
    },
  };
  const done: Promise<BuildResult> = runBuild({
    build,
    source: { cloneUrl: fixture.url, sha: build.sha },
    workRoot,
    builder: 'docker',
    registries: {},
    log: sink,
    withImageLock: imageLock(client),
    pushOrder: pushOrder(client, seq),
  });
  done.catch(() => reached());
  return { done, atPrePush, log };
}

/** The commit an image in the registry was built from (its OCI revision label). */
async function revisionOf(image: string, digest: string): Promise<string> {
  const [host, ...path] = image.split('/');
  const base = `http://${host}/v2/${path.join('/')}`;
  const manifest = (await (
    await fetch(`${base}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    })
  ).json()) as { config: { digest: string } };
  const config = (await (await fetch(`${base}/blobs/${manifest.config.digest}`)).json()) as { config: { Labels: Record<string, string> } };
  return config.config.Labels['org.opencontainers.image.revision']!;
}

async function tagDigest(image: string, tag: string): Promise<string | undefined> {
  const [host, ...path] = image.split('/');
  const res = await fetch(`http://${host}/v2/${path.join('/')}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

describe('builds of one branch finishing out of order', () => {
  it('the older finishing after the newer leaves edge at the newer commit', async () => {
    const image = `${registry.host}/octo/never-back`;
    const older = commit('back-older');
    const newer = commit('back-newer');
    opened.add(older);
    opened.add(newer);
    // Queue order: the older push is #3, the newer #4; the newer's build finishes first.
    const resultB = await start(edgeBuild(image, newer), 4).done;
    expect(await tagDigest(image, 'edge')).toBe(resultB.digest);
    const resultA = await start(edgeBuild(image, older), 3).done;
    expect(resultA.pushed).toEqual([]);
    expect(resultA.held).toEqual([{ ref: `${image}:edge`, reason: 'a newer push (#4 in queue order, this is #3) already moved edge' }]);
    expect(await tagDigest(image, 'edge')).toBe(resultB.digest);
    expect(await revisionOf(image, resultB.digest)).toBe(newer);
  }, 240_000);
});
