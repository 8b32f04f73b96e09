// How the tags of one build reach the registry, seen from a recording proxy in front of a real
// registry: the tags of one class (immutable, then moving) are PUT together over kept-alive
// connections, and `latest` is PUT last, alone, once every other tag is in.
import type { Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { runBuild } from '../../src/pipeline/pipeline.js';
import { eventFromRef } from '../../src/core/events.js';
import { plan } from '../../src/core/plan.js';
import type { PlannedBuild, RepositoryConfig } from '../../src/core/types.js';
import {
  makeFixtureRepo,
  startDockerd,
  startProxy,
  startRegistry,
  tempDir,
  type Dockerd,
  type Fixture,
  type Proxy,
  type Registry,
} from '../support/engines.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

interface Seen {
  method: string;
  path: string;
  agent: string;
  socket: number;
  start: number;
  end: number;
}

let dockerd: Dockerd;
let registry: Registry;
let proxy: Proxy;
let fixture: Fixture;
let workRoot: string;
const seen: Seen[] = [];
const sockets = new WeakMap<Socket, number>();
let socketCount = 0;
const savedDockerHost = process.env.DOCKER_HOST;

beforeAll(async () => {
  [dockerd, registry] = await Promise.all([startDockerd(), startRegistry()]);
  process.env.DOCKER_HOST = dockerd.host;
  proxy = await startProxy(registry.host, (req, res) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, ++socketCount);
    const entry: Seen = {
      method: req.method ?? '',
      path: req.url ?? '',
      agent: String(req.headers['user-agent'] ?? ''),
      socket: sockets.get(req.socket)!,
      start: performance.now(),
      end: Infinity,
    };
    res.on('finish', () => {
      entry.end = performance.now();
    });
    seen.push(entry);
    return false;
  });
  fixture = makeFixtureRepo({ content: 'push order' });
  workRoot = tempDir('push-order');
});

afterAll(async () => {
  fixture?.cleanup();
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
  await Promise.all([proxy?.stop(), dockerd?.stop(), registry?.stop()]);
});

function release(tag: string, images: string[]): PlannedBuild {
  const repo: RepositoryConfig = repositoryConfig({ images });
  const p = plan({
    event: eventFromRef({ ref: `refs/tags/${tag}`, sha: fixture.sha, repository: 'octo/app' }),
    repositories: { 'octo/app': repo },
    existingTags: [],
  });
  return p.builds[0]!;
}

/** The manifest PUTs made for `image`, by tag, in the order they started. */
function manifestPuts(image: string): Map<string, Seen> {
  const prefix = `/v2/${image.slice(image.indexOf('/') + 1)}/manifests/`;
  return new Map(seen.filter((s) => s.method === 'PUT' && s.path.startsWith(prefix)).map((s) => [s.path.slice(prefix.length), s]));
}

/** The PUTs of these tags, in this order. */
function putsOf(puts: Map<string, Seen>, tags: string[]): [Seen, Seen, Seen, Seen] {
  const found = tags.map((t) => {
    const put = puts.get(t);
    if (!put) throw new Error(`no manifest PUT for ${t}; seen: ${[...puts.keys()].join(', ')}`);
    return put;
  });
  return found as [Seen, Seen, Seen, Seen];
}

const overlap = (a: Seen, b: Seen) => a.start < b.end && b.start < a.end;

describe('pushing the tags of a release', () => {
  it('v3.1.0: 3.1.0 first, then 3.1 and 3 together, then latest alone, over kept-alive connections', async () => {
    const image = `${proxy.host}/octo/order`;
    seen.length = 0;
    const log = collectingSink();
    const result = await runBuild({ build: release('v3.1.0', [image]), source: { dir: fixture.dir }, workRoot, builder: 'docker', registries: {}, log });
    expect(result.pushed).toEqual(['3.1.0', '3.1', '3', 'latest'].map((t) => `${image}:${t}`));

    const puts = manifestPuts(image);
    expect([...puts.keys()]).toEqual(['3.1.0', expect.any(String), expect.any(String), 'latest']);
    const [first, minor, major, latest] = putsOf(puts, ['3.1.0', '3.1', '3', 'latest']);
    // The moving tags are PUT after the immutable one and side by side.
    expect(minor.start).toBeGreaterThan(first.end);
    expect(major.start).toBeGreaterThan(first.end);
    expect(overlap(minor, major)).toBe(true);
    // latest only once every other tag is in.
    expect(latest.start).toBeGreaterThan(Math.max(first.end, minor.end, major.end));

    // autobuild's own requests (not docker's) reuse their connections, and the first of them
    // (connecting and authenticating for the push) went out while the image was building.
    const ours = seen.filter((s) => !s.agent.startsWith('docker/'));
    const dockers = seen.filter((s) => s.agent.startsWith('docker/'));
    expect(ours[0]!.start).toBeLessThan(dockers[0]!.start);
    expect(ours.length).toBeGreaterThanOrEqual(6);
    expect(new Set(ours.map((s) => s.socket)).size).toBeLessThan(ours.length);
  });

  it('--tag 1.0.0 1.0 1 latest (all immutable but latest): the three extra tags go out together', async () => {
    const image = `${proxy.host}/octo/explicit`;
    seen.length = 0;
    const tags = ['1.0.0', '1.0', '1', 'latest'];
    const build: PlannedBuild = {
      repository: 'octo/app',
      ref: 'refs/heads/main',
      sha: fixture.sha,
      images: [image],
      context: '.',
      dockerfile: 'Dockerfile',
      buildArgs: {},
      labels: {},
      tags,
      refs: tags.map((t) => `${image}:${t}`),
      push: true,
      trusted: true,
      tagInfo: tags.map((tag) => ({ tag, kind: tag === 'latest' ? 'latest' : 'immutable' })),
    };
    const result = await runBuild({ build, source: { dir: fixture.dir }, workRoot, builder: 'docker', registries: {}, log: collectingSink() });
    expect(result.pushed).toEqual(tags.map((t) => `${image}:${t}`));
    const puts = manifestPuts(image);
    const [first, minor, major, latest] = putsOf(puts, tags);
    expect(overlap(minor, major)).toBe(true);
    expect(minor.start).toBeGreaterThan(first.end);
    expect(latest.start).toBeGreaterThan(Math.max(minor.end, major.end));
  });
});
