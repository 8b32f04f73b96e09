// A build arg whose value comes from `${VAR}` is a secret: the queue carries its name only, and
// its value reaches the engine through the environment, never argv, the build record, the API,
// the log or the command line quoted in a failed build's error.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxDockerfile, makeFixtureRepo, startDockerd, type Dockerd, type Fixture } from '../support/engines.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, startService, type ServiceProcess } from '../support/service-process.js';
import { pushPayload } from '../support/webhook-payloads.js';
import { deliver } from '../support/webhooks.js';

const SECRET = 'webhook-secret-for-build-arg-tests';
const API_TOKEN = 'api-token-for-build-arg-tests-01';
const VALUE = 'build-arg-secret-value-7f3a9c';

let redis: TestRedis;
let dockerd: Dockerd;
let fixture: Fixture;
let service: ServiceProcess;
let work: string;
let base: string;

beforeAll(async () => {
  buildBinary();
  [redis, dockerd] = await Promise.all([startRedis(), startDockerd()]);
  // Exit 3 only when the value arrived intact (its digest, so the Dockerfile does not hold it);
  // the sleep leaves time to look at every argv on the machine.
  const digest = createHash('md5').update(VALUE).digest('hex');
  const dockerfile = busyboxDockerfile('x').replace(
    'CMD',
    `ARG NPM_TOKEN\nRUN echo "token is $NPM_TOKEN" && test "$(printf %s "$NPM_TOKEN" | md5sum | cut -c1-32)" = "${digest}" && sleep 3 && exit 3\nCMD`,
  );
  fixture = makeFixtureRepo({ dockerfile });
  work = mkdtempSync(join(tmpdir(), 'autobuild-build-args-'));
  const config = join(work, 'autobuild.yml');
  writeFileSync(
    config,
    [
      `webhookSecret: ${SECRET}`,
      `apiToken: ${API_TOKEN}`,
      `dataDir: ${join(work, 'data')}`,
      'repositories:',
      '  octo-org/app:',
      '    image: 127.0.0.1:5999/octo/app',
      `    cloneUrl: "${fixture.url}"`,
      '    buildArgs: {NPM_TOKEN: "${NPM_TOKEN}", MODE: production}',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = await startService('start', {
    cwd: work,
    args: ['--config', config],
    env: { PORT: String(port), REDIS_URL: redis.url, DOCKER_HOST: dockerd.host, NPM_TOKEN: VALUE },
  });
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([redis?.dispose(), dockerd?.stop()]);
  fixture?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every process's argv on this machine that mentions `text`. */
function argvMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (argv.includes(text) && pid !== String(process.pid)) found.push(argv);
    } catch {
      // gone already
    }
  }
  return found;
}

describe('a build arg from ${VAR}', () => {
  it('is used by the build but never stored, shown or put on a command line', async () => {
    const res = await deliver(base, {
      payload: pushPayload({ repository: 'octo-org/app', ref: 'refs/heads/main', sha: fixture.sha, defaultBranch: 'main', cloneUrl: fixture.url }),
      secret: SECRET,
    });
    expect(res.status).toBe(202);
    const [id] = res.json.builds as string[];
    const api = async (path: string) => (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();

    const seenInArgv: string[] = [];
    let build: { status: string; error: string } | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      seenInArgv.push(...argvMentioning(VALUE));
      build = JSON.parse(await api(`/api/builds/${id}`));
      if (!['queued', 'running'].includes(build!.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = await api(`/api/builds/${id}/log`);
    // The value did reach the build (the Dockerfile exits 3 only then) ...
    expect(build!.status).toBe('failed');
    expect(log, log).toMatch(/non-zero code: 3|exit code: 3/);
    expect(log).toContain('token is ***');
    // ... and nowhere else.
    expect(seenInArgv).toEqual([]);
    expect(build!.error).toContain('--build-arg NPM_TOKEN');
    const record = await api(`/api/builds/${id}`);
    const list = await api('/api/builds');
    const client = new Redis(redis.url);
    try {
      const job = JSON.stringify(await client.hgetall(`bull:autobuild-builds:${id}`));
      expect(job).toContain('NPM_TOKEN');
      const stored = JSON.stringify(await client.hgetall(`autobuild:build:${id}`));
      for (const text of [record, list, log, job, stored, service.stderr()]) {
        expect(text).not.toContain(VALUE);
      }
      // A value written plainly in autobuild.yml is no secret, but it stays out of Redis too.
      expect(job).not.toContain('production');
    } finally {
      client.disconnect();
    }
  }, 180_000);
});
