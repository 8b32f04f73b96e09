// A layer cache shared through the registry: one engine builds with cacheTo (the service's
// default, `<image>:buildcache`), a second engine with an empty store builds the next commit with
// cacheFrom, and its log shows the slow step taken from the cache instead of run again.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild } from '../../src/pipeline/pipeline.js';
import { defaultCache } from '../../src/core/build-settings.js';
import type { PlannedBuild } from '../../src/core/types.js';
import { buildahStore, keepEnv, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';

let engines: Dockerd[] = [];
let registry: Registry;
let workRoot: string;
const stores: string[] = [];
const fixtures: Fixture[] = [];
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF');

beforeAll(async () => {
  [registry, ...engines] = (await Promise.all([startRegistry(), startDockerd(), startDockerd()])) as [Registry, Dockerd, Dockerd];
  workRoot = tempDir('work');
});

afterAll(async () => {
  for (const f of fixtures) f.cleanup();
  restoreEnv();
  await Promise.all([registry?.stop(), ...engines.map((e) => e.stop())]);
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
  for (const s of stores) rmSync(s, { recursive: true, force: true });
});

/** A fresh buildah store, as a second worker machine would have; removed after the file. */
function freshStore(): string {
  const { conf, dir } = buildahStore();
  stores.push(dir);
  return conf;
}

/** The slow step is the one worth caching; the last step changes with every commit. */
const dockerfile = (release: string) =>
  [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 3; echo slow-step-output > /slow.txt"]',
    `LABEL release=${release}`,
    '',
  ].join('\n');

function planned(image: string, tag: string, sha: string): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: `refs/tags/v${tag}`,
    sha,
    images: [image],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags: [tag],
    refs: [`${image}:${tag}`],
    push: true,
    tagInfo: [],
    trusted: true,
    // What the service's worker adds to a repository that configures no cache.
    ...defaultCache([image]),
  };
}

for (const builder of ['docker', 'buildah'] as const) {
  describe(`${builder}: the service's default registry cache`, () => {
    it('a second worker with an empty store takes the slow step from the cache the first one pushed', async () => {
      const image = `${registry.host}/octo/cached-${builder}`;
      const run = async (engine: number, release: string) => {
        if (builder === 'docker') process.env.DOCKER_HOST = engines[engine]!.host;
        else process.env.CONTAINERS_STORAGE_CONF = freshStore();
        const f = makeFixtureRepo({ dockerfile: dockerfile(release) });
        fixtures.push(f);
        const log = collectingSink();
        const started = Date.now();
        const result = await runBuild({
          build: planned(image, release, f.sha),
          source: { cloneUrl: f.url, sha: f.sha },
          workRoot,
          builder,
          registries: {},
          log,
        });
        return { result, text: log.lines.join('\n'), ms: Date.now() - started };
      };
      const first = await run(0, '1.0.0');
      expect(first.text).not.toMatch(/CACHED|Using cache/);
      expect(first.text).toMatch(/cache: pushed .*-buildcache|--cache-to|Pushing cache/i);
      const second = await run(1, '1.0.1');
      // The slow RUN step came from the registry cache: BuildKit says CACHED, buildah "Using cache".
      expect(second.text).toMatch(/CACHED|Using cache/);
      expect(second.result.digest).not.toBe(first.result.digest);
      const tags = (await new RegistryClient({}).tagDigests(image)).map((t) => t.tag);
      // The cache lives in a repository of its own: the image's tags are only the user's.
      expect(tags.sort()).toEqual(['1.0.0', '1.0.1']);
      expect((await new RegistryClient({}).listTags(`${image}-buildcache`)).length).toBeGreaterThan(0);
    });
  });
}
