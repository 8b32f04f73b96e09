// Pull-through mirrors for FROM pulls: a CNCF registry in proxy mode in front of the registry
// holding the base image. A buildah build with `mirrors` pulls its base through the mirror (the
// mirror's log shows the pulls); a docker build says in its log that it cannot use them.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { runBuild } from '../../src/pipeline/pipeline.js';
import { Secret } from '../../src/core/secret.js';
import type { PlannedBuild } from '../../src/core/types.js';
import {
  buildahStore,
  freePort,
  keepEnv,
  makeFixtureRepo,
  startDockerd,
  startRegistry,
  tempDir,
  type Dockerd,
  type Fixture,
  type Registry,
} from '../support/engines.js';

let upstream: Registry;
let locked: Registry;
const password = `pw-${Math.random().toString(36).slice(2)}`;
let target: Registry;
let dockerd: Dockerd;
let mirrorDir: string;
let mirror: ChildProcess | undefined;
let mirrorHost: string;
let workRoot: string;
const stores: string[] = [];
const fixtures: Fixture[] = [];
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF');

/** A fresh buildah store, as a second worker machine would have; removed after the file. */
function freshStore(): string {
  const { conf, dir } = buildahStore();
  stores.push(dir);
  return conf;
}

beforeAll(async () => {
  [upstream, target, dockerd, locked] = await Promise.all([startRegistry(), startRegistry(), startDockerd(), startRegistry({ username: 'bot', password })]);
  workRoot = tempDir('work');
  // The base image lives only upstream.
  const base = makeFixtureRepo({ dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nLABEL base=yes\n' });
  fixtures.push(base);
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: freshStore() };
  execFileSync('buildah', ['--storage-driver', 'vfs', 'bud', '--isolation', 'chroot', '-t', 'localhost/base:1', base.dir], { env, stdio: 'ignore' });
  execFileSync('buildah', ['--storage-driver', 'vfs', 'push', '--tls-verify=false', 'localhost/base:1', `docker://${upstream.host}/library/base:1`], {
    env,
    stdio: 'ignore',
  });
  // Set-up only: the password on this one command's argv, never during a build.
  execFileSync(
    'buildah',
    ['--storage-driver', 'vfs', 'push', '--tls-verify=false', '--creds', `bot:${password}`, 'localhost/base:1', `docker://${locked.host}/private/base:1`],
    { env, stdio: 'ignore' },
  );

  // The mirror: distribution in proxy mode, logging every request it serves.
  mirrorDir = tempDir('mirror');
  const port = await freePort();
  mirrorHost = `127.0.0.1:${port}`;
  writeFileSync(
    join(mirrorDir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: false}}',
      `storage: {filesystem: {rootdirectory: ${join(mirrorDir, 'data')}}}`,
      `http: {addr: ${mirrorHost}}`,
      `proxy: {remoteurl: "http://${upstream.host}"}`,
      '',
    ].join('\n'),
  );
  const fd = openSync(join(mirrorDir, 'mirror.log'), 'a');
  mirror = spawn('docker-registry', ['serve', join(mirrorDir, 'config.yml')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`http://${mirrorHost}/v2/`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  for (const f of fixtures) f.cleanup();
  restoreEnv();
  if (mirror && mirror.exitCode === null) {
    const exited = new Promise((r) => mirror!.once('exit', r));
    mirror.kill('SIGTERM');
    await exited;
  }
  await Promise.all([upstream?.stop(), target?.stop(), dockerd?.stop(), locked?.stop()]);
  for (const d of [workRoot, mirrorDir, ...stores]) if (d) rmSync(d, { recursive: true, force: true });
});

function planned(image: string, sha: string): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: 'refs/tags/v1.0.0',
    sha,
    images: [image],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags: ['1.0.0'],
    refs: [`${image}:1.0.0`],
    push: true,
    tagInfo: [],
    trusted: true,
  };
}

describe('mirrors', () => {
  it('buildah pulls the FROM image through the mirror configured for its registry', async () => {
    process.env.CONTAINERS_STORAGE_CONF = freshStore();
    const f = makeFixtureRepo({ dockerfile: `FROM ${upstream.host}/library/base:1\nLABEL app=yes\n` });
    fixtures.push(f);
    const log = collectingSink();
    const image = `${target.host}/octo/mirrored`;
    const result = await runBuild({
      build: planned(image, f.sha),
      source: { cloneUrl: f.url, sha: f.sha },
      workRoot,
      builder: 'buildah',
      registries: {},
      log,
      mirrors: { [upstream.host]: [`http://${mirrorHost}`] },
    });
    expect(result.pushed).toEqual([`${image}:1.0.0`]);
    expect(log.lines.join('\n')).toContain(`mirrors: FROM pulls from ${upstream.host} go through http://${mirrorHost} first`);
    const mirrorLog = readFileSync(join(mirrorDir, 'mirror.log'), 'utf8');
    expect(mirrorLog).toMatch(/GET \/v2\/library\/base\/manifests\/1/);
    expect(mirrorLog).toMatch(/GET \/v2\/library\/base\/blobs\/sha256:/);
  });

  for (const builder of ['docker', 'buildah'] as const) {
    it(`${builder}: credentials under registries.<host> let FROM pull a private base image`, async () => {
      if (builder === 'docker') process.env.DOCKER_HOST = dockerd.host;
      else process.env.CONTAINERS_STORAGE_CONF = freshStore();
      const f = makeFixtureRepo({ dockerfile: `FROM ${locked.host}/private/base:1\nLABEL app=private-base\n` });
      fixtures.push(f);
      const image = `${target.host}/octo/private-base-${builder}`;
      const log = collectingSink();
      const result = await runBuild({
        build: planned(image, f.sha),
        source: { cloneUrl: f.url, sha: f.sha },
        workRoot,
        builder,
        log,
        registries: { [locked.host]: { username: 'bot', password: new Secret(password) } },
      });
      expect(result.pushed).toEqual([`${image}:1.0.0`]);
      expect(JSON.stringify(log.lines)).not.toContain(password);
    });
  }

  it('a docker build with mirrors set says in its log that the daemon does not use them', async () => {
    process.env.DOCKER_HOST = dockerd.host;
    const f = makeFixtureRepo({ dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\n' });
    fixtures.push(f);
    const log = collectingSink();
    await runBuild({
      build: planned(`${target.host}/octo/docker-mirrors`, f.sha),
      source: { cloneUrl: f.url, sha: f.sha },
      workRoot,
      builder: 'docker',
      registries: {},
      log,
      mirrors: { 'docker.io': ['https://mirror.example.com'] },
    });
    expect(log.lines.join('\n')).toContain(
      'mirrors: configured for docker.io, but the docker builder pulls through its daemon, which reads only its own registry-mirrors (daemon.json, for docker.io)',
    );
  });
});
