// Build secrets on real engines: `RUN --mount=type=secret,id=tok` sees the value, and the value
// is in no layer, no image history, no log line, no error and no process argument sampled
// while the build runs. A Dockerfile mounting a secret the build lacks fails in one line.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink, type CollectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild, type BuildOptions, type BuildResult } from '../../src/pipeline/pipeline.js';
import { Secret } from '../../src/core/secret.js';
import type { PlannedBuild } from '../../src/core/types.js';
import { buildahStore, keepEnv, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';
import { sampleArgv } from '../support/processes.js';

let dockerd: Dockerd;
let registry: Registry;
let workRoot: string;
let buildahDir: string;
const fixtures: Fixture[] = [];
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF');
const value = `tok-${Math.random().toString(36).slice(2)}-${Date.now()}`;

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

/** The RUN step keeps only the secret's hash: proof it saw the value, without keeping it. */
const secretDockerfile = [
  'FROM scratch',
  'COPY busybox /bin/busybox',
  'RUN --mount=type=secret,id=tok ["/bin/busybox", "sh", "-c", "/bin/busybox sha256sum /run/secrets/tok | /bin/busybox cut -d\' \' -f1 > /tok.sha256"]',
  '',
].join('\n');

function explicit(images: string[], tags: string[]): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: 'refs/heads/main',
    sha: '0'.repeat(40),
    images,
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags,
    refs: tags.flatMap((t) => images.map((i) => `${i}:${t}`)),
    push: true,
    tagInfo: [],
    trusted: true,
  };
}

async function build(f: Fixture, b: PlannedBuild, extra: Partial<BuildOptions>): Promise<{ result: BuildResult; log: CollectingSink }> {
  const log = collectingSink();
  const result = await runBuild({ build: b, source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log, ...extra });
  return { result, log };
}

/** Every layer's bytes (uncompressed) and the config of the image under `ref`. */
async function imageContent(ref: string): Promise<{ layers: Buffer[]; config: string }> {
  const image = ref.slice(0, ref.lastIndexOf(':'));
  const path = image.slice(image.indexOf('/') + 1);
  const manifest = JSON.parse(Buffer.from((await new RegistryClient({}).getManifest(ref))!.bytes).toString()) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const blob = async (digest: string) => Buffer.from(await (await fetch(`http://${registry.host}/v2/${path}/blobs/${digest}`)).arrayBuffer());
  const layers = await Promise.all(
    manifest.layers.map(async (l) => {
      const bytes = await blob(l.digest);
      return l.mediaType.endsWith('gzip') ? gunzipSync(bytes) : bytes;
    }),
  );
  return { layers, config: (await blob(manifest.config.digest)).toString() };
}

for (const builder of ['docker', 'buildah'] as const) {
  describe(`${builder}: build secrets`, () => {
    it('RUN --mount=type=secret sees the value; it is in no layer, no history, no log, no argv', async () => {
      const f = makeFixtureRepo({ dockerfile: secretDockerfile });
      fixtures.push(f);
      const image = `${registry.host}/octo/secret-${builder}`;
      const { value: out, argv } = await sampleArgv(() => build(f, explicit([image], ['1.0.0']), { builder, secrets: { tok: new Secret(value) } }));
      const { layers, config } = await imageContent(`${image}:1.0.0`);
      const expected = createHash('sha256').update(value).digest('hex');
      // The RUN step saw exactly the value: its hash is in the image.
      expect(layers.some((l) => l.includes(expected))).toBe(true);
      for (const layer of layers) expect(layer.includes(value)).toBe(false);
      expect(config).not.toContain(value);
      if (builder === 'docker') {
        const history = execFileSync('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', `${image}:1.0.0`], {
          env: { ...process.env, DOCKER_HOST: dockerd.host },
          encoding: 'utf8',
        });
        expect(history).toContain('sha256sum /run/secrets/tok');
        expect(history).not.toContain(value);
      }
      expect(JSON.stringify([out.log.lines, out.log.events, out.result])).not.toContain(value);
      expect(argv.some((a) => a.includes('--secret'))).toBe(true);
      expect(argv.filter((a) => a.includes(value))).toEqual([]);
      // The value's file went with the build's work directory.
      expect(readdirSync(workRoot)).toEqual([]);
    });

    it('a Dockerfile mounting a secret the build lacks fails in one line naming it, before building', async () => {
      const f = makeFixtureRepo({ dockerfile: secretDockerfile });
      fixtures.push(f);
      const image = `${registry.host}/octo/nosecret-${builder}`;
      const log = collectingSink();
      const err = await rejection(
        runBuild({
          build: explicit([image], ['1']),
          source: { cloneUrl: f.url, sha: f.sha },
          workRoot,
          builder,
          registries: {},
          log,
          secrets: { other: new Secret(value) },
        }),
      );
      expect(err.message).toMatch(
        /^the Dockerfile mounts secret "tok" \(RUN --mount=type=secret,id=tok\) but this build has no secret of that id — add it under secrets: in autobuild.yml/,
      );
      expect(err.message.split('\n')).toHaveLength(1);
      expect(err.message).not.toContain(value);
      expect(log.events.some((e) => e.type === 'step-started' && e.step === 'build')).toBe(false);
    });
  });
}

describe("a fork's pull request (untrusted)", () => {
  it('gets no secrets and writes no cache, and says so', async () => {
    const f = makeFixtureRepo({ dockerfile: secretDockerfile });
    fixtures.push(f);
    const image = `${registry.host}/octo/fork-pr`;
    const log = collectingSink();
    const b = { ...explicit([image], ['pr-7']), push: false, trusted: false, cacheTo: [`type=registry,ref=${image}-buildcache`] };
    const err = await rejection(
      runBuild({ build: b, source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log, secrets: { tok: new Secret(value) } }),
    );
    expect(err.message).toMatch(/mounts secret "tok" .* \(a pull request from a fork gets no secrets\)$/);
    expect(log.lines).toContain('cache: an untrusted build, so it writes no cache (cacheTo skipped)');
    expect(JSON.stringify([err.message, log.lines])).not.toContain(value);
  });
});

describe('autobuild build --secret', () => {
  it('id=ID,env=VAR reaches the build; the value is in no output of the command', () => {
    const f = makeFixtureRepo({ dockerfile: secretDockerfile });
    fixtures.push(f);
    const image = `${registry.host}/octo/secret-cli`;
    const res = spawnSync(process.execPath, ['bin/autobuild.js', 'build', f.dir, '--image', image, '--tag', '1', '--secret', 'id=tok,env=MY_TOKEN', '--json'], {
      env: { ...process.env, DOCKER_HOST: dockerd.host, MY_TOKEN: value },
      encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout + res.stderr).not.toContain(value);
    const missing = spawnSync(process.execPath, ['bin/autobuild.js', 'build', f.dir, '--image', image, '--tag', '2', '--secret', 'id=tok,env=NOT_SET_HERE'], {
      env: { ...process.env, DOCKER_HOST: dockerd.host },
      encoding: 'utf8',
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe(
      'autobuild: --secret id=tok: environment variable NOT_SET_HERE is not set — export NOT_SET_HERE, or use --secret id=tok,src=FILE',
    );
  });
});
