// The webhook receiver, trigger and API of `autobuild serve` as GitHub and users see them:
// every status code, redelivery, Redis going away and coming back, forged and malformed input.
// Only `serve` runs (no worker), so every accepted build stays queued where the test can count it.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producerConnection, whenReady } from '../../src/service/redis-connection.js';
import { startRegistry, type Registry } from '../support/engines.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, repoRoot, startService, type ServiceProcess } from '../support/service-process.js';
import { forgePayload } from '../fixtures/forges/index.js';
import { example, pushPayload } from '../support/webhook-payloads.js';
import { deliver, sign } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-tests';
const API_TOKEN = 'api-token-for-tests-0123456789';
const TRIGGER = 'trigger-token-for-tests-abcdef';
const REPO = 'octo-org/app';
const SHA = 'a'.repeat(40);
const GL_SECRET = 'gitlab-token-for-tests';
const BB_SECRET = 'bitbucket-secret-for-tests';
const GT_SECRET = 'gitea-secret-for-tests';

let redis: TestRedis;
let registry: Registry;
let service: ServiceProcess;
let base: string;
let work: string;

const api = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, ...init.headers } });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
};
/** Signs in through the dashboard's form as a browser would, giving the session cookie. */
const signIn = async () => {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: API_TOKEN }).toString(),
  });
  expect(res.status).toBe(303);
  // Whatever cookie the sign-in set (not one it cleared), as the browser would send it back.
  const setCookie = res.headers.getSetCookie().find((c) => !/^[^=]*=;/.test(c)) ?? '';
  const [, name = '', value = ''] = /^([^=]*)=([^;]*)/.exec(setCookie) ?? [];
  return { name, id: decodeURIComponent(value), setCookie, cookie: `${name}=${value}` };
};
const waiting = async () => (await api('/api/queue')).json.waiting as number;
/** Jobs follow a 202 within milliseconds (the intake's inbox consumer), not within the request. */
const waitingReaches = async (n: number) => {
  for (let i = 0; i < 100 && (await waiting()) < n; i++) await new Promise((r) => setTimeout(r, 50));
  return waiting();
};
const push = (ref: string, sha = SHA, repository = REPO) => pushPayload({ repository, ref, sha, defaultBranch: 'main', cloneUrl: 'file:///nonexistent' });

beforeAll(async () => {
  buildBinary();
  [redis, registry] = await Promise.all([startRedis(), startRegistry()]);
  work = mkdtempSync(join(tmpdir(), 'autobuild-receiver-'));
  writeFileSync(
    join(work, 'autobuild.yml'),
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'forges:',
      `  gitlab.com: {type: gitlab, webhookSecret: ${GL_SECRET}}`,
      `  bitbucket.org: {type: bitbucket, webhookSecret: ${BB_SECRET}}`,
      `  git.example.com: {type: gitea, webhookSecret: ${GT_SECRET}}`,
      'repositories:',
      `  ${REPO}:`,
      `    image: ${registry.host}/octo/app`,
      `    triggerToken: ${TRIGGER}`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService('serve', { cwd: work, env: { PORT: String(port), REDIS_URL: redis.url }, args: ['--config', join(work, 'autobuild.yml')] });
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), registry?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe('webhook status codes', () => {
  const body = JSON.stringify(push('refs/heads/main'));
  const rows: { name: string; send: Parameters<typeof deliver>[1]; status: number; error?: RegExp }[] = [
    { name: 'no signature is refused', send: { body }, status: 401, error: /missing X-Hub-Signature-256/ },
    { name: 'a signature made with another secret is refused', send: { body, secret: 'not-the-secret' }, status: 401, error: /does not match/ },
    {
      name: 'a body changed after signing is refused',
      send: { body, headers: { 'x-hub-signature-256': sign(body.replace('main', 'evil'), SECRET) } },
      status: 401,
    },
    { name: 'a malformed signature header is refused', send: { body, headers: { 'x-hub-signature-256': 'sha256=zz' } }, status: 401 },
    { name: 'a signed body that is not JSON is a bad request', send: { body: '{"ref": ', secret: SECRET }, status: 400, error: /not valid JSON/ },
    {
      name: 'a missing X-GitHub-Event is a bad request',
      send: { body, secret: SECRET, headers: { 'x-github-event': undefined } },
      status: 400,
      error: /X-GitHub-Event/,
    },
    {
      name: 'a missing X-GitHub-Delivery is a bad request',
      send: { body, secret: SECRET, headers: { 'x-github-delivery': undefined } },
      status: 400,
      error: /X-GitHub-Delivery/,
    },
    { name: 'a signed push payload that is not an object is a bad request', send: { body: '[1,2]', secret: SECRET }, status: 400 },
    { name: 'ping is answered 200', send: { event: 'ping', payload: example('ping'), secret: SECRET }, status: 200 },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const before = await waiting();
      const res = await deliver(base, row.send);
      expect(res.status).toBe(row.status);
      if (row.error) expect(res.json.error).toMatch(row.error);
      expect(await waiting()).toBe(before);
    });
  }

  it('a body over 25 MB is refused with 413 and queues nothing', async () => {
    const before = await waiting();
    const big = Buffer.alloc(26 * 1024 * 1024, 0x20);
    // The server answers as soon as it sees the length and closes; node:http reports that answer
    // even though the upload is cut short (fetch only reports the broken pipe).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/webhooks/github`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': big.length,
            'x-github-event': 'push',
            'x-github-delivery': 'big-1',
            'x-hub-signature-256': sign(big, SECRET),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (err) => setTimeout(() => reject(err), 1_000));
      req.end(big);
    });
    expect(status).toBe(413);
    expect(await waiting()).toBe(before);
  });

  it('a push of a configured repository is accepted with 202 and its build is queued', async () => {
    const before = await waiting();
    const res = await deliver(base, { payload: push('refs/heads/main', 'b'.repeat(40)), secret: SECRET });
    expect(res.status).toBe(202);
    expect(res.json.delivery).toBe(res.delivery);
    expect(res.json.builds).toHaveLength(1);
    expect(await waitingReaches(before + 1)).toBe(before + 1);
    const build = await api(`/api/builds/${res.json.builds[0]}`);
    expect(build.json).toMatchObject({ repository: REPO, ref: 'refs/heads/main', sha: 'b'.repeat(40), status: 'queued', tags: ['edge'] });
    expect(build.json.images).toEqual([`${registry.host}/octo/app`]);
  });

  it('a push of a repository that is not configured is accepted but builds nothing, saying why', async () => {
    const before = await waiting();
    const res = await deliver(base, { payload: push('refs/heads/main', SHA, 'someone/else'), secret: SECRET });
    expect(res.status).toBe(202);
    expect(res.json.builds).toEqual([]);
    expect(JSON.stringify(res.json.skipped)).toMatch(/not configured/);
    expect(await waiting()).toBe(before);
  });

  it('a branch deletion builds nothing', async () => {
    const before = await waiting();
    const res = await deliver(base, { payload: pushPayload({ repository: REPO, ref: 'refs/heads/gone', sha: SHA, deleted: true }), secret: SECRET });
    expect(res.status).toBe(202);
    expect(res.json.builds).toEqual([]);
    expect(await waiting()).toBe(before);
  });
});

describe('redelivery', () => {
  it('the same X-GitHub-Delivery again answers 200 with the first build ids and queues nothing', async () => {
    const payload = push('refs/tags/v1.0.0', 'c'.repeat(40));
    const before = await waiting();
    const first = await deliver(base, { payload, secret: SECRET });
    expect(first.status).toBe(202);
    const after = await waitingReaches(before + 1);
    const again = await deliver(base, { payload, secret: SECRET, delivery: first.delivery });
    expect(again.status).toBe(200);
    expect(again.json.builds).toEqual(first.json.builds);
    expect(await waiting()).toBe(after);
  });

  it('ten copies of one delivery arriving at once queue its build once', async () => {
    const before = await waiting();
    const payload = push('refs/tags/v1.1.0', 'd'.repeat(40));
    const delivery = `concurrent-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(base, { payload, secret: SECRET, delivery })));
    for (const a of answers) expect([200, 202]).toContain(a.status);
    expect(new Set(answers.map((a) => JSON.stringify(a.json.builds))).size).toBe(1);
    expect(await waitingReaches(before + 1)).toBe(before + 1);
  });
});

describe('forged and malformed requests', () => {
  const valid = JSON.stringify(push('refs/heads/main', 'e'.repeat(40)));
  const forged: { name: string; send: Parameters<typeof deliver>[1] }[] = [
    { name: 'signature of the secret as sha1', send: { body: valid, headers: { 'x-hub-signature-256': sign(valid, SECRET).replace('sha256=', 'sha1=') } } },
    { name: 'empty signature', send: { body: valid, headers: { 'x-hub-signature-256': '' } } },
    { name: 'signature over an empty secret', send: { body: valid, secret: '' } },
    { name: 'unsigned empty body', send: { body: '' } },
    { name: 'signed empty body', send: { body: '', secret: SECRET } },
    { name: 'signed null', send: { body: 'null', secret: SECRET } },
    { name: 'signed push with ref as a number', send: { payload: { ...push('refs/heads/main'), ref: 42 }, secret: SECRET } },
    { name: 'signed push with no repository', send: { payload: { ...push('refs/heads/main'), repository: undefined }, secret: SECRET } },
    {
      name: 'signed push with a sha that is not hex',
      send: {
        payload: { ...push('refs/heads/main'), after: 'zz; rm -rf /', head_commit: { ...push('refs/heads/main').head_commit, id: 'zz; rm -rf /' } },
        secret: SECRET,
      },
    },
    { name: 'signed push with a ref outside refs/', send: { payload: push('main; reboot'), secret: SECRET } },
    { name: 'signed form body without payload', send: { body: 'x=1', secret: SECRET, headers: { 'content-type': 'application/x-www-form-urlencoded' } } },
    { name: 'signed unknown event', send: { event: 'nonsense', payload: { zen: 1 }, secret: SECRET } },
    { name: 'signed binary garbage', send: { body: Buffer.from([0xff, 0xfe, 0x00, 0x01]), secret: SECRET } },
  ];
  for (const row of forged) {
    it(`${row.name}: no job, no 5xx`, async () => {
      const before = await waiting();
      const res = await deliver(base, row.send);
      expect(res.status).toBeLessThan(500);
      expect(await waiting()).toBe(before);
    });
  }
});

describe('the receiver and `autobuild plan --payload` refuse the same payloads, in the same words', () => {
  // One table, both entry points: each hostile payload is POSTed to the running service and given
  // to `autobuild plan` with the same autobuild.yml; the 400's error and the CLI's one line must
  // be the same text, and nothing may be queued.
  const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
  const forges = {
    gitlab: {
      host: 'gitlab.com',
      path: '/webhooks/gitlab',
      headers: (event: string) => ({ 'x-gitlab-event': event, 'x-gitlab-token': GL_SECRET, 'x-gitlab-event-uuid': randomUUID() }),
    },
    bitbucket: {
      host: 'bitbucket.org',
      path: '/webhooks/bitbucket',
      headers: (event: string, body: string) => ({
        'x-event-key': event,
        'x-hub-signature': `sha256=${hmac(BB_SECRET, body)}`,
        'x-request-uuid': randomUUID(),
      }),
    },
    gitea: {
      host: 'git.example.com',
      path: '/webhooks/gitea',
      headers: (event: string, body: string) => ({ 'x-gitea-event': event, 'x-gitea-signature': hmac(GT_SECRET, body), 'x-gitea-delivery': randomUUID() }),
    },
  };
  const pr = (change: (p: Record<string, any>) => void) => {
    const p = example('pull_request', (e) => e.action === 'opened');
    change(p);
    return p;
  };
  const gitlabPush = (change: (p: Record<string, any>) => void) => {
    const p = forgePayload('gitlab-push');
    change(p);
    return p;
  };
  const bitbucketPush = (change: (c: Record<string, any>) => void) => {
    const p = forgePayload('bitbucket-push-tag');
    change(p.push.changes[0]);
    return p;
  };
  const rows: { name: string; forge?: keyof typeof forges; event: string; payload: () => unknown; error: RegExp }[] = [
    {
      name: 'GitHub push naming a commit that is not hex',
      event: 'push',
      payload: () => ({ ...push('refs/heads/main'), head_commit: { id: 'zz; rm -rf /' } }),
      error: /^push payload names commit "zz; rm -rf \/", which is not a 40-hex git commit id/,
    },
    {
      name: 'GitHub push naming an abbreviated commit',
      event: 'push',
      payload: () => push('refs/heads/main', 'abcdef1'),
      error: /^push payload names commit "abcdef1"/,
    },
    {
      name: 'GitHub push of a ref with a NUL byte',
      event: 'push',
      payload: () => push('refs/heads/ma\u0000ster'),
      error: /^push payload ref "refs\/heads\/ma\\u0000ster" is not a valid git ref/,
    },
    {
      name: 'GitHub push of a ref with ".."',
      event: 'push',
      payload: () => push('refs/heads/a..b'),
      error: /^push payload ref "refs\/heads\/a\.\.b" is not a valid git ref: it contains "\.\."/,
    },
    {
      name: 'GitHub push without a repository',
      event: 'push',
      payload: () => ({ ...push('refs/heads/main'), repository: undefined }),
      error: /^push payload has no "repository\.full_name"/,
    },
    { name: 'GitHub push payload that is a list', event: 'push', payload: () => [1, 2], error: /^push payload is not a JSON object/ },
    {
      name: 'GitHub pull request head branch with a control character',
      event: 'pull_request',
      payload: () =>
        pr((p) => {
          p.pull_request.head.ref = 'fix\u0007';
        }),
      error: /^pull_request head\.ref "fix\\u0007" is not a valid git ref/,
    },
    {
      name: 'GitHub pull request head commit in upper case',
      event: 'pull_request',
      payload: () =>
        pr((p) => {
          p.pull_request.head.sha = 'A'.repeat(40);
        }),
      error: /^pull_request payload names commit "A{40}"/,
    },
    {
      name: 'GitLab push of a ref with ".."',
      forge: 'gitlab',
      event: 'Push Hook',
      payload: () =>
        gitlabPush((p) => {
          p.ref = 'refs/heads/a..b';
        }),
      error: /^GitLab Push Hook ref "refs\/heads\/a\.\.b" is not a valid git ref/,
    },
    {
      name: 'GitLab push naming a commit that is not hex',
      forge: 'gitlab',
      event: 'Push Hook',
      payload: () =>
        gitlabPush((p) => {
          p.checkout_sha = '$(reboot)';
        }),
      error: /^GitLab Push Hook payload names commit "\$\(reboot\)", which is not a 40-hex git commit id/,
    },
    {
      name: 'GitLab merge request from a branch with a NUL byte',
      forge: 'gitlab',
      event: 'Merge Request Hook',
      payload: () => {
        const p = forgePayload('gitlab-merge-request');
        p.object_attributes.source_branch = 'ms\u0000viewport';
        return p;
      },
      error: /^GitLab Merge Request Hook branch or tag "ms\\u0000viewport" is not a valid git ref/,
    },
    {
      name: 'Bitbucket push of a tag named "..x"',
      forge: 'bitbucket',
      event: 'repo:push',
      payload: () =>
        bitbucketPush((c) => {
          c.new.name = '..x';
        }),
      error: /^Bitbucket repo:push ref "refs\/tags\/\.\.x" is not a valid git ref/,
    },
    {
      name: 'Bitbucket push naming a commit that is not hex',
      forge: 'bitbucket',
      event: 'repo:push',
      payload: () =>
        bitbucketPush((c) => {
          c.new.target.hash = 'not-a-commit';
        }),
      error: /^Bitbucket repo:push payload names commit "not-a-commit"/,
    },
    {
      name: 'Gitea push of a ref with a space',
      forge: 'gitea',
      event: 'push',
      payload: () => ({ ...forgePayload('gitea-push'), ref: 'refs/heads/a b' }),
      error: /^Gitea push payload ref "refs\/heads\/a b" is not a valid git ref/,
    },
    {
      name: 'Gitea pull request naming a head commit that is not hex',
      forge: 'gitea',
      event: 'pull_request',
      payload: () => {
        const p = forgePayload('gitea-pull-request');
        p.pull_request.head.sha = 'zz';
        return p;
      },
      error: /^Gitea pull_request payload names commit "zz", which is not a 40-hex git commit id/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const payload = row.payload();
      const body = JSON.stringify(payload);
      const before = await waiting();
      let served: { status: number; error: string };
      if (row.forge === undefined) {
        const res = await deliver(base, { event: row.event, body, secret: SECRET });
        served = { status: res.status, error: res.json?.error };
      } else {
        const forge = forges[row.forge];
        const res = await fetch(`${base}${forge.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...forge.headers(row.event, body) },
          body,
        });
        served = { status: res.status, error: (await res.json()).error };
      }
      const file = join(work, `hostile-${randomUUID()}.json`);
      writeFileSync(file, body);
      const cli = await execa(
        process.execPath,
        [
          join(repoRoot, 'bin', 'autobuild.js'),
          'plan',
          '--config',
          join(work, 'autobuild.yml'),
          '--event',
          row.event,
          '--payload',
          file,
          ...(row.forge === undefined ? [] : ['--forge', forges[row.forge].host]),
        ],
        { cwd: work, reject: false },
      );

      expect(served.status).toBe(400);
      expect(served.error).toMatch(row.error);
      expect(cli.exitCode).toBe(2);
      expect(cli.stdout).toBe('');
      expect(cli.stderr).toBe(`autobuild: ${served.error}`);
      expect(await waiting()).toBe(before);
    });
  }
});

describe('remote trigger and API', () => {
  it('an unknown trigger token is 404', async () => {
    const res = await fetch(`${base}/api/trigger/not-a-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"build":true}' });
    expect(res.status).toBe(404);
  });

  it('a trigger whose body names nothing to build is a bad request', async () => {
    const res = await fetch(`${base}/api/trigger/${TRIGGER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/names nothing to build/);
  });

  it('the API refuses requests without the token', async () => {
    expect((await fetch(`${base}/api/builds`)).status).toBe(401);
    expect((await fetch(`${base}/api/builds`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('a cancel carried by the dashboard cookie from another site is refused', async () => {
    const list = await api('/api/builds?status=queued&limit=1');
    const id = list.json.builds[0].id;
    const { cookie } = await signIn();
    const res = await fetch(`${base}/api/builds/${id}/cancel`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/^cross-site request refused/);
    expect((await api(`/api/builds/${id}`)).json.status).toBe('queued');
  });

  it('lists builds newest first, filtered by status and repository, and cancels a queued one', async () => {
    const res = await deliver(base, { payload: push('refs/heads/feature', 'f'.repeat(40)), secret: SECRET });
    const list = await api(`/api/builds?repository=${REPO}&limit=100`);
    const ids = list.json.builds.map((b: { id: string }) => b.id);
    const created = list.json.builds.map((b: { createdAt: string }) => b.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    const newest = (await deliver(base, { payload: push('refs/heads/main', '1'.repeat(40)), secret: SECRET })).json.builds[0];
    expect((await api('/api/builds?limit=1')).json.builds[0].id).toBe(newest);
    expect(ids.length).toBeGreaterThan(0);
    void res;
    const cancel = await api(`/api/builds/${newest}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    expect((await api(`/api/builds/${newest}`)).json.status).toBe('canceled');
    expect((await api('/api/builds?status=canceled')).json.builds.map((b: { id: string }) => b.id)).toContain(newest);
    expect((await api('/api/builds?status=bogus')).status).toBe(400);

    // A retry of an older commit leaves a newer queued push of the branch alone.
    const newer = (await deliver(base, { payload: push('refs/heads/main', '5'.repeat(40)), secret: SECRET })).json.builds[0];
    const retry = await api(`/api/builds/${newest}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect((await api(`/api/builds/${newer}`)).json.status).toBe('queued');
    const again = (await api(`/api/builds/${retry.json.builds[0]}`)).json;
    expect(again).toMatchObject({ status: 'queued', sha: '1'.repeat(40), ref: 'refs/heads/main', tags: ['edge'] });
    expect((await api(`/api/builds/${retry.json.builds[0]}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await api('/api/builds/no-such-build')).status).toBe(404);
  });

  it('the dashboard is served at /', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('metrics count deliveries by result: each kind of answer the tests above got', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const result of ['accepted', 'duplicate', 'ping', 'unauthorized', 'bad_request', 'too_large']) {
      expect(text).toMatch(new RegExp(`autobuild_webhook_deliveries_total\\{result="${result}"\\} [1-9]`));
    }
    expect(text).toMatch(/autobuild_queue_jobs\{state="waiting"\} \d+/);
  });
});

describe('dashboard sessions: one rule for the API and the dashboard', () => {
  const signedInPage = async (headers: Record<string, string>) => (await (await fetch(`${base}/`, { headers })).text()).includes('<main id="main"');
  const queuedBuild = async () => (await api('/api/builds?status=queued&limit=1')).json.builds[0].id as string;

  it('signing in gives a random session id, not the API token, and it works for the API and the dashboard', async () => {
    const first = await signIn();
    const second = await signIn();
    expect(first.id).not.toContain(API_TOKEN);
    expect(first.id).not.toBe(second.id);
    expect(first.name).toBe('autobuild_session');
    expect(first.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.setCookie).toMatch(/; HttpOnly/i);
    expect(first.setCookie).toMatch(/; SameSite=Strict/i);
    expect(first.setCookie).toMatch(/; Path=\//i);
    // The browser forgets it when the session's hard end (7 days) has passed anyway.
    expect(first.setCookie).toMatch(/; Max-Age=604800/i);
    // Plain http and no https publicUrl: a Secure cookie would be dropped by the browser.
    expect(first.setCookie).not.toMatch(/; Secure/i);
    expect((await fetch(`${base}/api/builds?limit=1`, { headers: { cookie: first.cookie } })).status).toBe(200);
    expect(await signedInPage({ cookie: first.cookie })).toBe(true);
  });

  it('Redis keeps only a hash of the session id, expiring after 12 idle hours', async () => {
    const { id } = await signIn();
    const client = producerConnection(redis.url);
    try {
      await whenReady(client, redis.url);
      const key = `autobuild:session:${createHash('sha256').update(id).digest('hex')}`;
      const ttl = await client.ttl(key);
      expect(ttl).toBeGreaterThan(12 * 3600 - 60);
      expect(ttl).toBeLessThanOrEqual(12 * 3600);
      const keys = await client.keys('autobuild:session:*');
      expect(keys).toContain(key);
      for (const k of keys) {
        expect(k).not.toContain(id);
        expect(await client.get(k)).not.toContain(id);
      }
    } finally {
      client.disconnect();
    }
  });

  it('signing out ends the session: the same cookie is refused afterwards', async () => {
    const { cookie } = await signIn();
    expect((await fetch(`${base}/api/builds?limit=1`, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: base } });
    expect(out.status).toBe(303);
    // A copy of the cookie kept elsewhere (another tab, a stolen one) no longer works.
    const after = await fetch(`${base}/api/builds?limit=1`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect((await after.json()).error).toMatch(/session has expired or was signed out/);
    expect(await signedInPage({ cookie })).toBe(false);
    expect(out.headers.getSetCookie().join('\n')).toMatch(/^autobuild_session=;.*Expires=Thu, 01 Jan 1970/m);
  });

  it('signing in removes the cookie that held the API token before sessions existed', async () => {
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, cookie: `autobuild_token=${API_TOKEN}` },
      body: new URLSearchParams({ token: API_TOKEN }).toString(),
    });
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('autobuild_token='))).toMatch(/^autobuild_token=;.*Expires=Thu, 01 Jan 1970/);
    expect(cookies.join('\n')).not.toContain(API_TOKEN);
  });

  it('the API token as a cookie signs nothing in (the old token cookie, or the token under the session name)', async () => {
    for (const cookie of [`autobuild_token=${API_TOKEN}`, `autobuild_session=${API_TOKEN}`]) {
      expect((await fetch(`${base}/api/builds?limit=1`, { headers: { cookie } })).status, cookie).toBe(401);
      expect(await signedInPage({ cookie }), cookie).toBe(false);
    }
  });

  it('a foreign Bearer token with a valid session cookie is refused by the API and the dashboard alike', async () => {
    const { cookie } = await signIn();
    const headers = { cookie, authorization: 'Bearer a-token-of-some-other-service' };
    expect((await fetch(`${base}/api/builds?limit=1`, { headers })).status).toBe(401);
    expect(await signedInPage(headers)).toBe(false);
  });

  it('behind a Basic-auth proxy the session cookie still signs the dashboard and the API in', async () => {
    const { cookie } = await signIn();
    const headers = { cookie, authorization: `Basic ${Buffer.from('admin:proxy-password').toString('base64')}` };
    expect((await fetch(`${base}/api/builds?limit=1`, { headers })).status).toBe(200);
    expect(await signedInPage(headers)).toBe(true);
  });

  it("a cookie POST with neither Origin nor Sec-Fetch-Site is refused, and one from the dashboard's page is let in", async () => {
    const { cookie } = await signIn();
    const id = await queuedBuild();
    const bare = await fetch(`${base}/api/builds/${id}/cancel`, { method: 'POST', headers: { cookie } });
    expect(bare.status).toBe(403);
    expect((await api(`/api/builds/${id}`)).json.status).toBe('queued');
    // Neither may a page of another site sign the browser out.
    const logout = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    expect(logout.status).toBe(403);
    expect((await fetch(`${base}/api/builds?limit=1`, { headers: { cookie } })).status).toBe(200);
    const fromPage = await fetch(`${base}/api/builds/${id}/cancel`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(fromPage.status).toBe(200);
    expect((await api(`/api/builds/${id}`)).json.status).toBe('canceled');
  });
});

describe('Redis unavailable', () => {
  it('answers 503 while Redis is down, and accepts again once it is back, losing nothing', async () => {
    const accepted = await deliver(base, { payload: push('refs/tags/v2.0.0', '2'.repeat(40)), secret: SECRET });
    expect(accepted.status).toBe(202);
    await redis.stop();
    const t0 = Date.now();
    const res = await deliver(base, { payload: push('refs/tags/v2.1.0', '3'.repeat(40)), secret: SECRET });
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    // A session cannot be checked without Redis: 503, not "signed out"; the Bearer token still opens the page.
    const session = await fetch(`${base}/`, { headers: { cookie: `autobuild_session=${'A'.repeat(43)}` } });
    expect(session.status).toBe(503);
    expect(await session.text()).toMatch(/Redis is unavailable/);
    expect((await fetch(`${base}/`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
    await redis.start();
    let health = 0;
    for (let i = 0; i < 100 && health !== 200; i++) {
      health = (await fetch(`${base}/healthz`)).status;
      if (health !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health).toBe(200);
    expect((await api(`/api/builds/${accepted.json.builds[0]}`)).json.status).toBe('queued');
    const again = await deliver(base, { payload: push('refs/tags/v2.1.0', '3'.repeat(40)), secret: SECRET, delivery: res.delivery });
    expect(again.status).toBe(202);
  });
});

describe('autobuild start without a Redis of its own', () => {
  const runOnce = async (mode: string, env: Record<string, string>) => {
    const { spawnSync } = await import('node:child_process');
    const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'autobuild.js'), mode, '--config', join(work, 'autobuild.yml')], {
      cwd: work,
      env: { HOME: process.env.HOME ?? '/root', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { code: res.status, stderr: res.stderr };
  };

  it('serve without redis or REDIS_URL says what to set and exits 2', async () => {
    const res = await runOnce('serve', { PATH: process.env.PATH ?? '' });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/REDIS_URL/);
  });

  it('serve on a port already in use says so in one line and exits 2', async () => {
    const res = await runOnce('serve', { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, PORT: new URL(base).port });
    expect(res.code).toBe(2);
    expect(
      res.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{')),
    ).toEqual([expect.stringMatching(/already in use/)]);
  });

  it('start without redis-server installed says how to install it and exits 2', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'autobuild-nopath-'));
    try {
      const res = await runOnce('start', { PATH: empty });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/apt-get install redis-server/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('start runs redis-server under dataDir, prints the generated API token once, and stops Redis on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autobuild-embedded-'));
    const config = join(dir, 'autobuild.yml');
    writeFileSync(config, `webhookSecret: ${SECRET}\ndataDir: ${join(dir, 'data')}\nrepositories:\n  ${REPO}:\n    image: ${registry.host}/octo/embedded\n`);
    const running: ServiceProcess[] = [];
    const redisPids: number[] = [];
    const start = async () => {
      const s = await startService('start', { cwd: dir, env: { PORT: String(await freePort()) }, args: ['--config', config] });
      running.push(s);
      redisPids.push(Number(/"pid":(\d+),"msg":"embedded redis-server started"/.exec(s.stderr())?.[1] ?? 0));
      return s;
    };
    try {
      const started = await start();
      const redisPid = redisPids[0]!;
      expect(existsSync(`/proc/${redisPid}`)).toBe(true);
      const printed = /generated API token \(kept in (\S+)\): (\S+)/.exec(started.stderr());
      expect(printed).not.toBeNull();
      expect(readFileSync(printed![1]!, 'utf8').trim()).toBe(printed![2]);
      expect(statSync(printed![1]!).mode & 0o777).toBe(0o600);
      const token = printed![2]!;
      const base = /listening on (\S+)/.exec(started.stderr())![1]!;

      const res = await deliver(base, { payload: push('refs/tags/v3.0.0', '4'.repeat(40)), secret: SECRET });
      expect(res.status).toBe(202);
      const build = await fetch(`${base}/api/builds/${res.json.builds[0]}`, { headers: { authorization: `Bearer ${token}` } });
      expect(build.status).toBe(200);
      expect(existsSync(join(dir, 'data', 'redis', 'appendonlydir'))).toBe(true);

      expect(await started.stop()).toBe(0);
      expect(started.stderr()).not.toContain(SECRET);
      for (let i = 0; i < 50 && existsSync(`/proc/${redisPid}`); i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(`/proc/${redisPid}`)).toBe(false);

      // The second start keeps the token and does not print it again.
      const again = await start();
      expect(again.stderr()).not.toContain(token);
      expect(again.stderr()).toMatch(/API token in /);
      expect(await again.stop()).toBe(0);
    } finally {
      for (const s of running) await s.kill9();
      // A failed assertion may leave an embedded redis-server (its own process group) behind.
      for (const pid of redisPids) if (pid > 0 && existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
