// GitLab, Bitbucket Cloud and Gitea deliveries through the real `autobuild start` on real Redis,
// dockerd and registry: each forge's documented payload, signed as that forge signs it, builds
// and pushes the right tags and posts pending then success to a recorder standing in for that
// forge's API. Notifications go to the same recorder, which fails the first two of them.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtureRepo, startDockerd, startRegistry, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { startRecorder, type RecordedRequest, type Recorder } from '../support/github-recorder.js';
import { forgePayload } from '../fixtures/forges/index.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';

const API_TOKEN = 'api-token-for-forge-tests-0123';
const GL_SECRET = 'gitlab-secret-token-for-tests';
const BB_SECRET = 'bitbucket-secret-for-tests';
const GT_SECRET = 'gitea-secret-for-tests';
const NOTIFY_SECRET = 'notify-secret-for-tests';
const FINISHED = ['succeeded', 'failed', 'canceled', 'superseded'];

let redis: TestRedis;
let dockerd: Dockerd;
let registry: Registry;
let recorder: Recorder;
let fixture: Fixture;
let work: string;
let service: ServiceProcess;
let base: string;
/** Requests the recorder answered 500: the notification receiver "failing twice". */
const failed = new Set<RecordedRequest>();
let failuresLeft = 2;

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

async function post(path: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : undefined, text };
}

const send = {
  gitlab: (event: string, payload: unknown, token = GL_SECRET, uuid = randomUUID()) =>
    post('/webhooks/gitlab', { 'x-gitlab-event': event, 'x-gitlab-token': token, 'x-gitlab-event-uuid': uuid }, JSON.stringify(payload)),
  bitbucket: (event: string, payload: unknown, secret = BB_SECRET) => {
    const body = JSON.stringify(payload);
    return post(
      '/webhooks/bitbucket',
      {
        'x-event-key': event,
        'x-hub-signature': `sha256=${hmac(secret, body)}`,
        'x-request-uuid': randomUUID(),
        'x-hook-uuid': '{5e9b2f4c-9c1f-4a59-a5e1-3c8f4f7e9b10}',
        'x-attempt-number': '1',
      },
      body,
    );
  },
  gitea: (event: string, payload: unknown, secret = GT_SECRET) => {
    const body = JSON.stringify(payload);
    return post('/webhooks/gitea', { 'x-gitea-event': event, 'x-gitea-signature': hmac(secret, body), 'x-gitea-delivery': randomUUID() }, body);
  },
};

async function api(path: string) {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const text = await res.text();
  return text.startsWith('{') ? JSON.parse(text) : text;
}

async function finished(id: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await api(`/api/builds/${id}`);
    if (b && FINISHED.includes(b.status)) return b;
    if (Date.now() > deadline) throw new Error(`build ${id} still ${b?.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function manifestDigest(image: string, tag: string): Promise<string | undefined> {
  const [host, ...path] = image.split('/');
  const res = await fetch(`http://${host}/v2/${path.join('/')}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

const image = (name: string) => `${registry.host}/${name}`;

beforeAll(async () => {
  buildBinary();
  [redis, dockerd, registry, recorder] = await Promise.all([
    startRedis(),
    startDockerd(),
    startRegistry(),
    startRecorder({
      answer: (req) => {
        // Bitbucket's list of a pull request's commits, newest first, with full hashes.
        if (req.path.startsWith('/bitbucket/2.0/repositories/cloudbeers/temp/pullrequests/3/commits'))
          return { status: 200, body: { values: [{ hash: fixture.sha }] } };
        if (!req.path.startsWith('/notify/json') || failuresLeft === 0) return undefined;
        failuresLeft -= 1;
        failed.add(req);
        return { status: 500, body: { error: 'receiver down' } };
      },
    }),
  ]);
  fixture = makeFixtureRepo({ content: 'forges' });
  work = mkdtempSync(join(tmpdir(), 'autobuild-forges-'));
  const config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'server: {publicUrl: "https://autobuild.example.com"}',
      'forges:',
      `  gitlab.example.com: {type: gitlab, webhookSecret: ${GL_SECRET}, token: gl-token-for-tests, apiUrl: "${recorder.url}/gitlab/api/v4"}`,
      `  bitbucket.org: {type: bitbucket, webhookSecret: ${BB_SECRET}, username: bot, token: bb-app-password, apiUrl: "${recorder.url}/bitbucket/2.0"}`,
      `  git.example.com: {type: forgejo, webhookSecret: ${GT_SECRET}, token: gt-token-for-tests, apiUrl: "${recorder.url}/gitea/api/v1"}`,
      'notifications:',
      `  - {url: "${recorder.url}/notify/json?token=abc", secret: ${NOTIFY_SECRET}}`,
      'repositories:',
      '  gitlab.example.com/group/sub/app:',
      `    image: ${image('gl/app')}`,
      `    cloneUrl: "${fixture.url}"`,
      '  bitbucket.org/cloudbeers/temp:',
      `    image: ${image('bb/temp')}`,
      `    cloneUrl: "${fixture.url}"`,
      '    rules: [{sourceType: branch, source: master, tag: "{sourceref}"}]',
      `    notifications: [{url: "${recorder.url}/notify/slack", format: slack, events: [succeeded, failed]}]`,
      '  git.example.com/gitea/webhooks:',
      `    image: ${image('gt/webhooks')}`,
      `    cloneUrl: "${fixture.url}"`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService('start', {
    cwd: work,
    args: ['--config', config],
    env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host },
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), dockerd?.stop(), registry?.stop(), recorder?.stop()]);
  fixture?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('forge webhooks through the service', () => {
  const SEMVER = ['1.0.0', '1.0', '1', 'latest'];

  it('GitLab: a Tag Push Hook builds and pushes the semver tags, and GitLab gets pending then success', async () => {
    const p = forgePayload('gitlab-tag-push');
    Object.assign(p, { after: fixture.sha, checkout_sha: fixture.sha });
    p.project.path_with_namespace = 'group/sub/app';
    const uuid = randomUUID();
    const res = await send.gitlab('Tag Push Hook', p, GL_SECRET, uuid);
    expect(res.status, res.text).toBe(202);
    const [id] = res.json.builds;
    const build = await finished(id);
    expect(build.status, build.error).toBe('succeeded');
    expect(build.repository).toBe('gitlab.example.com/group/sub/app');
    expect(build.tags).toEqual(SEMVER);
    for (const tag of SEMVER) expect(await manifestDigest(image('gl/app'), tag)).toBe(build.digest);

    const statuses = await recorder.waitFor((r) => r.path === `/gitlab/api/v4/projects/group%2Fsub%2Fapp/statuses/${fixture.sha}`, 2);
    expect(statuses.map((s) => s.body.state)).toEqual(['pending', 'success']);
    expect(statuses[0]!.headers['private-token']).toBe('gl-token-for-tests');
    expect(statuses[0]!.body).toMatchObject({ name: `autobuild/${image('gl/app')}`, target_url: `https://autobuild.example.com/#/builds/${id}` });

    // The same delivery again (GitLab retrying): the first answer, nothing queued twice.
    const again = await send.gitlab('Tag Push Hook', p, GL_SECRET, uuid);
    expect(again.status).toBe(200);
    expect(again.json.builds).toEqual([id]);
  }, 180_000);

  it('Bitbucket: a repo:push of a tag builds and pushes it, and Bitbucket gets INPROGRESS then SUCCESSFUL', async () => {
    const p = forgePayload('bitbucket-push-tag');
    p.push.changes[0].new.name = 'v1.0.0';
    p.push.changes[0].new.target.hash = fixture.sha;
    const res = await send.bitbucket('repo:push', p);
    expect(res.status, res.text).toBe(202);
    const build = await finished(res.json.builds[0]);
    expect(build.status, build.error).toBe('succeeded');
    expect(build.tags).toEqual(SEMVER);
    for (const tag of SEMVER) expect(await manifestDigest(image('bb/temp'), tag)).toBe(build.digest);

    const statuses = await recorder.waitFor((r) => r.path === `/bitbucket/2.0/repositories/cloudbeers/temp/commit/${fixture.sha}/statuses/build`, 2);
    expect(statuses.map((s) => s.body.state)).toEqual(['INPROGRESS', 'SUCCESSFUL']);
    expect(statuses[0]!.headers.authorization).toBe(`Basic ${Buffer.from('bot:bb-app-password').toString('base64')}`);
    expect(statuses[0]!.body.url).toBe(`https://autobuild.example.com/#/builds/${build.id}`);
  }, 180_000);

  it('Gitea/Forgejo: a push of a tag builds and pushes it, and Gitea gets pending then success', async () => {
    const p = { ...forgePayload('gitea-push'), ref: 'refs/tags/v1.0.0', after: fixture.sha };
    const res = await send.gitea('push', p);
    expect(res.status, res.text).toBe(202);
    const build = await finished(res.json.builds[0]);
    expect(build.status, build.error).toBe('succeeded');
    expect(build.repository).toBe('git.example.com/gitea/webhooks');
    for (const tag of SEMVER) expect(await manifestDigest(image('gt/webhooks'), tag)).toBe(build.digest);

    const statuses = await recorder.waitFor((r) => r.path === `/gitea/api/v1/repos/gitea/webhooks/statuses/${fixture.sha}`, 2);
    expect(statuses.map((s) => s.body.state)).toEqual(['pending', 'success']);
    expect(statuses[0]!.headers.authorization).toBe('token gt-token-for-tests');
  }, 180_000);

  it("Forgejo: a delivery with only X-Forgejo-* headers is verified and answered like Gitea's", async () => {
    const body = JSON.stringify({ ...forgePayload('gitea-push'), after: fixture.sha });
    const res = await post(
      '/webhooks/gitea',
      { 'x-forgejo-event': 'push', 'x-forgejo-signature': hmac(GT_SECRET, body), 'x-forgejo-delivery': randomUUID() },
      body,
    );
    expect(res.status, res.text).toBe(202);
    expect(res.json.builds).toEqual([]);
    expect(res.json.skipped[0].reason).toMatch(/preset semver builds only the default branch \("main"\) and tags, not branch "develop"/);
  });

  it('a Bitbucket push with a branch and a tag queues both', async () => {
    const p = forgePayload('bitbucket-push-branch-and-tag');
    p.push.changes[0].new.target.hash = fixture.sha;
    p.push.changes[1].new.name = 'v2.0.0';
    p.push.changes[1].new.target.hash = fixture.sha;
    const res = await send.bitbucket('repo:push', p);
    expect(res.status, res.text).toBe(202);
    expect(res.json.builds).toHaveLength(2);
    const builds = await Promise.all(res.json.builds.map((id: string) => finished(id)));
    expect(builds.map((b) => [b.ref, b.status, b.tags])).toEqual([
      ['refs/heads/master', 'succeeded', ['master']],
      ['refs/tags/v2.0.0', 'succeeded', ['2.0.0', '2.0', '2', 'latest']],
    ]);
    expect(await manifestDigest(image('bb/temp'), 'master')).toBe(builds[0].digest);
  }, 180_000);

  it('a Bitbucket pull request from a fork: the abbreviated head is looked up, built untrusted as pr-3, nothing pushed', async () => {
    const p = forgePayload('bitbucket-pullrequest-created-fork');
    p.pullrequest.source.commit.hash = fixture.sha.slice(0, 12);
    const res = await send.bitbucket('pullrequest:created', p);
    expect(res.status, res.text).toBe(202);
    expect(res.json.builds).toHaveLength(1);
    const build = await finished(res.json.builds[0]);
    expect(build.status, build.error).toBe('succeeded');
    expect([build.sha, build.ref, build.tags]).toEqual([fixture.sha, 'refs/pull-requests/3/from', ['pr-3']]);
    expect(await manifestDigest(image('bb/temp'), 'pr-3')).toBeUndefined();
    const lookup = recorder.requests.find((r) => r.path.startsWith('/bitbucket/2.0/repositories/cloudbeers/temp/pullrequests/3/commits'));
    expect(lookup?.headers.authorization).toBe(`Basic ${Buffer.from('bot:bb-app-password').toString('base64')}`);
  }, 180_000);

  it.each([
    ['GitLab', () => send.gitlab('Tag Push Hook', forgePayload('gitlab-tag-push'), 'not-the-secret')],
    ['Bitbucket', () => send.bitbucket('repo:push', forgePayload('bitbucket-push-tag'), 'not-the-secret')],
    ['Gitea', () => send.gitea('push', forgePayload('gitea-push'), 'not-the-secret')],
  ])('%s: a forged signature is 401 and queues nothing', async (_forge, forged) => {
    const before = (await api('/api/builds?limit=500')).builds.length;
    const res = await forged();
    expect(res.status).toBe(401);
    expect(res.json.error).toMatch(/does not match/);
    expect((await api('/api/builds?limit=500')).builds.length).toBe(before);
  });

  it('a notification receiver failing twice then succeeding gets exactly one delivery per event, signed', async () => {
    const builds = (await api('/api/builds?limit=500')).builds as { id: string; status: string }[];
    const want = builds.flatMap((b) => ['queued', 'started', b.status].map((event) => `${b.id} ${event}`)).sort();
    const notices = () => recorder.requests.filter((r) => r.path.startsWith('/notify/json'));
    await recorder.waitFor((r) => r.path.startsWith('/notify/json') && !failed.has(r), want.length, 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(failed.size).toBe(2);
    const delivered = notices().filter((r) => !failed.has(r));
    expect(delivered.map((r) => `${r.body.id} ${r.body.event}`).sort()).toEqual(want);
    for (const r of notices()) {
      expect(r.headers['x-autobuild-signature-256']).toBe(`sha256=${hmac(NOTIFY_SECRET, JSON.stringify(r.body))}`);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/autobuild_notifications_total\{result="failed"\} 2\b/);
    const lines = service
      .stderr()
      .split('\n')
      .filter((l) => l.includes('notification failed'));
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toMatch(/token=abc|notify-secret/);
  }, 90_000);

  it('the Slack text names the build status and links the build page', async () => {
    const slack = await recorder.waitFor((r) => r.path === '/notify/slack', 3);
    const texts = slack.map((r) => r.body.text as string);
    expect(Object.keys(slack[0]!.body)).toEqual(['text']);
    expect(texts.every((t) => t.startsWith('autobuild: *succeeded* bitbucket.org/cloudbeers/temp '))).toBe(true);
    expect(
      texts.some((t) =>
        /v1\.0\.0 \([0-9a-f]{7}\) → 1\.0\.0, 1\.0, 1, latest in \d+s — <https:\/\/autobuild\.example\.com\/#\/builds\/[^|]+\|build [^>]+>$/.test(t),
      ),
    ).toBe(true);
  }, 60_000);
});
