import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDockerd, startRegistry, tempDir, type Dockerd, type Registry } from '../support/engines.js';
import { startRecorder, type Recorder } from '../support/github-recorder.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, repoRoot, startService, type ServiceProcess } from '../support/service-process.js';

// `autobuild doctor` against the real things: a private dockerd, buildah, Redis with and
// without AOF, an htpasswd registry, a running `autobuild serve` at the public URL, and a
// stand-in for GitHub's API that knows one good token. Each row breaks one thing and expects
// that check, and only that check, to fail with its fix.

const USER = 'bot';
const PASSWORD = 'registry-pass-1234';
const TOKEN = 'ghp_goodtoken1234';
const REPOSITORY = 'octo-org/app';

let dockerd: Dockerd;
let registry: Registry;
let redis: TestRedis;
let redisNoAof: TestRedis;
let github: Recorder;
let serve: ServiceProcess;
let work: string;
let buildahStorage: string;
let port: number;
/** A port nothing listens on. */
let deadPort: number;

interface Report {
  ok: boolean;
  checks: { name: string; status: 'pass' | 'fail' | 'skip'; message: string; fix?: string }[];
}

function configText(over: { redis?: string; builder?: string } = {}): string {
  return [
    `redis: ${over.redis ?? redis.url}`,
    `builder: ${over.builder ?? 'docker'}`,
    `dataDir: ${join(work, 'data')}`,
    'webhookSecret: ${WEBHOOK_SECRET}',
    `server: {host: 127.0.0.1, port: ${port}, publicUrl: "http://127.0.0.1:${port}"}`,
    `github: {token: \${GITHUB_TOKEN}, apiUrl: "${github.url}"}`,
    'registries:',
    `  "${registry.host}": {username: ${USER}, password: \${REGISTRY_PASSWORD}}`,
    'repositories:',
    `  ${REPOSITORY}: {image: ${registry.host}/octo/app}`,
    '',
  ].join('\n');
}

const goodEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/root',
  DOCKER_HOST: dockerd.host,
  CONTAINERS_STORAGE_CONF: join(buildahStorage, 'storage.conf'),
  WEBHOOK_SECRET: 'webhook-secret-1234',
  GITHUB_TOKEN: TOKEN,
  REGISTRY_PASSWORD: PASSWORD,
});

async function doctor(config: string, env: Record<string, string | undefined>, json = true) {
  const file = join(work, `autobuild-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, config);
  const res = await execa(process.execPath, [join(repoRoot, 'bin/autobuild.js'), 'doctor', '--config', file, ...(json ? ['--json'] : [])], {
    cwd: work,
    env,
    extendEnv: false,
    reject: false,
  });
  return res;
}

beforeAll(async () => {
  buildBinary();
  work = tempDir('doctor');
  buildahStorage = join(work, 'buildah');
  mkdirSync(buildahStorage);
  writeFileSync(join(buildahStorage, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${buildahStorage}/root"\nrunroot = "${buildahStorage}/run"\n`);
  [dockerd, registry, redis, github, port] = await Promise.all([
    startDockerd(),
    startRegistry({ username: USER, password: PASSWORD }),
    startRedis(),
    startRecorder({
      answer: (req) => {
        if (req.path.startsWith('/gitlab/api/v4/')) {
          if (req.headers['private-token'] !== 'glpat-good-token') return { status: 401, body: { message: '401 Unauthorized' } };
          return req.path === '/gitlab/api/v4/projects/group%2Fsub%2Fapp'
            ? { status: 200, body: { id: 1 } }
            : { status: 404, body: { message: '404 Project Not Found' } };
        }
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: 'Bad credentials' } };
        if (req.path === `/repos/${REPOSITORY}`)
          return {
            status: 200,
            body: { full_name: REPOSITORY, private: true, permissions: { admin: false, push: true, pull: true } },
            headers: { 'x-oauth-scopes': 'repo:status, read:org' },
          };
        return { status: 404, body: { message: 'Not Found' } };
      },
    }),
    freePort(),
  ]);
  deadPort = await freePort();
  redisNoAof = await startRedis();
  await execa('redis-cli', ['-p', String(redisNoAof.port), 'CONFIG', 'SET', 'appendonly', 'no']);
  writeFileSync(join(work, 'serve.yml'), configText());
  serve = await startService('serve', { cwd: work, env: goodEnv(), args: ['--config', join(work, 'serve.yml')] });
});

afterAll(async () => {
  await serve?.stop();
  await Promise.all([dockerd?.stop(), registry?.stop(), redis?.dispose(), redisNoAof?.dispose(), github?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const byName = (report: Report) => Object.fromEntries(report.checks.map((c) => [c.name, c]));

describe('autobuild doctor on a good set-up', () => {
  it.each(['docker', 'buildah'])('all checks pass with builder %s, exit 0, one JSON document', async (builder) => {
    const res = await doctor(configText({ builder }), goodEnv());
    const report = JSON.parse(res.stdout) as Report;
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(res.exitCode).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual([
      'config',
      'redis',
      'redis-persistence',
      'redis-eviction',
      'builder',
      `registry:${registry.host}`,
      `github:${REPOSITORY}`,
      'webhook-secret',
      'public-url',
    ]);
    expect(byName(report)['builder']!.message).toMatch(new RegExp(`^${builder} .* built a FROM scratch test image$`));
    expect(byName(report)[`registry:${registry.host}`]!.message).toBe(`${registry.host} accepted the credentials of ${USER}`);
    // Nothing was pushed and no status was written: the checks only read.
    expect(
      await fetch(`http://${registry.host}/v2/_catalog`, { headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } }).then(
        (r) => r.json(),
      ),
    ).toEqual({ repositories: [] });
    expect(github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    expect(res.stdout + res.stderr).not.toContain(TOKEN);
  });

  it('--check config runs only the config check (what the systemd reload runs first)', async () => {
    const file = join(work, 'only.yml');
    writeFileSync(file, configText({ redis: `redis://127.0.0.1:${deadPort}` }));
    const res = await execa(process.execPath, [join(repoRoot, 'bin/autobuild.js'), 'doctor', '--check', 'config', '--config', file, '--json'], {
      cwd: work,
      env: goodEnv(),
      extendEnv: false,
      reject: false,
    });
    expect(JSON.parse(res.stdout).checks.map((c: { name: string }) => c.name)).toEqual(['config']);
    expect(res.exitCode).toBe(0);
  });

  it('prints one line per check without --json', async () => {
    const res = await doctor(configText(), goodEnv(), false);
    expect(res.exitCode).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(9);
    for (const line of lines) expect(line).toMatch(/^ok {4}\S+ +\S/);
  });
});

describe('autobuild doctor checks each forge under forges:', () => {
  const forgeConfig = (token: string, secret = 'gl-webhook-secret') =>
    configText().replace(
      'repositories:\n',
      [
        'forges:',
        `  gitlab.example.com: {type: gitlab, webhookSecret: "${secret}", token: ${token}, apiUrl: "${github.url}/gitlab/api/v4"}`,
        'repositories:',
        '  gitlab.example.com/group/sub/app: {image: registry.example.com/gl/app}',
        '',
      ].join('\n'),
    );

  it('a forge with its webhook secret and a token that reads the repository passes', async () => {
    const res = await doctor(forgeConfig('glpat-good-token'), goodEnv());
    const report = byName(JSON.parse(res.stdout) as Report);
    expect(report['forge:gitlab.example.com']).toMatchObject({ status: 'pass' });
    expect(report['forge:gitlab.example.com/group/sub/app']).toMatchObject({
      status: 'pass',
      message: 'forges.gitlab.example.com.token can read group/sub/app',
    });
    expect(res.stdout).not.toContain('glpat-good-token');
  });

  it.each([
    [
      'a refused token',
      () => forgeConfig('glpat-revoked'),
      'forge:gitlab.example.com/group/sub/app',
      /gitlab refused forges\.gitlab\.example\.com\.token \(HTTP 401/,
      /make a new token/,
    ],
    [
      'no webhook secret',
      () => forgeConfig('glpat-good-token', ''),
      'forge:gitlab.example.com',
      /webhookSecret is not set: every gitlab webhook will be refused with 401/,
      /set forges\.gitlab\.example\.com\.webhookSecret/,
    ],
  ])('%s fails with its fix', async (_name, config, check, message, fix) => {
    const res = await doctor(config(), goodEnv());
    const failed = (JSON.parse(res.stdout) as Report).checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.name)).toEqual([check]);
    expect(failed[0]!.message).toMatch(message);
    expect(failed[0]!.fix).toMatch(fix);
    expect(res.exitCode).toBe(1);
  });
});

describe('autobuild doctor names what is broken and how to fix it', () => {
  const rows: { name: string; setup: () => { config: string; env: Record<string, string | undefined> }; check: string; message: RegExp; fix: RegExp }[] = [
    {
      name: 'Redis down',
      setup: () => ({ config: configText({ redis: `redis://127.0.0.1:${deadPort}` }), env: goodEnv() }),
      check: 'redis',
      message: /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/,
      fix: /start Redis, or fix redis in autobuild\.yml \/ REDIS_URL/,
    },
    {
      name: 'AOF off',
      setup: () => ({ config: configText({ redis: redisNoAof.url }), env: goodEnv() }),
      check: 'redis-persistence',
      message: /AOF is off .*queued builds are lost when Redis restarts/,
      fix: /CONFIG SET appendonly yes.*appendonly yes/,
    },
    {
      name: 'wrong registry password',
      setup: () => ({ config: configText(), env: { ...goodEnv(), REGISTRY_PASSWORD: 'not-the-password' } }),
      check: 'registry:',
      message: /denied access \(HTTP 401\)/,
      fix: /registries\.127\.0\.0\.1:\d+\.username and registries\.127\.0\.0\.1:\d+\.password/,
    },
    {
      name: 'docker not installed',
      setup: () => ({ config: configText(), env: { ...goodEnv(), PATH: join(work, 'empty-path') } }),
      check: 'builder',
      message: /^builder is docker but the docker CLI is not installed$/,
      fix: /install the docker CLI .* or set builder: buildah/,
    },
    {
      name: 'docker engine not running',
      setup: () => ({ config: configText(), env: { ...goodEnv(), DOCKER_HOST: `unix://${join(work, 'no-such.sock')}` } }),
      check: 'builder',
      message: /^builder is docker but no engine answers/,
      fix: /start dockerd, or point DOCKER_HOST at a running engine/,
    },
    {
      name: 'buildah not installed',
      setup: () => ({ config: configText({ builder: 'buildah' }), env: { ...goodEnv(), PATH: join(work, 'empty-path') } }),
      check: 'builder',
      message: /^builder is buildah but buildah does not run: it is not installed$/,
      fix: /install buildah .* or set builder: docker/,
    },
    {
      name: 'bad GitHub token',
      setup: () => ({ config: configText(), env: { ...goodEnv(), GITHUB_TOKEN: 'ghp_revoked' } }),
      check: 'github:',
      message: /GitHub refused github\.token \(HTTP 401/,
      fix: /make a new token/,
    },
    {
      name: 'webhook secret unset',
      setup: () => ({ config: configText(), env: { ...goodEnv(), WEBHOOK_SECRET: undefined } }),
      check: 'webhook-secret',
      message: /webhookSecret is not set/,
      fix: /set webhookSecret/,
    },
  ];

  it.each(rows)('$name: only $check fails, with its fix; exit 1', async (row) => {
    mkdirSync(join(work, 'empty-path'), { recursive: true });
    const { config, env } = row.setup();
    const res = await doctor(config, env);
    expect(res.exitCode).toBe(1);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.name)).toEqual([expect.stringMatching(new RegExp(`^${row.check}`))]);
    expect(failed[0]!.message).toMatch(row.message);
    expect(failed[0]!.fix).toMatch(row.fix);
    expect(res.stdout).not.toContain(PASSWORD);
  });

  it('public URL with nothing behind it fails with how to fix it', async () => {
    const other = deadPort;
    const res = await doctor(configText().replace(`publicUrl: "http://127.0.0.1:${port}"`, `publicUrl: "http://127.0.0.1:${other}"`), goodEnv(), false);
    expect(res.exitCode).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(`^FAIL  public-url +nothing answers at http://127\\.0\\.0\\.1:${other}/healthz: .* — fix: start \`autobuild serve\``, 'm'),
    );
  });

  it('an invalid config is the one failed check, named with its key path; exit 2 as for any bad input', async () => {
    const res = await doctor(`${configText()}concurrency: many\n`, goodEnv());
    expect(res.exitCode).toBe(2);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.checks).toEqual([{ name: 'config', status: 'fail', message: expect.stringMatching(/concurrency/), fix: expect.any(String) }]);
  });
});
