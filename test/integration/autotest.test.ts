// Docker Hub's Autotest on real engines: a private dockerd, docker-compose 1.29, a registry and
// git fixtures. What a user checks: whether the tags reached the registry, what the log says,
// which variables the test hooks saw, and that no container or network is left behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink, type CollectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild, type BuildOptions, type BuildResult } from '../../src/pipeline/pipeline.js';
import { TestsFailedError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import type { PlannedBuild } from '../../src/core/types.js';
import { buildahStore, keepEnv, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
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
  workRoot = tempDir('autotest-work');
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

/** sut reads the file the Dockerfile wrote and compares it with what the test expects. */
function sutChecks(expected: string): string {
  return [
    'services:',
    '  sut:',
    '    build: .',
    `    command: ["/bin/sh", "-c", "echo sut saw $$(cat /hello.txt); test \\"$$(cat /hello.txt)\\" = ${expected} || { echo sut: expected ${expected} >&2; exit 3; }"]`,
    '',
  ].join('\n');
}

const TEST_HOOK = (name: string) =>
  `#!/bin/sh\necho "${name} SOURCE_BRANCH=$SOURCE_BRANCH SOURCE_COMMIT=$SOURCE_COMMIT DOCKER_REPO=$DOCKER_REPO DOCKER_TAG=$DOCKER_TAG IMAGE_NAME=$IMAGE_NAME DOCKERFILE_PATH=$DOCKERFILE_PATH COMMIT_MSG=$COMMIT_MSG"\n`;

function fixture(opts: Parameters<typeof makeFixtureRepo>[0]): Fixture {
  const f = makeFixtureRepo(opts);
  fixtures.push(f);
  return f;
}

function branchBuild(image: string, sha: string, tags = ['edge', 'latest']): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: 'refs/heads/main',
    sha,
    images: [image],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags,
    refs: tags.map((t) => `${image}:${t}`),
    push: true,
    trusted: true,
    tagInfo: tags.map((tag) => ({ tag, kind: tag === 'latest' ? 'latest' : 'moving' })),
  };
}

async function build(f: Fixture, b: PlannedBuild, extra: Partial<BuildOptions> = {}): Promise<{ result: BuildResult; log: CollectingSink }> {
  const log = collectingSink();
  const result = await runBuild({ build: b, source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log, ...extra });
  return { result, log };
}

async function registryTags(image: string): Promise<string[]> {
  return (await new RegistryClient({}).tagDigests(image)).map((t) => t.tag).sort();
}

function docker(...args: string[]): string {
  return execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: dockerd.host }, encoding: 'utf8' }).trim();
}

/** Containers, networks and volumes a compose project left in the engine. */
function composeLeftovers(): string[] {
  const filter = ['--filter', 'label=com.docker.compose.project'];
  return [
    ...docker('ps', '-a', '--format', '{{.Names}}', ...filter).split('\n'),
    ...docker('network', 'ls', '--format', '{{.Name}}', ...filter).split('\n'),
    ...docker('volume', 'ls', '--format', '{{.Name}}', ...filter).split('\n'),
  ].filter(Boolean);
}

describe('Autotest with the docker builder', () => {
  it('a commit whose sut passes pushes every tag, after pre_test and post_test ran with the Docker Hub variables', async () => {
    const f = fixture({
      content: 'hello',
      commitMessage: 'Tests pass',
      files: { 'docker-compose.test.yml': sutChecks('hello') },
      hooks: { pre_test: TEST_HOOK('pre_test'), post_test: TEST_HOOK('post_test') },
    });
    const image = `${registry.host}/octo/passes`;
    const { result, log } = await build(f, branchBuild(image, f.sha));
    expect(await registryTags(image)).toEqual(['edge', 'latest']);
    expect(result.pushed).toEqual([`${image}:edge`, `${image}:latest`]);
    const variables = `SOURCE_BRANCH=main SOURCE_COMMIT=${f.sha} DOCKER_REPO=${image} DOCKER_TAG=edge IMAGE_NAME=${image}:edge DOCKERFILE_PATH=Dockerfile COMMIT_MSG=Tests pass`;
    expect(log.lines).toContain(`pre_test ${variables}`);
    expect(log.lines).toContain(`post_test ${variables}`);
    expect(log.lines).toContain('sut saw hello');
    // Steps in Docker Hub's order: the test runs after the build and before any push.
    const steps = log.events.flatMap((e) => (e.type === 'step-started' ? [e.step] : []));
    expect(steps).toEqual(['checkout', 'build', 'hook:pre_test', 'test', 'hook:post_test', 'push', 'verify']);
    expect(composeLeftovers()).toEqual([]);
  });

  it("a commit whose sut fails pushes nothing and ends with sut's output", async () => {
    const f = fixture({ content: 'broken', files: { 'docker-compose.test.yml': sutChecks('hello') } });
    const image = `${registry.host}/octo/fails`;
    const log = collectingSink();
    const err = await rejection(
      runBuild({ build: branchBuild(image, f.sha), source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log }),
    );
    expect(err).toBeInstanceOf(TestsFailedError);
    expect((err as TestsFailedError).message).toBe('tests failed: sut in docker-compose.test.yml exited with code 3');
    expect((err as TestsFailedError).summary).toBe('tests failed');
    expect((err as TestsFailedError).tail).toEqual(expect.arrayContaining(['sut saw broken', 'sut: expected hello']));
    expect(log.events.some((e) => e.type === 'pushed')).toBe(false);
    expect(await registryTags(image)).toEqual([]);
    expect(composeLeftovers()).toEqual([]);
  });

  it('the image under test is the one just built: compose builds nothing, and its tags are gone afterwards', async () => {
    // sut has `build: .` and a second service names the image by IMAGE_NAME: both get the built image.
    const f = fixture({
      content: 'same-image',
      files: {
        'docker-compose.test.yml': [
          'version: "2.4"',
          'services:',
          '  app:',
          '    image: ${IMAGE_NAME}',
          '    command: ["true"]',
          '  sut:',
          '    build: .',
          '    depends_on: [app]',
          '    command: ["/bin/sh", "-c", "cat /hello.txt"]',
          '',
        ].join('\n'),
      },
    });
    const image = `${registry.host}/octo/same`;
    const { result, log } = await build(f, branchBuild(image, f.sha, ['edge']));
    expect(log.lines).toContain('same-image');
    // Compose built nothing (it says "Building sut" when it does).
    expect(log.lines.filter((l) => /^Building /.test(l))).toEqual([]);
    expect(log.lines).toContain(`autotest: service sut uses the built image ${image}:edge`);
    expect(result.pushed).toEqual([`${image}:edge`]);
    // Only the build's own tag stays; the name compose looked for was removed with the project.
    const tags = docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=*_sut`);
    expect(tags).toBe('');
    expect(composeLeftovers()).toEqual([]);
  });

  it('build environment variables reach hooks and sut and never appear in the log', async () => {
    const value = `env-value-${Math.random().toString(36).slice(2)}`;
    const f = fixture({
      content: 'env',
      files: {
        'docker-compose.test.yml': [
          'services:',
          '  sut:',
          '    build: .',
          '    environment: [API_KEY]',
          '    command: ["/bin/sh", "-c", "echo sut key=$$API_KEY; test -n \\"$$API_KEY\\""]',
          '',
        ].join('\n'),
      },
      hooks: { pre_build: '#!/bin/sh\necho "pre_build key=$API_KEY length=${#API_KEY}"\n' },
    });
    const image = `${registry.host}/octo/env`;
    const { log } = await build(f, branchBuild(image, f.sha, ['edge']), { env: { API_KEY: new Secret(value) } });
    expect(log.lines).toContain(`pre_build key=*** length=${value.length}`);
    expect(log.lines).toContain('sut key=***');
    expect(JSON.stringify(log)).not.toContain(value);
  });

  it('--no-test (a decision not to test) builds and pushes without running sut', async () => {
    const f = fixture({ content: 'untested', files: { 'docker-compose.test.yml': sutChecks('hello') } });
    const image = `${registry.host}/octo/untested`;
    const { log } = await build(f, branchBuild(image, f.sha, ['edge']), { autotest: { disabled: true } });
    expect(log.lines).toContain('autotest: tests skipped on request (--no-test / test: false)');
    expect(log.lines).not.toContain('sut saw untested');
    expect(await registryTags(image)).toEqual(['edge']);
  });

  it('a hooks/test replaces the compose run, and its failure is a test failure', async () => {
    const f = fixture({
      content: 'hooked',
      files: { 'docker-compose.test.yml': sutChecks('hooked') },
      hooks: { test: '#!/bin/sh\necho "custom test of $IMAGE_NAME"\nexit 4\n' },
    });
    const image = `${registry.host}/octo/hooked`;
    const log = collectingSink();
    const err = await rejection(
      runBuild({ build: branchBuild(image, f.sha, ['edge']), source: { cloneUrl: f.url, sha: f.sha }, workRoot, builder: 'docker', registries: {}, log }),
    );
    expect(err).toBeInstanceOf(TestsFailedError);
    expect(log.lines).toContain(`custom test of ${image}:edge`);
    expect(log.lines).not.toContain('sut saw hooked');
    expect(await registryTags(image)).toEqual([]);
  });

  it('a file without a service sut fails the build with one clear line', async () => {
    const f = fixture({ content: 'nosut', files: { 'unit.test.yml': 'services:\n  tests:\n    build: .\n' } });
    const err = await rejection(build(f, branchBuild(`${registry.host}/octo/nosut`, f.sha, ['edge'])));
    expect(err).toBeInstanceOf(TestsFailedError);
    expect((err as Error).message).toBe('unit.test.yml has no service named sut');
  });

  it('canceling during the tests stops sut and leaves no container, network or volume behind', async () => {
    const f = fixture({
      content: 'slow',
      files: {
        'docker-compose.test.yml': [
          'services:',
          '  sut:',
          '    build: .',
          '    volumes: [scratch:/data]',
          '    command: ["/bin/sh", "-c", "echo sut started; sleep 300"]',
          'volumes:',
          '  scratch: {}',
          '',
        ].join('\n'),
      },
    });
    const controller = new AbortController();
    const log = collectingSink();
    const sink = {
      ...log,
      line: (t: string) => {
        log.line(t);
        if (t === 'sut started') controller.abort();
      },
    };
    const started = Date.now();
    await rejection(
      runBuild({
        build: branchBuild(`${registry.host}/octo/slow`, f.sha, ['edge']),
        source: { cloneUrl: f.url, sha: f.sha },
        workRoot,
        builder: 'docker',
        registries: {},
        log: sink,
        signal: controller.signal,
      }),
    );
    expect(controller.signal.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(composeLeftovers()).toEqual([]);
  });
});

describe("a fork's pull request (untrusted) with autotest: external", () => {
  const prBuild = (image: string, sha: string): PlannedBuild => ({
    ...branchBuild(image, sha, ['pr-5']),
    ref: 'refs/pull/5/merge',
    push: false,
    trusted: false,
  });

  it('is tested, without env and without hooks, and pushes nothing', async () => {
    const f = fixture({
      content: 'fork',
      files: { 'docker-compose.test.yml': sutChecks('fork') },
      hooks: { pre_test: '#!/bin/sh\necho "pre_test ran"\n' },
    });
    const image = `${registry.host}/octo/fork`;
    const { log } = await build(f, prBuild(image, f.sha), { autotest: { mode: 'external' }, env: { API_KEY: new Secret('fork-must-not-see') } });
    expect(log.lines).toContain('sut saw fork');
    expect(log.lines).not.toContain('pre_test ran');
    expect(await registryTags(image)).toEqual([]);
  });

  it('may not mount the host into its test containers: one line names the key, nothing runs', async () => {
    const f = fixture({
      content: 'fork-escape',
      files: {
        'docker-compose.test.yml': 'services:\n  sut:\n    build: .\n    volumes: ["/:/host"]\n    command: ["/bin/sh", "-c", "echo escaped; ls /host"]\n',
      },
    });
    const log = collectingSink();
    const err = await rejection(
      runBuild({
        build: prBuild(`${registry.host}/octo/escape`, f.sha),
        source: { cloneUrl: f.url, sha: f.sha },
        workRoot,
        builder: 'docker',
        registries: {},
        log,
        autotest: { mode: 'external' },
      }),
    );
    expect(err.message).toMatch(
      /^docker-compose\.test\.yml: services\.sut\.volumes: "\/" is outside the repository — a fork's pull request is tested without access to the host/,
    );
    expect(log.lines).not.toContain('escaped');
    expect(composeLeftovers()).toEqual([]);
  });

  it('with autotest: internal is not tested at all', async () => {
    const f = fixture({ content: 'fork-internal', files: { 'docker-compose.test.yml': sutChecks('fork-internal') } });
    const { log } = await build(f, prBuild(`${registry.host}/octo/fork-internal`, f.sha));
    expect(log.lines).toContain(
      'autotest: pull request from a fork not tested: autotest is internal (set autotest: external to test forks, without env, secrets or registry logins)',
    );
    expect(log.lines).not.toContain('sut saw fork-internal');
  });
});

describe('Autotest with the buildah builder', () => {
  it('runs sut through the docker engine and pushes after it passed', async () => {
    const f = fixture({ content: 'buildah', files: { 'docker-compose.test.yml': sutChecks('buildah') } });
    const image = `${registry.host}/octo/buildah`;
    const { log } = await build(f, branchBuild(image, f.sha, ['edge']), { builder: 'buildah' });
    expect(log.lines).toContain('sut saw buildah');
    expect(await registryTags(image)).toEqual(['edge']);
    // The copy made for the tests left the engine with them.
    expect(docker('image', 'ls', '-q', `${image}:edge`)).toBe('');
    expect(composeLeftovers()).toEqual([]);
  });

  it('without a docker engine the build fails with one clear line and pushes nothing', async () => {
    // A PATH with the tools the build needs and no compose of any kind, and no engine at DOCKER_HOST.
    const bin = tempDir('autotest-bin');
    for (const tool of ['git', 'buildah', 'docker', 'sh', 'setpriv', 'unshare'])
      symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    mkdirSync(join(bin, 'empty'));
    const f = fixture({ content: 'noengine', files: { 'docker-compose.test.yml': sutChecks('noengine') } });
    process.env.PATH = bin;
    process.env.DOCKER_HOST = `unix://${join(bin, 'empty', 'no.sock')}`;
    try {
      const err = await rejection(build(f, branchBuild(`${registry.host}/octo/noengine`, f.sha, ['edge']), { builder: 'buildah' }));
      expect((err as Error).message).toBe(
        'autotest: builder buildah cannot run the *.test.yml files: no docker engine with Docker Compose answers at DOCKER_HOST — start a docker engine (set DOCKER_HOST) and install Docker Compose on the worker, or skip the tests (autotest, --no-test, test: false)',
      );
    } finally {
      process.env.PATH = originalPath;
      process.env.DOCKER_HOST = dockerd.host;
      rmSync(bin, { recursive: true, force: true });
    }
    expect(await registryTags(`${registry.host}/octo/noengine`)).toEqual([]);
  });
});

describe('autobuild build (the CLI)', () => {
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const res = spawnSync(process.execPath, ['bin/autobuild.js', ...args], {
      cwd: process.cwd(),
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: dockerd.host, ...env },
      timeout: 180_000,
    });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  };
  const checksKey = [
    'services:',
    '  sut:',
    '    build: .',
    '    environment: [API_KEY]',
    '    command: ["/bin/sh", "-c", "echo sut key=$${API_KEY:-none}; test -n \\"$$API_KEY\\""]',
    '',
  ].join('\n');

  it('--env reaches sut masked; without it sut fails and nothing is pushed; --no-test skips the test', async () => {
    const f = fixture({ content: 'cli-env', files: { 'docker-compose.test.yml': checksKey } });
    const image = `${registry.host}/octo/cli-env`;
    const value = `cli-secret-${Math.random().toString(36).slice(2)}`;

    const failed = cli(['build', f.dir, '--image', image, '--tag', 'one']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('sut key=none');
    expect(failed.stderr).toContain('tests failed: sut in docker-compose.test.yml exited with code 1');
    expect(await registryTags(image)).toEqual([]);

    const passed = cli(['build', f.dir, '--image', image, '--tag', 'two', '--env', 'API_KEY', '--json'], { API_KEY: value });
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toContain('sut key=***');
    expect(passed.stderr + passed.stdout).not.toContain(value);

    const skipped = cli(['build', f.dir, '--image', image, '--tag', 'three', '--no-test']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).not.toContain('sut key=');
    expect(await registryTags(image)).toEqual(['three', 'two']);
  });

  it('a bad --env is one line and exit 2', () => {
    const res = cli(['build', '.', '--image', `${registry.host}/octo/x`, '--tag', 'x', '--env', '1BAD=x']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(
      'autobuild: --env "1BAD" is not a variable name — write --env NAME=value (NAME: letters, digits and _, not starting with a digit)',
    );
  });
});
