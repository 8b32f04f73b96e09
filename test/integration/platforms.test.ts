// Multi-platform images and build options on real engines: a private dockerd (BuildKit built into
// Debian's 20.10 client), buildah with a private store, CNCF registries. What a user checks: each
// tag in the registry is one index with every platform, the arm64 child's config says arm64,
// `latest` last, and the log says which builder ran.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink, type CollectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild, type BuildOptions, type BuildResult } from '../../src/pipeline/pipeline.js';
import { eventFromRef } from '../../src/core/events.js';
import { plan } from '../../src/core/plan.js';
import type { PlannedBuild, RepositoryConfig } from '../../src/core/types.js';
import {
  buildahStore,
  keepEnv,
  makeFixtureRepo,
  startDockerd,
  startFlakyProxy,
  startRegistry,
  tempDir,
  type Dockerd,
  type Fixture,
  type Registry,
} from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';

let dockerd: Dockerd;
let registry: Registry;
let workRoot: string;
let buildahDir: string;
const fixtures: Fixture[] = [];
const originalPath = process.env.PATH;
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF', 'PATH');

beforeAll(async () => {
  [dockerd, registry] = await Promise.all([startDockerd(), startRegistry()]);
  process.env.DOCKER_HOST = dockerd.host;
  workRoot = tempDir('work');
  const store = buildahStore();
  buildahDir = store.dir;
  process.env.CONTAINERS_STORAGE_CONF = store.conf;
});

afterAll(async () => {
  for (const f of fixtures) f.cleanup();
  restoreEnv();
  await Promise.all([dockerd?.stop(), registry?.stop()]);
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
  if (buildahDir) rmSync(buildahDir, { recursive: true, force: true });
});

/** COPY only: no step runs a binary, so no emulation is needed for a foreign platform. */
const copyOnly = (content: string) => `FROM scratch\nCOPY busybox /bin/busybox\nLABEL content=${JSON.stringify(content)}\nCMD ["/bin/busybox", "echo", "hi"]\n`;

function fixture(opts: Parameters<typeof makeFixtureRepo>[0]): Fixture {
  const f = makeFixtureRepo(opts);
  fixtures.push(f);
  return f;
}

function repoConfig(images: string[], extra: Partial<RepositoryConfig> = {}): RepositoryConfig {
  return {
    images,
    preset: 'semver',
    rules: [],
    tags: '',
    flavor: '',
    paths: [],
    dockerfile: 'Dockerfile',
    context: '.',
    buildArgs: {},
    labels: {},
    webhooks: [],
    ...extra,
  };
}

function planned(ref: string, sha: string, images: string[], extra: Partial<RepositoryConfig> = {}): PlannedBuild {
  const p = plan({ event: eventFromRef({ ref, sha, repository: 'octo/app' }), repositories: { 'octo/app': repoConfig(images, extra) }, existingTags: [] });
  expect(p.builds).toHaveLength(1);
  return p.builds[0]!;
}

async function build(f: Fixture, b: PlannedBuild, extra: Partial<BuildOptions> = {}): Promise<{ result: BuildResult; log: CollectingSink }> {
  const log = collectingSink();
  const result = await runBuild({ build: b, source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log, ...extra });
  return { result, log };
}

const pushedOrder = (log: CollectingSink) => log.events.flatMap((e) => (e.type === 'pushed' ? [e.ref] : []));

async function registryTags(image: string): Promise<Record<string, string>> {
  return Object.fromEntries((await new RegistryClient({}).tagDigests(image)).map((t) => [t.tag, t.digest]));
}

/** The index under `ref`: its media type and, per platform, the child's config (os/architecture). */
async function indexAt(
  ref: string,
): Promise<{ mediaType: string; platforms: Record<string, { digest: string; architecture: string; labels: Record<string, string> }> }> {
  const client = new RegistryClient({});
  const index = await client.getManifest(ref);
  expect(index).toBeDefined();
  const doc = JSON.parse(Buffer.from(index!.bytes).toString()) as { manifests: { digest: string; platform: { os: string; architecture: string } }[] };
  const image = ref.slice(0, ref.lastIndexOf(':'));
  const [host, ...path] = image.split('/');
  const platforms: Record<string, { digest: string; architecture: string; labels: Record<string, string> }> = {};
  for (const m of doc.manifests) {
    const child = JSON.parse(Buffer.from((await client.getManifest(`${image}@${m.digest}`))!.bytes).toString()) as { config: { digest: string } };
    const config = (await (await fetch(`http://${host}/v2/${path.join('/')}/blobs/${child.config.digest}`)).json()) as {
      architecture: string;
      config?: { Labels?: Record<string, string> };
    };
    platforms[`${m.platform.os}/${m.platform.architecture}`] = { digest: m.digest, architecture: config.architecture, labels: config.config?.Labels ?? {} };
  }
  return { mediaType: index!.mediaType, platforms };
}

for (const builder of ['buildah', 'docker'] as const) {
  describe(`${builder}: two platforms, one index`, () => {
    const image = () => `${registry.host}/octo/multi-${builder}`;
    let v2 = '';

    it('a release pushes 2.0.0, 2.0, 2, latest (last), each an index of amd64 and arm64; the arm64 child says arm64', async () => {
      const f = fixture({ dockerfile: copyOnly(`${builder}-2.0.0`) });
      const { result, log } = await build(f, planned('refs/tags/v2.0.0', f.sha, [image()], { platforms: ['linux/amd64', 'linux/arm64'] }), { builder });
      expect(pushedOrder(log)).toEqual(['2.0.0', '2.0', '2', 'latest'].map((t) => `${image()}:${t}`));
      expect(await registryTags(image())).toEqual({ '2.0.0': result.digest, '2.0': result.digest, '2': result.digest, latest: result.digest });
      const index = await indexAt(`${image()}:latest`);
      expect(index.mediaType).toMatch(/index|manifest\.list/);
      expect(Object.keys(index.platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
      expect(index.platforms['linux/arm64']!.architecture).toBe('arm64');
      expect(index.platforms['linux/amd64']!.architecture).toBe('amd64');
      // build --json's `platforms`: each platform with the digest the index holds for it.
      expect(Object.fromEntries((result.platforms ?? []).map((p) => [p.platform, p.digest]))).toEqual({
        'linux/amd64': index.platforms['linux/amd64']!.digest,
        'linux/arm64': index.platforms['linux/arm64']!.digest,
      });
      if (builder === 'docker') expect(log.lines.join('\n')).toMatch(/docker: BuildKit (built into|through buildx)/);
      v2 = result.digest;
    });

    it('a backport 1.2.9 of the multi-platform image moves 1.2 and 1 and leaves latest on 2.0.0', async () => {
      const f = fixture({ dockerfile: copyOnly(`${builder}-1.2.9`) });
      const b = planned('refs/tags/v1.2.9', f.sha, [image()], { platforms: ['linux/amd64', 'linux/arm64'] });
      expect(b.tags).toContain('latest');
      const { result, log } = await build(f, b, { builder });
      expect(pushedOrder(log)).toEqual(['1.2.9', '1.2', '1'].map((t) => `${image()}:${t}`));
      expect(result.held.map((h) => h.ref)).toEqual([`${image()}:latest`]);
      expect(await registryTags(image())).toMatchObject({ '1.2.9': result.digest, '1.2': result.digest, '1': result.digest, latest: v2 });
      expect(Object.keys((await indexAt(`${image()}:1`)).platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    });

    it('a registry answering 503 to the first manifest uploads still ends with every tag at the index digest', async () => {
      const proxy = await startFlakyProxy(registry.host, 2);
      try {
        const f = fixture({ dockerfile: copyOnly(`${builder}-flaky`) });
        const name = `${proxy.host}/octo/flaky-${builder}`;
        const { result, log } = await build(f, planned('refs/tags/v1.0.0', f.sha, [name], { platforms: ['linux/amd64', 'linux/arm64'] }), { builder });
        expect(proxy.answered()).toBe(2);
        expect(log.events.some((e) => e.type === 'retry')).toBe(true);
        expect(await registryTags(`${registry.host}/octo/flaky-${builder}`)).toEqual({
          '1.0.0': result.digest,
          '1.0': result.digest,
          '1': result.digest,
          latest: result.digest,
        });
        expect(Object.keys((await indexAt(`${registry.host}/octo/flaky-${builder}:latest`)).platforms).sort()).toEqual(['linux/amd64', 'linux/arm64']);
      } finally {
        await proxy.stop();
      }
    });

    it('hooks get PLATFORMS, as buildx users script it', async () => {
      const f = fixture({ dockerfile: copyOnly(`${builder}-hooks`), hooks: { post_build: '#!/bin/sh\necho "hook sees PLATFORMS=$PLATFORMS"\n' } });
      const { log } = await build(
        f,
        planned('refs/tags/v1.0.0', f.sha, [`${registry.host}/octo/hooks-${builder}`], { platforms: ['linux/amd64', 'linux/arm64'] }),
        { builder },
      );
      expect(log.lines).toContain('hook sees PLATFORMS=linux/amd64,linux/arm64');
    });

    it('target builds the named stage; noCache runs every step again', async () => {
      const dockerfile = 'FROM scratch AS one\nCOPY busybox /bin/busybox\nLABEL stage=one\n\nFROM one AS two\nLABEL stage=two\n';
      const f = fixture({ dockerfile });
      const name = `${registry.host}/octo/stages-${builder}`;
      const first = await build(f, { ...planned('refs/tags/v1.0.0', f.sha, [name], { target: 'one' }) }, { builder });
      const client = new RegistryClient({});
      const manifest = JSON.parse(Buffer.from((await client.getManifest(`${name}:1.0.0`))!.bytes).toString()) as { config: { digest: string } };
      const config = (await (await fetch(`http://${registry.host}/v2/octo/stages-${builder}/blobs/${manifest.config.digest}`)).json()) as {
        config: { Labels: Record<string, string> };
      };
      expect(config.config.Labels.stage).toBe('one');
      expect(first.result.digest).toMatch(/^sha256:/);
      const again = await build(f, { ...planned('refs/tags/v1.0.1', f.sha, [name], { target: 'one', noCache: true }) }, { builder });
      const text = again.log.lines.join('\n');
      expect(text).not.toMatch(/CACHED|Using cache/);
      const cached = await build(f, { ...planned('refs/tags/v1.0.2', f.sha, [name], { target: 'one' }) }, { builder });
      expect(cached.log.lines.join('\n')).toMatch(/CACHED|Using cache/);
    });
  });
}

describe('docker: which builder runs', () => {
  it('with only a docker client lacking buildx and built-in BuildKit, the classic builder runs and the log says so; platforms fail in one line', async () => {
    const bin = tempDir('bin');
    const f = fixture({ dockerfile: copyOnly('classic') });
    try {
      mkdirSync(join(bin, 'only'));
      symlinkSync('/usr/local/bin/docker', join(bin, 'only', 'docker'));
      // PATH keeps git and the rest, but the one docker client on it is the 28.x without buildx.
      process.env.PATH = [
        join(bin, 'only'),
        ...(originalPath ?? '').split(':').filter((d) => !['/usr/bin', '/usr/local/bin', '/bin'].includes(d)),
        join(bin, 'tools'),
      ].join(':');
      mkdirSync(join(bin, 'tools'));
      for (const tool of ['git', 'tar', 'sh']) symlinkSync(`/usr/bin/${tool}`, join(bin, 'tools', tool));
      const name = `${registry.host}/octo/classic`;
      const { result, log } = await build(f, planned('refs/tags/v1.0.0', f.sha, [name]));
      expect(log.lines.join('\n')).toContain('docker: classic builder');
      expect(await registryTags(name)).toMatchObject({ '1.0.0': result.digest });
      const err = await rejection(build(f, planned('refs/tags/v1.0.1', f.sha, [name], { platforms: ['linux/amd64', 'linux/arm64'] })));
      expect(err.message).toMatch(/^platforms need BuildKit/);
      expect(err.message.split('\n')).toHaveLength(1);
    } finally {
      process.env.PATH = originalPath;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
