// Webhook intake as GitHub and an attacker see it, on a real `autobuild serve` and a real Redis:
// a 202 survives the service being killed before the jobs exist, a delivery id is accepted once
// whatever arrives after it, the HMAC is over the bytes sent, bad refs stop at the door, unsigned
// uploads cannot take the memory, a registry that never answers costs webhooks nothing, and
// token guessing is throttled.
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../support/engines.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';
import { example, pushPayload } from '../support/webhook-payloads.js';
import { deliver, sign } from '../support/webhooks.js';

const SECRET = 'intake-webhook-secret-for-tests';
const API_TOKEN = 'intake-api-token-for-tests-0123';
const TRIGGER = 'intake-trigger-token-for-tests-01';
const REPO = 'octo-org/app';

let redis: TestRedis;
let registry: Registry;
let work: string;
let config: string;
const services: ServiceProcess[] = [];
let sha = 0;
const nextSha = () => (++sha).toString(16).padStart(40, '0');

const push = (ref: string, repository = REPO) => pushPayload({ repository, ref, sha: nextSha(), defaultBranch: 'main', cloneUrl: 'file:///nonexistent' });

async function serve(env: Record<string, string> = {}, file = config): Promise<{ service: ServiceProcess; base: string }> {
  const port = await freePort();
  const service = await startService('serve', { cwd: work, env: { PORT: String(port), REDIS_URL: redis.url, ...env }, args: ['--config', file] });
  services.push(service);
  return { service, base: `http://127.0.0.1:${port}` };
}

const api = async (base: string, path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, ...init.headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
};

/** BullMQ's own count of jobs waiting: what a worker would take. */
let client: Redis;
const jobExists = async (id: string) => (await client.exists(`bull:autobuild-builds:${id}`)) === 1;

async function eventually<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  buildBinary();
  [redis, registry] = await Promise.all([startRedis(), startRegistry()]);
  client = new Redis(redis.url);
  work = mkdtempSync(join(tmpdir(), 'autobuild-intake-'));
  config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'github: {statuses: false}',
      'repositories:',
      `  ${REPO}:`,
      `    image: ${registry.host}/octo/app`,
      `    triggerToken: ${TRIGGER}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const s of services) await s.kill9();
  client?.disconnect();
  await Promise.all([redis?.dispose(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('a 202 is durable', () => {
  it('a service killed after answering 202 and before creating the jobs queues every build on restart, once', async () => {
    // A serve that takes inbox entries and never turns them into jobs: killed mid-way, as a crash would.
    const stalled = await serve({ AUTOBUILD_FAULT_INBOX_STALL: '1' });
    const payloads = Array.from({ length: 5 }, (_, i) => push(`refs/tags/v9.${i}.0`));
    const answers = [];
    for (const payload of payloads) answers.push(await deliver(stalled.base, { payload, secret: SECRET }));
    const ids = answers.map((a) => {
      expect(a.status).toBe(202);
      expect(a.json.builds).toHaveLength(1);
      return a.json.builds[0] as string;
    });
    // The records are there at once (the API shows the builds queued), the jobs are not.
    for (const id of ids) expect((await api(stalled.base, `/api/builds/${id}`)).json.status).toBe('queued');
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ids) expect(await jobExists(id)).toBe(false);
    await stalled.service.kill9();

    const restarted = await serve();
    await eventually(
      'jobs after restart',
      async () => (await Promise.all(ids.map(jobExists))).every(Boolean),
      (v) => v,
    );
    // A redelivery of one of them after the restart gets the first answer and no second build.
    const again = await deliver(restarted.base, { payload: payloads[0], secret: SECRET, delivery: answers[0]!.delivery });
    expect(again.status).toBe(200);
    expect(again.json.builds).toEqual([ids[0]]);
    const list = (await api(restarted.base, `/api/builds?limit=500`)).json.builds.map((b: { id: string }) => b.id);
    for (const id of ids) expect(list.filter((x: string) => x === id)).toHaveLength(1);
    await restarted.service.stop();
  }, 60_000);
});

describe('a delivery id is accepted once', () => {
  let base: string;
  beforeAll(async () => {
    base = (await serve()).base;
  });

  it('a delivery that built nothing, sent again as a configured push, answers 200 with no builds and queues nothing', async () => {
    const first = await deliver(base, { payload: push('refs/heads/main', 'someone/else'), secret: SECRET });
    expect(first.status).toBe(202);
    expect(first.json.builds).toEqual([]);
    const again = await deliver(base, { payload: push('refs/heads/main'), secret: SECRET, delivery: first.delivery });
    expect(again.status).toBe(200);
    expect(again.json.builds).toEqual([]);
    expect(JSON.stringify(again.json.skipped)).toMatch(/not configured/);
  });

  it('a delivery that built nothing keeps its key an hour, not 30 days', async () => {
    const first = await deliver(base, { payload: push('refs/heads/main', 'someone/else'), secret: SECRET });
    const ttl = await client.ttl(`autobuild:delivery:${first.delivery}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_600);
    const built = await deliver(base, { payload: push('refs/tags/v7.0.0'), secret: SECRET });
    expect(await client.ttl(`autobuild:delivery:${built.delivery}`)).toBeGreaterThan(86_400);
  });

  it('twenty copies of one delivery at once: exactly one 202, the others 200 with the same ids, one job', async () => {
    const payload = push('refs/tags/v7.1.0');
    const delivery = `concurrent-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(base, { payload, secret: SECRET, delivery })));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    expect(new Set(answers.map((a) => JSON.stringify(a.json.builds))).size).toBe(1);
    const id = answers[0]!.json.builds[0];
    await eventually(
      'job',
      () => jobExists(id),
      (v) => v,
    );
    expect((await api(base, `/api/builds?limit=500`)).json.builds.filter((b: { id: string }) => b.id === id)).toHaveLength(1);
  });

  it('a first delivery is never answered as a repeat, even with a worker idle and Redis just restarted', async () => {
    const port = await freePort();
    const start = await startService('start', {
      cwd: work,
      env: { PORT: String(port), REDIS_URL: redis.url },
      args: ['--config', config],
    });
    services.push(start);
    const startBase = `http://127.0.0.1:${port}`;
    // A Redis that has just restarted knows none of autobuild's scripts (SCRIPT FLUSH is the same
    // for them): the record and the job were once written by separate commands, and the idle
    // worker could write the record first, turning the first delivery into a "repeat".
    for (let i = 0; i < 15; i++) {
      await client.script('FLUSH');
      const a = await deliver(startBase, { payload: push(`refs/tags/v8.${i}.0`), secret: SECRET });
      expect(a.status).toBe(202);
      const record = (await api(startBase, `/api/builds/${a.json.builds[0]}`)).json;
      expect(record.origin).toBe(a.delivery);
    }
    await start.stop();
  }, 90_000);
});

describe('bad input stops at the door', () => {
  let base: string;
  beforeAll(async () => {
    base = (await serve()).base;
  });

  const rows: { name: string; body: () => Buffer; signWith?: () => Buffer; status: number; error?: RegExp }[] = [
    {
      name: 'a signature over the received bytes is accepted even when they are not valid UTF-8',
      body: () => Buffer.concat([Buffer.from('{"zen":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","hook_id":1}')]),
      status: 200,
    },
    {
      name: 'a signature over the UTF-8 decoding of other bytes is refused',
      body: () => Buffer.concat([Buffer.from('{"zen":"'), Buffer.from([0xff]), Buffer.from('","hook_id":1}')]),
      signWith: () => Buffer.from('{"zen":"\ufffd","hook_id":1}'),
      status: 401,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const body = row.body();
      const res = await deliver(base, { event: 'ping', body, headers: { 'x-hub-signature-256': sign(row.signWith?.() ?? body, SECRET) } });
      expect(res.status).toBe(row.status);
    });
  }

  const refs: { name: string; ref: string }[] = [
    { name: 'a NUL byte in a pushed ref', ref: 'refs/heads/ma\u0000in' },
    { name: 'a newline in a pushed ref', ref: 'refs/heads/main\nx' },
    { name: 'a 200,000-character ref', ref: `refs/heads/${'a'.repeat(200_000)}` },
    { name: 'a ref with ".."', ref: 'refs/heads/a..b' },
  ];
  for (const row of refs) {
    it(`${row.name} is a 400 with one short line, and records nothing`, async () => {
      const before = await client.zcard('autobuild:builds');
      const res = await deliver(base, { payload: push(row.ref), secret: SECRET });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/not a valid git ref/);
      expect(res.text.length).toBeLessThan(500);
      expect(await client.zcard('autobuild:builds')).toBe(before);
    });
  }

  it('a trigger with a 200,000-character source_name is a 400 with a short answer', async () => {
    const res = await fetch(`${base}/api/trigger/${TRIGGER}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source_type: 'Branch', source_name: 'x'.repeat(200_000) }),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(500);
    expect(JSON.parse(text).error).toMatch(/source_name .* is not a valid git ref/);
  });

  it('every /api answer says X-Content-Type-Options: nosniff, and so do webhook answers', async () => {
    for (const path of ['/api/builds', '/api/queue', '/api/builds/nope']) {
      expect((await api(base, path)).headers.get('x-content-type-options')).toBe('nosniff');
    }
    const unauthorized = await fetch(`${base}/api/builds`);
    expect(unauthorized.headers.get('x-content-type-options')).toBe('nosniff');
    const trigger = await fetch(`${base}/api/trigger/unknown-token-xxxxxxxx`, { method: 'POST' });
    expect(trigger.headers.get('x-content-type-options')).toBe('nosniff');
    const hook = await fetch(`${base}/webhooks/github`, { method: 'POST', body: '{}' });
    expect(hook.status).toBe(401);
    expect(hook.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))!;
  return Number(/(\d+)/.exec(line)![1]) / 1024;
}

describe('unsigned bodies cost bounded memory', () => {
  it('80 concurrent 25 MB posts with a wrong signature: memory stays bounded, /healthz answers throughout, all get 401', async () => {
    const { service, base } = await serve();
    const before = peakMb(service.pid);
    const big = Buffer.alloc(25 * 1024 * 1024 - 16, 0x20);
    const agent = new Agent({ maxSockets: 80 });
    const post = () =>
      new Promise<number>((resolve) => {
        const req = request(
          `${base}/webhooks/github`,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': big.length,
              'x-github-event': 'push',
              'x-github-delivery': 'big',
              'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end(big);
      });
    let done = false;
    const health: number[] = [];
    const probe = (async () => {
      while (!done) {
        const t0 = Date.now();
        const res = await fetch(`${base}/healthz`).catch(() => undefined);
        health.push(res?.status === 200 ? Date.now() - t0 : Infinity);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const statuses = await Promise.all(Array.from({ length: 80 }, post));
    done = true;
    await probe;
    agent.destroy();
    expect(statuses).toEqual(statuses.map(() => 401));
    expect(peakMb(service.pid) - before).toBeLessThan(400);
    expect(health.length).toBeGreaterThan(3);
    console.log(`healthz ms: ${health.join(' ')}; peak +${(peakMb(service.pid) - before).toFixed(0)} MB`);
    expect(Math.max(...health)).toBeLessThan(2_000);
    await service.stop();
  }, 120_000);

  it('a body declared over 25 MB is refused with 413 before it is read', async () => {
    const { service, base } = await serve();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/webhooks/github`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': 30 * 1024 * 1024,
            'x-github-event': 'push',
            'x-github-delivery': 'big-2',
            'x-hub-signature-256': sign('x', SECRET),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err) => setTimeout(() => reject(err), 1_000));
      req.write(Buffer.alloc(1024 * 1024));
    });
    expect(status).toBe(413);
    await service.stop();
  });
});

describe('a registry that never answers', () => {
  let blackhole: Server;
  const sockets: Socket[] = [];
  afterAll(() => {
    for (const s of sockets) s.destroy();
    blackhole?.close();
  });

  it('costs webhooks nothing: every delivery is answered within a second', async () => {
    blackhole = createServer((s) => {
      sockets.push(s);
    });
    const port = await freePort();
    await new Promise<void>((r) => blackhole.listen(port, '127.0.0.1', () => r()));
    const file = join(work, 'blackhole.yml');
    writeFileSync(file, readFileSync(config, 'utf8').replace(registry.host, `127.0.0.1:${port}`));
    const { service, base } = await serve({}, file);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const res = await deliver(base, { payload: push(`refs/tags/v6.${i}.0`), secret: SECRET });
      times.push(Date.now() - t0);
      expect(res.status).toBe(202);
    }
    expect(Math.max(...times)).toBeLessThan(1_000);
    await service.stop();
  }, 60_000);
});

describe('token guessing', () => {
  it('after ten wrong Bearer tokens an address gets 429 for a while, even with the right token', async () => {
    const { service, base } = await serve();
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${base}/api/builds`, { headers: { authorization: `Bearer wrong-token-${i}` } })).status).toBe(401);
    }
    const blocked = await fetch(`${base}/api/builds`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The sign-in form and the trigger URL share the count.
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: 'token=guess',
      redirect: 'manual',
    });
    expect(login.status).toBe(429);
    expect(
      (await fetch(`${base}/api/trigger/${TRIGGER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"build":true}' })).status,
    ).toBe(429);
    await service.stop();
  });

  it('after ten wrong sign-ins the form answers 429', async () => {
    const { service, base } = await serve();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: `token=guess-${i}`,
        redirect: 'manual',
      });
      expect(res.status).toBe(401);
    }
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: `token=${API_TOKEN}`,
      redirect: 'manual',
    });
    expect(res.status).toBe(429);
    await service.stop();
  });

  it('ping examples still answer 200 (the webhook route is not throttled by API guesses)', async () => {
    const { service, base } = await serve();
    for (let i = 0; i < 12; i++) await fetch(`${base}/api/builds`, { headers: { authorization: 'Bearer nope-nope-nope' } });
    expect((await deliver(base, { event: 'ping', payload: example('ping'), secret: SECRET })).status).toBe(200);
    await service.stop();
  });
});
