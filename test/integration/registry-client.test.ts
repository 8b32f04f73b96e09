// The registry client against a real CNCF registry (open, htpasswd, token auth in front, and a
// 503-injecting proxy), with an image pushed by a real dockerd.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, parseChallenge } from '../../src/adapters/registry-client.js';
import { Secret } from '../../src/core/secret.js';
import {
  dockerBuildAndPush,
  makeFixtureRepo,
  startDockerd,
  startFlakyProxy,
  startRegistry,
  startTokenAuthProxy,
  tempDir,
  type Dockerd,
  type Fixture,
  type Registry,
} from '../support/engines.js';
import { rmSync } from 'node:fs';
import { rejection } from '../support/expect-failure.js';

let dockerd: Dockerd;
let open: Registry;
let locked: Registry;
let fixture: Fixture;
let digest: string;
const password = `pw-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  [dockerd, open, locked] = await Promise.all([startDockerd(), startRegistry(), startRegistry({ username: 'bot', password })]);
  fixture = makeFixtureRepo({ content: 'registry-client' });
  dockerBuildAndPush(dockerd.host, fixture.dir, [`${open.host}/alice/app:1.0.0`, `${open.host}/alice/app:latest`]);
  const env = { ...process.env, DOCKER_HOST: dockerd.host };
  digest = execFileSync('docker', ['inspect', '--format', '{{index .RepoDigests 0}}', `${open.host}/alice/app:1.0.0`], { env, encoding: 'utf8' })
    .trim()
    .split('@')[1]!;
  // The same image, pushed once into the htpasswd registry through a private docker login.
  const config = tempDir('docker-config');
  execFileSync('docker', ['login', locked.host, '-u', 'bot', '--password-stdin'], {
    env: { ...env, DOCKER_CONFIG: config },
    input: password,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  execFileSync('docker', ['tag', `${open.host}/alice/app:1.0.0`, `${locked.host}/alice/app:1.0.0`], { env });
  execFileSync('docker', ['push', '-q', `${locked.host}/alice/app:1.0.0`], { env: { ...env, DOCKER_CONFIG: config }, stdio: 'ignore' });
  rmSync(config, { recursive: true, force: true });
});

afterAll(async () => {
  fixture?.cleanup();
  await Promise.all([dockerd?.stop(), open?.stop(), locked?.stop()]);
});

describe('reading an open registry', () => {
  it('lists the tags docker pushed, each with the digest docker reported', async () => {
    const client = new RegistryClient();
    expect(await client.tagDigests(`${open.host}/alice/app`)).toEqual([
      { tag: '1.0.0', digest },
      { tag: 'latest', digest },
    ]);
  });

  it('an image never pushed has no tags rather than an error', async () => {
    expect(await new RegistryClient().listTags(`${open.host}/alice/never-pushed`)).toEqual([]);
  });

  it('a tag that does not exist has no manifest', async () => {
    expect(await new RegistryClient().headManifest(`${open.host}/alice/app:9.9.9`)).toBeUndefined();
  });

  it('GET gives the exact manifest bytes whose hash is the digest', async () => {
    const m = await new RegistryClient().getManifest(`${open.host}/alice/app:1.0.0`);
    const { createHash } = await import('node:crypto');
    expect(m?.digest).toBe(digest);
    expect(`sha256:${createHash('sha256').update(m!.bytes).digest('hex')}`).toBe(digest);
    expect(m?.mediaType).toMatch(/manifest/);
  });
});

describe('adding tags without re-uploading', () => {
  it('a tag added by putting the manifest again points at the same digest', async () => {
    const client = new RegistryClient();
    const m = (await client.getManifest(`${open.host}/alice/app:1.0.0`))!;
    expect(await client.putManifest(`${open.host}/alice/app:1.0`, m.bytes, m.mediaType)).toBe(digest);
    expect((await client.headManifest(`${open.host}/alice/app:1.0`))?.digest).toBe(digest);
  });

  it("many tags are all listed, following the registry's pagination", async () => {
    const client = new RegistryClient({}, { pageSize: 2 });
    const m = (await client.getManifest(`${open.host}/alice/app:1.0.0`))!;
    const extra = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const t of extra) await client.putManifest(`${open.host}/alice/app:${t}`, m.bytes, m.mediaType);
    expect((await client.listTags(`${open.host}/alice/app`)).sort()).toEqual(['1.0', '1.0.0', 'latest', ...extra]);
  });
});

describe('authentication', () => {
  const cases: { name: string; auth?: { username: string; password: Secret }; ok: boolean }[] = [
    { name: 'the right Basic credentials read the tags', auth: { username: 'bot', password: new Secret(password) }, ok: true },
    { name: 'no credentials: a clear error naming the config keys', ok: false },
    { name: 'a wrong password: a clear error, not retried as transient', auth: { username: 'bot', password: new Secret('wrong-password') }, ok: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const client = new RegistryClient(c.auth ? { [locked.host]: c.auth } : {});
      if (c.ok) {
        expect(await client.tagDigests(`${locked.host}/alice/app`)).toEqual([{ tag: '1.0.0', digest }]);
        return;
      }
      const err = await rejection(client.listTags(`${locked.host}/alice/app`));
      expect(err.transient).toBe(false);
      expect(err.message).toContain(`registries.${locked.host}.password`);
      expect(err.message).toContain('401');
      expect(err.message).not.toContain(password);
    });
  }

  it('Bearer token auth: one token per scope, fetched with the configured credentials', async () => {
    const front = await startTokenAuthProxy(open.host, 'bot', password);
    try {
      const client = new RegistryClient({ [front.host]: { username: 'bot', password: new Secret(password) } });
      const direct = await new RegistryClient().tagDigests(`${open.host}/alice/app`);
      expect(direct.length).toBeGreaterThan(1);
      expect(await client.tagDigests(`${front.host}/alice/app`)).toEqual(direct);
      // The token is cached: one token request for all the reads of one repository.
      expect(front.tokenRequests).toEqual(['repository:alice/app:pull']);
      const denied = await rejection(new RegistryClient().listTags(`${front.host}/alice/app`));
      expect(denied.message).toContain(`registries.${front.host}.password`);
    } finally {
      await front.stop();
    }
  });
});

describe('registry failures', () => {
  it('a few 503 answers while reading are retried and then succeed', async () => {
    const proxy = await startFlakyProxy(open.host, 2, (m, u) => u.includes('/tags/list'));
    try {
      expect(await new RegistryClient().listTags(`${proxy.host}/alice/app`)).toContain('1.0.0');
      expect(proxy.answered()).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('a registry that keeps answering 503 fails as transient, naming the registry', async () => {
    const proxy = await startFlakyProxy(open.host, 100, (m, u) => u.includes('/tags/list'));
    try {
      const err = await rejection(new RegistryClient().listTags(`${proxy.host}/alice/app`));
      expect(err.transient).toBe(true);
      expect(err.message).toContain(`registry ${proxy.host}`);
      expect(err.message).toContain('503');
    } finally {
      await proxy.stop();
    }
  });

  it('an unreachable registry fails as transient', async () => {
    const proxy = await startFlakyProxy(open.host, 0);
    const host = proxy.host;
    await proxy.stop();
    const err = await rejection(new RegistryClient().listTags(`${host}/alice/app`));
    expect(err.transient).toBe(true);
    expect(err.message).toContain(`cannot reach registry ${host}`);
  });
});

describe('challenge parsing', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' },
    });
  });
});
