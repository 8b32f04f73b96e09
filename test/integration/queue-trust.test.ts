// Redis is not trusted: a job written straight into the BullMQ queue, as a local user with access
// to Redis could, must not make the worker clone foreign code, log in or run hooks. And the
// embedded Redis of `autobuild start` must not be reachable by other users at all.
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/service/build-queue.js';
import { makeFixtureRepo, type Fixture } from '../support/engines.js';
import { pushPayload } from '../support/webhook-payloads.js';
import { deliver } from '../support/webhooks.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';

const API_TOKEN = 'api-token-for-queue-trust-tests';
const SECRET = 'webhook-secret-for-queue-trust-tests';
let work: string;
let marker: string;
let trusted: Fixture;
let foreign: Fixture;

beforeAll(() => {
  buildBinary();
  work = mkdtempSync(join(tmpdir(), 'autobuild-queue-trust-'));
  marker = join(work, 'hook-ran');
  trusted = makeFixtureRepo();
  // The attacker's repository: its hook proves whether anything of it ran on the host.
  foreign = makeFixtureRepo({ hooks: { post_checkout: `#!/bin/sh\necho pwned > ${marker}\n` } });
});

afterAll(() => {
  trusted?.cleanup();
  foreign?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function waitFinished(base: string, id: string): Promise<{ status: string; error: string | null }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}/api/builds/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    if (res.status === 200) {
      const build = (await res.json()) as { status: string; error: string | null };
      if (!['queued', 'running'].includes(build.status)) return build;
    }
    if (Date.now() > deadline) throw new Error(`build ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("a job added to the queue behind autobuild's back", () => {
  let redis: TestRedis;
  let service: ServiceProcess;
  let base: string;
  let queue: Queue;
  let connection: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = join(work, 'autobuild.yml');
    writeFileSync(
      config,
      [
        `apiToken: ${API_TOKEN}`,
        `webhookSecret: ${SECRET}`,
        `dataDir: ${join(work, 'data')}`,
        'repositories:',
        '  octo-org/app:',
        '    image: 127.0.0.1:5999/octo/app',
        `    cloneUrl: "${trusted.url}"`,
        '',
      ].join('\n'),
    );
    service = await startService('start', { cwd: work, args: ['--config', config], env: { PORT: String(port), REDIS_URL: redis.url } });
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection });
  });
  afterAll(async () => {
    await service?.stop();
    await queue?.close();
    connection?.disconnect();
    await redis?.dispose();
  });

  const rows = [
    {
      name: 'an unconfigured repository with a foreign cloneUrl',
      build: { repository: 'evil/app', cloneUrl: () => foreign.url, images: ['127.0.0.1:5999/evil/app'] },
      error: /^refused a queued build: repository "evil\/app" is not configured here — /,
    },
    {
      name: 'a configured repository pointed at a foreign cloneUrl',
      build: { repository: 'octo-org/app', cloneUrl: () => foreign.url, images: ['127.0.0.1:5999/octo/app'] },
      error: /^refused a queued build: clone URL "file:.*" is not the one configured for octo-org\/app — builds of octo-org\/app clone file:/,
    },
  ];
  for (const [i, row] of rows.entries()) {
    it(`refuses ${row.name}: the build fails with one line and nothing of it runs`, async () => {
      const id = `forged-${i}`;
      await queue.add(
        'build',
        {
          buildId: id,
          build: {
            repository: row.build.repository,
            ref: 'refs/heads/main',
            sha: foreign.sha,
            images: row.build.images,
            context: '.',
            dockerfile: 'Dockerfile',
            buildArgs: {},
            labels: {},
            tags: ['edge'],
            refs: row.build.images.map((image) => `${image}:edge`),
            push: true,
            tagInfo: [],
            cloneUrl: row.build.cloneUrl(),
          },
        },
        { jobId: id },
      );
      const build = await waitFinished(base, id);
      expect(build.status).toBe('failed');
      expect(build.error).toMatch(row.error);
      expect(build.error).not.toContain('\n');
      expect(existsSync(marker)).toBe(false);
      expect(service.stderr()).toContain('refused a queued build');
    });
  }
});

describe('a push with a 10 MB commit message', () => {
  it('is accepted, but its build record and job keep only the first few KB', async () => {
    const redis = await startRedis();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const config = join(work, 'big-message.yml');
    writeFileSync(
      config,
      [
        `apiToken: ${API_TOKEN}`,
        `webhookSecret: ${SECRET}`,
        `dataDir: ${join(work, 'data-big')}`,
        'repositories:',
        '  octo-org/app:',
        '    image: 127.0.0.1:5999/octo/app',
        `    cloneUrl: "${trusted.url}"`,
        '',
      ].join('\n'),
    );
    // `serve` only: the build stays queued, so what Redis keeps is what the intake stored.
    const service = await startService('serve', { cwd: work, args: ['--config', config], env: { PORT: String(port), REDIS_URL: redis.url } });
    const client = new Redis(redis.url);
    try {
      const payload = pushPayload({ repository: 'octo-org/app', ref: 'refs/heads/main', sha: trusted.sha, defaultBranch: 'main', cloneUrl: trusted.url });
      payload.head_commit.message = 'm'.repeat(10 * 1024 * 1024);
      const res = await deliver(base, { payload, secret: SECRET });
      expect(res.status).toBe(202);
      const [id] = res.json.builds as string[];
      let job = 0;
      for (let i = 0; i < 100 && job === 0; i++) {
        job = await client.hstrlen(`bull:${QUEUE_NAME}:${id}`, 'data');
        if (job === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(job).toBeGreaterThan(0);
      expect(job).toBeLessThan(16 * 1024);
      const record = Number(await client.memory('USAGE', `autobuild:build:${id}`));
      expect(record).toBeLessThan(32 * 1024);
      const started = Date.now();
      const list = await fetch(`${base}/api/builds`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(list.status).toBe(200);
      expect((await list.text()).length).toBeLessThan(16 * 1024);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      client.disconnect();
      await service.stop();
      await redis.dispose();
    }
  }, 120_000);
});

describe('credentials written in a cloneUrl', () => {
  it('reach git only as an Authorization header, never the trigger answer or the service log', async () => {
    const PASS = 'clone-pass-3f9a7c21';
    const TRIGGER = 'trigger-token-for-clone-creds-01';
    const seen: { url: string; authorization?: string }[] = [];
    const git = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => git.listen(0, '127.0.0.1', () => resolve()));
    const gitPort = (git.address() as { port: number }).port;
    const redis = await startRedis();
    const port = await freePort();
    const config = join(work, 'clone-creds.yml');
    writeFileSync(
      config,
      [
        `apiToken: ${API_TOKEN}`,
        `dataDir: ${join(work, 'data-creds')}`,
        'repositories:',
        '  octo-org/app:',
        '    image: 127.0.0.1:5999/octo/app',
        `    cloneUrl: "http://bot:\${CLONE_PASS}@127.0.0.1:${gitPort}/octo/app.git"`,
        `    triggerToken: ${TRIGGER}`,
        '',
      ].join('\n'),
    );
    const service = await startService('serve', { cwd: work, args: ['--config', config], env: { PORT: String(port), REDIS_URL: redis.url, CLONE_PASS: PASS } });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/trigger/${TRIGGER}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"build":true}',
      });
      const answer = await res.text();
      expect(res.status).toBe(502);
      expect(answer).toContain(`http://127.0.0.1:${gitPort}/octo/app.git`);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((r) => !r.url.includes(PASS))).toBe(true);
      expect(
        seen.some(
          (r) =>
            r.authorization === `Basic ${Buffer.from(`bot:${PASS}`).toString('base64')}` ||
            r.authorization === `basic ${Buffer.from(`bot:${PASS}`).toString('base64')}`,
        ),
      ).toBe(true);
      for (const text of [answer, service.stderr()]) {
        expect(text).not.toContain(PASS);
        expect(text).not.toContain(Buffer.from(`bot:${PASS}`).toString('base64'));
      }
    } finally {
      await service.stop();
      await redis.dispose();
      git.close();
    }
  }, 120_000);
});

/** Inodes of the TCP sockets a process listens on (state 0A in /proc/net/tcp and tcp6). */
function listeningTcpInodes(pid: number): string[] {
  const listening = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[9]) listening.add(cols[9]);
    }
  }
  const mine: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && listening.has(inode)) mine.push(inode);
  }
  return mine;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? [path, ...walk(path)] : [path];
  });
}

describe('the embedded Redis of autobuild start', () => {
  it('listens on no TCP port, and its socket and data are private to the service user', async () => {
    const dataDir = join(work, 'embedded');
    const config = join(work, 'embedded.yml');
    writeFileSync(config, `apiToken: ${API_TOKEN}\ndataDir: ${dataDir}\n`);
    const port = await freePort();
    const service = await startService('start', { cwd: work, args: ['--config', config], env: { PORT: String(port) } });
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ ok: true, redis: 'up' });
      const dir = join(dataDir, 'redis');
      const pid = Number(readFileSync(join(dir, 'redis-server.pid'), 'utf8').trim());
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toMatch(/^redis-server/);
      expect(listeningTcpInodes(pid)).toEqual([]);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const files = walk(dir);
      expect(files.length).toBeGreaterThan(0);
      const open = files.filter((f) => (statSync(f).mode & 0o077) !== 0).map((f) => `${f} ${(statSync(f).mode & 0o777).toString(8)}`);
      expect(open).toEqual([]);
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });
});
