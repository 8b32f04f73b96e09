// The whole pipeline on real engines: a private dockerd (vfs), CNCF registries, buildah, git.
// What a user would check afterwards: which tags the registry has, at which digest, in what
// order they appeared, and what the log and errors say.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink, type CollectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild, type BuildOptions, type BuildResult } from '../../src/pipeline/pipeline.js';
import { eventFromPayload, eventFromRef } from '../../src/core/events.js';
import { plan } from '../../src/core/plan.js';
import { Secret } from '../../src/core/secret.js';
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
import { pullRequestPayload } from '../support/webhook-payloads.js';
import { sleepers, sleepMark } from '../support/processes.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

let dockerd: Dockerd;
let open: Registry;
let locked: Registry;
let workRoot: string;
let buildahDir: string;
const fixtures: Fixture[] = [];
const password = `s3cret-${Math.random().toString(36).slice(2)}`;
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF');

beforeAll(async () => {
  [dockerd, open, locked] = await Promise.all([startDockerd(), startRegistry(), startRegistry({ username: 'bot', password })]);
  process.env.DOCKER_HOST = dockerd.host;
  workRoot = tempDir('work');
  // buildah keeps its images in a private store, not the machine's /var/lib/containers.
  const store = buildahStore();
  buildahDir = store.dir;
  process.env.CONTAINERS_STORAGE_CONF = store.conf;
});

afterAll(async () => {
  for (const f of fixtures) f.cleanup();
  restoreEnv();
  await Promise.all([dockerd?.stop(), open?.stop(), locked?.stop()]);
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
  if (buildahDir) rmSync(buildahDir, { recursive: true, force: true });
});

function fixture(opts: Parameters<typeof makeFixtureRepo>[0]): Fixture {
  const f = makeFixtureRepo(opts);
  fixtures.push(f);
  return f;
}

function repoConfig(images: string[]): RepositoryConfig {
  return repositoryConfig({ images });
}

/** The build `autobuild plan` would give for pushing `ref` at `sha`, before anything is in the registry. */
function planned(ref: string, sha: string, images: string[]): PlannedBuild {
  const p = plan({ event: eventFromRef({ ref, sha, repository: 'octo/app' }), repositories: { 'octo/app': repoConfig(images) }, existingTags: [] });
  expect(p.builds).toHaveLength(1);
  return p.builds[0]!;
}

/** A build with exactly these tags, as `autobuild build --tag` gives. */
function explicit(images: string[], tags: string[], ref = 'refs/heads/main', sha = '0'.repeat(40)): PlannedBuild {
  return {
    repository: 'octo/app',
    ref,
    sha,
    images,
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags,
    refs: tags.flatMap((t) => images.map((i) => `${i}:${t}`)),
    push: true,
    trusted: true,
    tagInfo: [],
  };
}

async function build(f: Fixture, b: PlannedBuild, extra: Partial<BuildOptions> = {}): Promise<{ result: BuildResult; log: CollectingSink }> {
  const log = collectingSink();
  const result = await runBuild({
    build: b,
    source: { cloneUrl: f.url, sha: f.sha },
    workRoot,
    builder: 'docker',
    registries: {},
    log,
    ...extra,
  });
  return { result, log };
}

const pushedOrder = (log: CollectingSink) => log.events.flatMap((e) => (e.type === 'pushed' ? [e.ref] : []));

async function registryTags(image: string, registries = {}): Promise<Record<string, string>> {
  return Object.fromEntries((await new RegistryClient(registries).tagDigests(image)).map((t) => [t.tag, t.digest]));
}

// The rows below build on each other, as releases of one image do: 2.0.0, then a 1.2.9 backport.
describe('semver releases', () => {
  let v2digest = '';

  it('a release pushes 2.0.0, 2.0, 2, then latest, all at the built digest', async () => {
    const f = fixture({ content: 'v2.0.0' });
    const image = `${open.host}/octo/app`;
    const { result, log } = await build(f, planned('refs/tags/v2.0.0', f.sha, [image]));
    expect(pushedOrder(log)).toEqual([`${image}:2.0.0`, `${image}:2.0`, `${image}:2`, `${image}:latest`]);
    expect(result.pushed).toEqual(pushedOrder(log));
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await registryTags(image)).toEqual({ '2.0.0': result.digest, '2.0': result.digest, '2': result.digest, latest: result.digest });
    v2digest = result.digest;
  });

  it('a backport pushed later gets 1.2.9, 1.2 and 1 while latest stays on 2.0.0', async () => {
    const f = fixture({ content: 'v1.2.9' });
    const image = `${open.host}/octo/app`;
    // Planned while the registry was still empty, so the plan itself still asks for latest.
    const b = planned('refs/tags/v1.2.9', f.sha, [image]);
    expect(b.tags).toContain('latest');
    const { result, log } = await build(f, b);
    expect(pushedOrder(log)).toEqual([`${image}:1.2.9`, `${image}:1.2`, `${image}:1`]);
    expect(result.held.map((h) => h.ref)).toEqual([`${image}:latest`]);
    expect(log.events).toContainEqual(expect.objectContaining({ type: 'held', ref: `${image}:latest` }));
    const tags = await registryTags(image);
    expect(result.digest).not.toBe(v2digest);
    expect(tags).toMatchObject({ '1.2.9': result.digest, '1.2': result.digest, '1': result.digest, latest: v2digest, '2': v2digest });
  });

  it('a prerelease pushes only its own tag', async () => {
    const f = fixture({ content: 'rc' });
    const image = `${open.host}/octo/app`;
    const { result, log } = await build(f, planned('refs/tags/v2.1.0-rc.1', f.sha, [image]));
    expect(pushedOrder(log)).toEqual([`${image}:2.1.0-rc.1`]);
    expect(await registryTags(image)).toMatchObject({ '2.1.0-rc.1': result.digest, latest: v2digest });
  });
});

describe('builders and registries', () => {
  it('buildah builds once, logs in, and pushes every tag at one digest', async () => {
    const f = fixture({ content: 'buildah' });
    const image = `${locked.host}/octo/buildah`;
    const registries = { [locked.host]: { username: 'bot', password: new Secret(password) } };
    const { result, log } = await build(f, explicit([image], ['1.0.0', 'stable', 'latest']), { builder: 'buildah', registries });
    expect(pushedOrder(log)).toEqual([`${image}:1.0.0`, `${image}:stable`, `${image}:latest`]);
    expect(await registryTags(image, registries)).toEqual({ '1.0.0': result.digest, stable: result.digest, latest: result.digest });
    expect(JSON.stringify([log.lines, log.events])).not.toContain(password);
  });

  it('two images on two registries: every tag to each, immutable first, latest last, one digest', async () => {
    const f = fixture({ content: 'two-images' });
    const a = `${open.host}/octo/twin`;
    const b = `${locked.host}/octo/twin`;
    const registries = { [locked.host]: { username: 'bot', password: new Secret(password) } };
    const { result, log } = await build(f, planned('refs/tags/v1.0.0', f.sha, [a, b]), { registries });
    expect(pushedOrder(log)).toEqual([`${a}:1.0.0`, `${b}:1.0.0`, `${a}:1.0`, `${b}:1.0`, `${a}:1`, `${b}:1`, `${a}:latest`, `${b}:latest`]);
    const expected = { '1.0.0': result.digest, '1.0': result.digest, '1': result.digest, latest: result.digest };
    expect(await registryTags(a)).toEqual(expected);
    expect(await registryTags(b, registries)).toEqual(expected);
  });

  it('a registry with a password: pushed, and the password is in no argv and no output', async () => {
    const f = fixture({ content: 'auth' });
    const image = `${locked.host}/octo/private`;
    const registries = { [locked.host]: { username: 'bot', password: new Secret(password) } };
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          try {
            const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
            if (cmd) seen.add(cmd);
          } catch {
            // The process ended between listing and reading.
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    let out: Awaited<ReturnType<typeof build>>;
    try {
      out = await build(f, explicit([image], ['1.0.0', 'latest']), { registries });
    } finally {
      sampling = false;
      await sampler;
    }
    expect(await registryTags(image, registries)).toEqual({ '1.0.0': out.result.digest, latest: out.result.digest });
    expect([...seen].some((c) => c.includes('docker\0login') || c.includes('docker\0push'))).toBe(true);
    expect([...seen].filter((c) => c.includes(password))).toEqual([]);
    expect(JSON.stringify([out.log.lines, out.log.events, out.result])).not.toContain(password);
    // Nothing of the private login is left behind in the work directory.
    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('wrong credentials fail at once with the config key to fix and no password', async () => {
    const f = fixture({ content: 'auth-wrong' });
    const wrong = new Secret('not-the-password');
    const err = await rejection(
      build(f, explicit([`${locked.host}/octo/private`], ['2.0.0']), { registries: { [locked.host]: { username: 'bot', password: wrong } } }),
    );
    expect(err.transient).toBe(false);
    expect(err.message).toContain(`registries.${locked.host}.password`);
    expect(JSON.stringify([err.message, err.tail])).not.toContain('not-the-password');
  });

  it('a registry failing the first manifest uploads ends with every tag at the right digest', async () => {
    const proxy = await startFlakyProxy(open.host, 2);
    try {
      const f = fixture({ content: 'flaky' });
      const image = `${proxy.host}/octo/flaky`;
      const { result, log } = await build(f, explicit([image], ['1.0.0', '1.0', 'latest']));
      expect(proxy.answered()).toBe(2);
      expect(log.events.filter((e) => e.type === 'retry').length).toBeGreaterThan(0);
      expect(pushedOrder(log)).toEqual([`${image}:1.0.0`, `${image}:1.0`, `${image}:latest`]);
      expect(await registryTags(`${open.host}/octo/flaky`)).toEqual({ '1.0.0': result.digest, '1.0': result.digest, latest: result.digest });
    } finally {
      await proxy.stop();
    }
  });
});

describe('failures and hooks', () => {
  it('a failing Dockerfile gives a BuildError with its last output lines', async () => {
    const f = fixture({ dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo about-to-fail; exit 3"]\n' });
    const err = await rejection(build(f, explicit([`${open.host}/octo/broken`], ['1'])));
    expect(err.message).toContain('docker build');
    expect(err.tail.join('\n')).toContain('about-to-fail');
    expect(await registryTags(`${open.host}/octo/broken`)).toEqual({});
  });

  it('a commit that is not in the repository is a clear error', async () => {
    const f = fixture({ content: 'missing' });
    const err = await rejection(
      runBuild({
        build: explicit([`${open.host}/octo/x`], ['1']),
        source: { cloneUrl: f.url, sha: 'f'.repeat(40) },
        workRoot,
        builder: 'docker',
        registries: {},
        log: collectingSink(),
      }),
    );
    expect(err.message).toContain(`commit ${'f'.repeat(40)} is not in ${f.url}`);
  });

  it('an unreachable repository is a clear error', async () => {
    const err = await rejection(
      runBuild({
        build: explicit([`${open.host}/octo/x`], ['1']),
        source: { cloneUrl: `file://${workRoot}/no-such-repo`, sha: 'a'.repeat(40) },
        workRoot,
        builder: 'docker',
        registries: {},
        log: collectingSink(),
      }),
    );
    expect(err.message).toContain(`cannot fetch file://${workRoot}/no-such-repo`);
  });

  it('cancelling stops the build at once and kills what its hooks started', async () => {
    const marker = sleepMark();
    const f = fixture({ content: 'cancel', hooks: { pre_build: `#!/bin/sh\nsleep ${marker} &\nsleep ${marker}\n` } });
    const controller = new AbortController();
    const log = collectingSink();
    const started = Date.now();
    const running = runBuild({
      build: explicit([`${open.host}/octo/cancel`], ['1']),
      source: { cloneUrl: f.url, sha: f.sha },
      workRoot,
      builder: 'docker',
      registries: {},
      log,
      signal: controller.signal,
    });
    const sleeping = () => sleepers(marker).length > 0;
    while (!sleeping()) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const err = await rejection(running);
    expect(err.message).toContain('canceled');
    expect(Date.now() - started).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(sleeping()).toBe(false);
  });

  it("hooks run at their steps with Docker Hub's variables (build and push hooks replace those steps), and shell syntax stays text", async () => {
    const marker = `/tmp/pwned-${Math.random().toString(36).slice(2)}`;
    const evil = `$(touch ${marker}) \`touch ${marker}\`; rm -rf ${marker}-dir`;
    const branch = `feat/$(touch${'${IFS}'}${marker})\`touch${'${IFS}'}${marker}\`;rm`;
    const echo = (name: string) =>
      `#!/bin/sh\necho "${name}: SOURCE_BRANCH=$SOURCE_BRANCH|SOURCE_COMMIT=$SOURCE_COMMIT|COMMIT_MSG=$COMMIT_MSG|DOCKER_REPO=$DOCKER_REPO|DOCKERFILE_PATH=$DOCKERFILE_PATH|DOCKER_TAG=$DOCKER_TAG|IMAGE_NAME=$IMAGE_NAME"\n`;
    const f = fixture({
      content: 'hooks',
      commitMessage: evil,
      branch: 'main',
      hooks: {
        post_checkout: echo('post_checkout'),
        pre_build: echo('pre_build'),
        // A build hook replaces the build; it must produce $IMAGE_NAME.
        build: '#!/bin/sh\nset -e\necho "custom build of $IMAGE_NAME"\ndocker build -q -f "$DOCKERFILE_PATH" -t "$IMAGE_NAME" .\n',
        post_build: echo('post_build'),
        pre_push: echo('pre_push'),
        // A push hook replaces pushing; autobuild then checks what it left in the registry.
        push: '#!/bin/sh\nset -e\ndocker push -q "$IMAGE_NAME"\ndocker tag "$IMAGE_NAME" "$DOCKER_REPO:latest"\ndocker push -q "$DOCKER_REPO:latest"\n',
        post_push: echo('post_push'),
      },
    });
    const image = `${open.host}/octo/hooks`;
    const b = explicit([image], ['feat-x', 'latest'], `refs/heads/${branch}`, f.sha);
    const { result, log } = await build(f, b);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(`${marker}-dir`)).toBe(false);
    const expected = `SOURCE_BRANCH=${branch}|SOURCE_COMMIT=${f.sha}|COMMIT_MSG=${evil}|DOCKER_REPO=${image}|DOCKERFILE_PATH=Dockerfile|DOCKER_TAG=feat-x|IMAGE_NAME=${image}:feat-x`;
    for (const hook of ['post_checkout', 'pre_build', 'post_build', 'pre_push', 'post_push']) {
      expect(log.lines).toContain(`${hook}: ${expected}`);
    }
    expect(log.lines).toContain(`custom build of ${image}:feat-x`);
    // Steps in Docker Hub's order, each hook inside its own step.
    const steps = log.events.flatMap((e) => (e.type === 'step-started' ? [e.step] : []));
    expect(steps).toEqual([
      'checkout',
      'hook:post_checkout',
      'hook:pre_build',
      'build',
      'hook:post_build',
      'hook:pre_push',
      'push',
      'hook:post_push',
      'verify',
    ]);
    expect(result.pushed).toEqual([`${image}:feat-x`, `${image}:latest`]);
    expect(await registryTags(image)).toEqual({ 'feat-x': result.digest, latest: result.digest });
  });

  it('a hook without the executable bit runs through /bin/sh, and a failing one stops the build', async () => {
    const f = fixture({
      content: 'hook-fail',
      hooksNotExecutable: true,
      hooks: { pre_build: 'echo "checking $DOCKER_TAG"\necho "lint failed" >&2\nexit 4\n' },
    });
    const err = await rejection(build(f, explicit([`${open.host}/octo/hookfail`], ['1.0'])));
    expect(err.message).toContain('hooks/pre_build');
    expect(err.message).toContain('exit code 4');
    expect(err.tail).toEqual(['checking 1.0', 'lint failed']);
  });

  it('--no-push builds without touching the registry', async () => {
    const f = fixture({ content: 'nopush' });
    const image = `${open.host}/octo/nopush`;
    const { result } = await build(f, { ...explicit([image], ['1']), push: false });
    expect(result.pushed).toEqual([]);
    expect(result.imageId).toMatch(/^sha256:/);
    expect(await registryTags(image)).toEqual({});
  });
});

describe('trust (README "Security model")', () => {
  /** The build `plan` gives for pull request #5 of octo/app whose head lives in `headRepository`. */
  function pullRequestBuild(f: Fixture, image: string, headRepository: string): PlannedBuild {
    const payload = pullRequestPayload({ number: 5, repository: 'octo/app', headRepository });
    payload.pull_request.base.repo.full_name = 'octo/app';
    payload.pull_request.head.sha = f.sha;
    const p = plan({ event: eventFromPayload('pull_request', payload), repositories: { 'octo/app': repoConfig([image]) } });
    expect(p.builds).toHaveLength(1);
    return p.builds[0]!;
  }

  it("a fork's pull request is built with no login, no hooks, and nothing pushed", async () => {
    const marker = join(workRoot, `fork-hook-ran-${Math.random().toString(36).slice(2)}`);
    const hook = `#!/bin/sh\ntouch ${marker}\ncat "$DOCKER_CONFIG/config.json"\n`;
    const f = fixture({ content: 'fork-pr', hooks: { post_checkout: hook, pre_build: hook, build: hook, post_build: hook, pre_push: hook, push: hook } });
    const image = `${locked.host}/octo/forkpr`;
    // A wrong password: a build that logged in would fail at once, so success proves no login.
    const registries = { [locked.host]: { username: 'bot', password: new Secret(`not-${password}`) } };
    const b = pullRequestBuild(f, image, 'mallory/app');
    expect(b).toMatchObject({ trusted: false, push: false, tags: ['pr-5'] });
    const { result, log } = await build(f, { ...b, push: true }, { registries });
    expect(existsSync(marker)).toBe(false);
    expect(log.events.flatMap((e) => (e.type === 'step-started' ? [e.step] : []))).toEqual(['checkout', 'build']);
    expect(log.lines).toContain('autobuild: untrusted source (a pull request from a fork): no registry login, no hooks, nothing is pushed');
    expect(result.imageId).toMatch(/^sha256:/);
    expect(result.pushed).toEqual([]);
    expect(await registryTags(image, { [locked.host]: { username: 'bot', password: new Secret(password) } })).toEqual({});
  });

  it('a pull request from a branch of the same repository runs its hooks and logs in, and still pushes nothing', async () => {
    // The hook sees its own build's login (Docker Hub hooks push with it), printed only masked.
    const f = fixture({ content: 'same-repo-pr', hooks: { pre_build: '#!/bin/sh\necho "pre_build of $DOCKER_TAG"\ncat "$DOCKER_CONFIG/config.json"\n' } });
    const image = `${locked.host}/octo/samepr`;
    const b = pullRequestBuild(f, image, 'octo/app');
    expect(b).toMatchObject({ trusted: true, push: false });
    const wrong = { [locked.host]: { username: 'bot', password: new Secret(`not-${password}`) } };
    // Trusted: it logs in, so a wrong password fails the build before anything runs.
    expect((await rejection(build(f, b, { registries: wrong }))).message).toContain(`registries.${locked.host}.password`);
    const { result, log } = await build(f, b, { registries: { [locked.host]: { username: 'bot', password: new Secret(password) } } });
    expect(log.lines).toContain('pre_build of pr-5');
    const printed = log.lines.join('\n');
    expect(printed).toMatch(/"auth": "\*\*\*"/);
    expect(printed).not.toContain(Buffer.from(`bot:${password}`).toString('base64'));
    expect(result.pushed).toEqual([]);
  });
});

describe('hooks run in a sandbox', () => {
  it("buildah runs a Dockerfile's RUN steps where they can neither see nor signal the service's processes", async () => {
    const dockerfile = [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      `RUN echo "processes $(ls /proc | grep -c '^[0-9]')"; kill -0 ${process.pid} 2>/dev/null && echo "can signal the service" || echo "cannot signal the service"`,
      '',
    ].join('\n');
    const f = fixture({ dockerfile });
    const { log } = await build(f, { ...explicit([`${open.host}/octo/buildah-pidns`], ['1']), push: false }, { builder: 'buildah' });
    expect(log.lines).toContain('cannot signal the service');
    const count = Number(log.lines.find((l) => l.startsWith('processes '))?.slice('processes '.length));
    expect(count).toBeLessThan(10);
  });

  it('cancelling a build (as cancel, timeoutMinutes and SIGTERM do) kills a hook whose detached child holds its output', async () => {
    const [a, b] = [sleepMark(), sleepMark()];
    const f = fixture({ content: 'cancel-detached', hooks: { pre_build: `#!/bin/sh\nsetsid sleep ${a} &\n( ( sleep ${b} & ) & )\nsleep ${b}\n` } });
    const controller = new AbortController();
    const running = runBuild({
      build: explicit([`${open.host}/octo/cancel-detached`], ['1']),
      source: { cloneUrl: f.url, sha: f.sha },
      workRoot,
      builder: 'docker',
      registries: {},
      log: collectingSink(),
      signal: controller.signal,
    });
    while (sleepers(a).length === 0 || sleepers(b).length < 2) await new Promise((r) => setTimeout(r, 50));
    const aborted = Date.now();
    controller.abort();
    expect((await rejection(running)).message).toContain('canceled');
    expect(Date.now() - aborted).toBeLessThan(5_000);
    expect(sleepers(a)).toEqual([]);
    expect(sleepers(b)).toEqual([]);
  });

  it("a hook reads none of the service's secrets, and what it detaches dies when it exits", async () => {
    const serviceSecret = `env-secret-${Math.random().toString(36).slice(2)}`;
    const etc = tempDir('etc');
    const dataDir = tempDir('data');
    const config = join(etc, 'autobuild.yml');
    writeFileSync(config, `webhookSecret: ${serviceSecret}-config\n`, { mode: 0o644 });
    writeFileSync(join(dataDir, 'api-token'), `${serviceSecret}-token\n`, { mode: 0o644 });
    const [a, b] = [sleepMark(), sleepMark()];
    const f = fixture({
      content: 'sandboxed-hook',
      hooks: {
        pre_build:
          [
            '#!/bin/sh',
            `cat /proc/$PPID/environ; cat /proc/${process.pid}/environ; for e in /proc/[0-9]*/environ; do cat "$e"; done; echo`,
            `cat ${config}; cat ${dataDir}/api-token; ls ${dataDir}`,
            'echo "uid $(id -u)"',
            `setsid sleep ${a} &`,
            `( ( sleep ${b} & ) & )`,
            'echo pre_build-done',
          ].join('\n') + '\n',
      },
    });
    process.env.AUTOBUILD_TEST_SERVICE_SECRET = serviceSecret;
    try {
      const image = `${open.host}/octo/sandboxed`;
      const { log } = await build(f, explicit([image], ['1']), { hideFromHooks: [config, dataDir] });
      const output = JSON.stringify([log.lines, log.events]);
      expect(output).not.toContain(serviceSecret);
      expect(log.lines).toContain('pre_build-done');
      expect(log.lines).not.toContain('uid 0');
      const finished = log.events.find((e) => e.type === 'step-finished' && e.step === 'hook:pre_build');
      expect(finished && 'ms' in finished ? finished.ms : Infinity).toBeLessThan(5_000);
      expect(sleepers(a)).toEqual([]);
      expect(sleepers(b)).toEqual([]);
    } finally {
      delete process.env.AUTOBUILD_TEST_SERVICE_SECRET;
      rmSync(etc, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the autobuild binary', () => {
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const res = spawnSync(process.execPath, ['bin/autobuild.js', ...args], {
      cwd: process.cwd(),
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: dockerd.host, ...env },
      timeout: 120_000,
    });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  };
  let configFile = '';

  beforeAll(() => {
    // The binary runs build/, compiled once for every file by test/support/global-setup.ts.
    configFile = join(workRoot, '..', `autobuild-cli-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(configFile, `registries:\n  "${locked.host}": {username: bot, password: "\${TEST_REGISTRY_PASSWORD}"}\n`);
  });
  afterAll(() => rmSync(configFile, { force: true }));

  it('build --json pushes the release tags and prints the result document; tags --json agrees', async () => {
    const f = fixture({ content: 'cli' });
    const image = `${locked.host}/octo/cli`;
    const env = { TEST_REGISTRY_PASSWORD: password };
    const built = cli(['build', f.dir, '--image', image, '--ref', 'refs/tags/v3.1.0', '--sha', f.sha, '--config', configFile, '--json'], env);
    expect(built.stderr).not.toContain(password);
    expect(built.code, built.stderr).toBe(0);
    const doc = JSON.parse(built.stdout) as BuildResult;
    const refs = ['3.1.0', '3.1', '3', 'latest'].map((t) => `${image}:${t}`);
    expect(doc).toMatchObject({ images: [image], tags: ['3.1.0', '3.1', '3', 'latest'], refs, pushed: refs });
    expect(doc.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.stderr).toContain(`pushed ${image}:latest@${doc.digest}`);

    const listed = cli(['tags', image, '--config', configFile, '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ image, tags: ['3', '3.1', '3.1.0', 'latest'].map((tag) => ({ tag, digest: doc.digest })) });
  });

  it('without credentials the tags command fails naming the config key', () => {
    const res = cli(['tags', `${locked.host}/octo/cli`, '--json', '--config', configFile], { TEST_REGISTRY_PASSWORD: '' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`registries.${locked.host}.password`);
  });

  it('--image takes several names and DIR may follow them; --no-push builds only', () => {
    const f = fixture({ content: 'cli-no-push' });
    const res = cli(['build', '--image', `${open.host}/octo/a`, `${open.host}/octo/b`, f.dir, '--tag', 'x', '--no-push', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ images: [`${open.host}/octo/a`, `${open.host}/octo/b`], tags: ['x'], pushed: [], digest: '' });
  });

  it('a missing Dockerfile is one line on stderr and exit 2', () => {
    const res = cli(['build', workRoot, '--image', `${open.host}/octo/a`, '--tag', 'x']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^autobuild: no Dockerfile at .*Dockerfile — run in the directory holding the Dockerfile, or give DIR or --file\n$/);
  });

  it('a malformed flag is one line on stderr and exit 2', () => {
    const res = cli(['build', '.', '--image', 'Not A Name', '--tag', 'x']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('Not A Name');
  });
});

describe('two builds of one branch on one engine', () => {
  it('each pushes exactly the image it built, even when the other points the shared name at its own image mid-build', async () => {
    const image = `${open.host}/octo/shared-name`;
    const ref = `${image}:edge`;
    const env = { ...process.env, DOCKER_HOST: dockerd.host };
    // The other build's image, which that build tags with the same local name.
    const other = fixture({ content: 'the other build' });
    spawnSync('docker', ['build', '-q', '-t', 'other-build:1', other.dir], { env, stdio: 'ignore' });
    const f = fixture({ content: 'this build' });
    const log = collectingSink();
    let interfered = false;
    const result = await runBuild({
      build: explicit([image], ['edge'], 'refs/heads/main', f.sha),
      source: { cloneUrl: f.url, sha: f.sha },
      workRoot,
      builder: 'docker',
      registries: {},
      log: {
        line: (t) => log.line(t),
        event: (e) => {
          log.event(e);
          // The moment this build is about to push, the other one finishes and takes the name.
          if (!interfered && e.type === 'step-started' && e.step === 'push') {
            interfered = spawnSync('docker', ['tag', 'other-build:1', ref], { env }).status === 0;
          }
        },
      },
    });
    expect(interfered).toBe(true);
    const pushed = await new RegistryClient({}).getManifest(`${image}@${result.digest}`);
    const config = (JSON.parse(Buffer.from(pushed!.bytes).toString('utf8')) as { config: { digest: string } }).config.digest;
    expect(config).toBe(result.imageId);
    expect((await registryTags(image))['edge']).toBe(result.digest);
  });
});
