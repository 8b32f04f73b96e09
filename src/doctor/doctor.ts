import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../adapters/config-file.js';
import { BuildahBuilder } from '../adapters/builders/buildah.js';
import { DockerBuilder } from '../adapters/builders/docker.js';
import { inheritedEnv, run } from '../adapters/process.js';
import { RegistryClient } from '../adapters/registry-client.js';
import type { Config } from '../core/config.js';
import { BuildError, isUserError } from '../core/errors.js';
import { forgeRepository, splitRepositoryKey } from '../core/forges.js';
import type { Secret } from '../core/secret.js';
import { redactUrl } from '../service/redis-connection.js';
import { CHECK_GROUPS, type CheckGroup } from './check-groups.js';
import { checkForges } from './forge-checks.js';

// `autobuild doctor`: every check a new set-up fails on, one result each, with the fix. Each
// check touches the real thing (Redis, the builder, each registry, GitHub, the public URL) the
// cheapest way that still proves it works: nothing is pushed, no status is written. Checks run
// side by side; none depends on another except that all need a valid config.

type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name for scripts: `config`, `redis`, `registry:<host>`, `github:<owner/name>`... */
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do, when the check failed. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  config?: string;
  checks: CheckResult[];
}

export interface DoctorOptions {
  configFile?: string;
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Only these groups of checks (default all): a reload runs `--check config` before restarting. */
  only?: readonly CheckGroup[];
}

const NETWORK_TIMEOUT_MS = 5_000;
const PROBE_IMAGE = 'localhost/autobuild-doctor:probe';

const pass = (name: string, message: string): CheckResult => ({ name, status: 'pass', message });
const fail = (name: string, message: string, fix: string): CheckResult => ({ name, status: 'fail', message, fix });
const skip = (name: string, message: string): CheckResult => ({ name, status: 'skip', message });

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  let config: Config;
  try {
    config = await loadConfig(opts.configFile, opts.env, opts.cwd);
  } catch (err) {
    if (!isUserError(err)) throw err;
    return { ok: false, checks: [fail('config', err.problem, err.hint ?? 'fix autobuild.yml')] };
  }
  const groups: Record<CheckGroup, () => Promise<CheckResult>[]> = {
    config: () => [Promise.resolve(checkConfig(config))],
    redis: () => checkRedis(config),
    builder: () => [checkBuilder(config)],
    registries: () => checkRegistries(config),
    github: () => checkGitHub(config),
    forges: () => checkForges(config),
    'webhook-secret': () => [Promise.resolve(checkWebhookSecret(config))],
    'public-url': () => [checkPublicUrl(config)],
  };
  const wanted = CHECK_GROUPS.filter((g) => !opts.only || opts.only.includes(g));
  const checks = await Promise.all(wanted.flatMap((g) => groups[g]()));
  return { ok: checks.every((c) => c.status !== 'fail'), ...(config.file ? { config: config.file } : {}), checks };
}

function checkConfig(config: Config): CheckResult {
  if (!config.file) {
    return fail(
      'config',
      'no autobuild.yml found (looked for ./autobuild.yml and $AUTOBUILD_CONFIG)',
      'write autobuild.yml, or pass --config FILE / set AUTOBUILD_CONFIG',
    );
  }
  const repositories = Object.keys(config.repositories).length;
  if (repositories === 0)
    return fail(
      'config',
      `${config.file} is valid but lists no repositories: nothing will be built`,
      'add your repositories under repositories: in autobuild.yml',
    );
  const registries = Object.keys(config.registries).length;
  return pass('config', `${config.file} is valid (${plural(repositories, 'repository', 'repositories')}, ${plural(registries, 'registry', 'registries')})`);
}

// --- Redis -------------------------------------------------------------------------------------

function checkRedis(config: Config): Promise<CheckResult>[] {
  if (!config.redis) return [checkEmbeddedRedis()];
  const url = config.redis;
  const where = redactUrl(url);
  const probe = (async (): Promise<{ persistence: string; memory: string } | CheckResult> => {
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: NETWORK_TIMEOUT_MS,
      commandTimeout: NETWORK_TIMEOUT_MS,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectionName: 'autobuild-doctor',
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return { persistence: await redis.info('persistence'), memory: await redis.info('memory') };
    } catch (err) {
      return fail('redis', `cannot reach Redis at ${where}: ${(err as Error).message}`, 'start Redis, or fix redis in autobuild.yml / REDIS_URL');
    } finally {
      redis.disconnect();
    }
  })();
  const reachable = probe.then((r) => ('status' in r ? r : pass('redis', `Redis at ${where} answers`)));
  const persistent = probe.then((r) => {
    if ('status' in r) return skip('redis-persistence', 'Redis is not reachable');
    if (infoField(r.persistence, 'aof_enabled') === '1') return pass('redis-persistence', 'AOF is on: queued builds survive a Redis restart');
    return fail(
      'redis-persistence',
      `AOF is off at ${where}: queued builds are lost when Redis restarts`,
      'turn it on: `redis-cli CONFIG SET appendonly yes` now, and `appendonly yes` in redis.conf (or --appendonly yes) for good',
    );
  });
  const eviction = probe.then((r) => {
    if ('status' in r) return skip('redis-eviction', 'Redis is not reachable');
    const policy = infoField(r.memory, 'maxmemory_policy') ?? 'unknown';
    if (policy === 'noeviction') return pass('redis-eviction', 'maxmemory-policy is noeviction: jobs are never evicted');
    return fail(
      'redis-eviction',
      `maxmemory-policy is ${policy}: Redis may evict queued builds when memory runs short`,
      'set `maxmemory-policy noeviction` in redis.conf (BullMQ needs it)',
    );
  });
  return [reachable, persistent, eviction];
}

async function checkEmbeddedRedis(): Promise<CheckResult> {
  try {
    const res = await run('redis-server', ['--version'], { env: inheritedEnv(), what: 'redis-server --version' });
    return pass(
      'redis',
      `no redis configured: \`autobuild start\` runs its own (${res.stdout.split(' ').slice(0, 3).join(' ')}, AOF on); serve and worker need REDIS_URL`,
    );
  } catch (err) {
    return fail(
      'redis',
      `no redis configured, and the embedded one cannot start: ${firstLine(err)}`,
      'install redis-server, or set redis in autobuild.yml / REDIS_URL',
    );
  }
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

// --- Builder -----------------------------------------------------------------------------------

/** A FROM scratch build of one small file: proves the builder runs, needs no pull, leaves nothing behind. */
async function checkBuilder(config: Config): Promise<CheckResult> {
  const name = 'builder';
  const tool = config.builder;
  const versionArgs = tool === 'docker' ? ['version', '--format', '{{.Server.Version}}'] : ['--version'];
  let version: string;
  try {
    version = (await run(tool, versionArgs, { env: inheritedEnv(), what: `${tool} ${versionArgs[0]}` })).stdout.trim();
  } catch (err) {
    const missing = /not found — install it/.test((err as Error).message);
    if (tool === 'docker') {
      return missing
        ? fail(name, 'builder is docker but the docker CLI is not installed', 'install the docker CLI (apt-get install docker.io), or set builder: buildah')
        : fail(
            name,
            `builder is docker but no engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}: ${lastLine(err)}`,
            'start dockerd, or point DOCKER_HOST at a running engine (in a container: mount its socket and --group-add its group)',
          );
    }
    return fail(
      name,
      `builder is buildah but buildah does not run: ${missing ? 'it is not installed' : lastLine(err)}`,
      'install buildah (apt-get install buildah), or set builder: docker',
    );
  }
  const work = await mkdtemp(join(tmpdir(), 'autobuild-doctor-'));
  try {
    const contextDir = join(work, 'context');
    const dockerConfig = join(work, 'docker-config');
    await mkdir(contextDir);
    await mkdir(dockerConfig, { mode: 0o700 });
    await writeFile(join(contextDir, 'Dockerfile'), 'FROM scratch\nCOPY probe.txt /probe.txt\n');
    await writeFile(join(contextDir, 'probe.txt'), 'autobuild doctor\n');
    await writeFile(join(dockerConfig, 'config.json'), '{"auths":{}}\n', { mode: 0o600 });
    const builder =
      tool === 'buildah' ? new BuildahBuilder({ authFile: join(dockerConfig, 'config.json'), dockerConfig }) : new DockerBuilder({ dockerConfig });
    const spec = { contextDir, dockerfile: join(contextDir, 'Dockerfile'), buildArgs: {}, labels: {}, localName: PROBE_IMAGE, workDir: work };
    await builder.build(spec, { secrets: [] });
    const remove = tool === 'buildah' ? ['--storage-driver', 'vfs', 'rmi', '-f', PROBE_IMAGE] : ['image', 'rm', '-f', PROBE_IMAGE];
    await run(tool, remove, { env: inheritedEnv(['CONTAINERS_STORAGE_CONF']) }).catch(() => undefined);
    return pass(name, `${tool} ${version.split('\n')[0]} built a FROM scratch test image`);
  } catch (err) {
    const fix =
      tool === 'buildah'
        ? 'buildah needs user namespaces: in a container run it with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (README, Deploy)'
        : 'check the engine has disk space and that this user may use it (docker build . by hand shows the error)';
    return fail(name, `${tool} could not build a FROM scratch test image: ${lastLine(err)}`, fix);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// --- Registries --------------------------------------------------------------------------------

function checkRegistries(config: Config): Promise<CheckResult>[] {
  const hosts = Object.keys(config.registries);
  if (hosts.length === 0) return [Promise.resolve(skip('registries', 'no registries configured: pushes go out without credentials'))];
  const client = new RegistryClient(config.registries);
  return hosts.map(async (host) => {
    const name = `registry:${host}`;
    const auth = config.registries[host]!;
    try {
      const how = await client.login(host);
      if (how === 'credentials') return pass(name, `${host} accepted the credentials of ${auth.username}`);
      return pass(name, `${host} answers and asked for no credentials${auth.username ? ` (username ${auth.username} not needed)` : ''}`);
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      return fail(
        name,
        err.problem,
        err.hint ??
          (err.transient
            ? `check that ${host} is up and reachable from here (and registries.${host}.insecure for plain HTTP)`
            : `check registries.${host} in autobuild.yml`),
      );
    }
  });
}

// --- GitHub ------------------------------------------------------------------------------------

/** GitHub's token scopes that allow writing commit statuses (classic tokens list theirs in X-OAuth-Scopes). */
const STATUS_SCOPES = ['repo', 'repo:status', 'public_repo'];

function checkGitHub(config: Config): Promise<CheckResult>[] {
  const { token, statuses, apiUrl } = config.github;
  if (!statuses) return [Promise.resolve(skip('github', 'github.statuses is false: no commit statuses are set'))];
  if (!token || token.empty) return [Promise.resolve(skip('github', 'github.token is not set: no commit statuses are set'))];
  const repositories = githubRepositories(config);
  if (repositories.length === 0) return [githubRequest(apiUrl, token, '/rate_limit').then((r) => githubVerdict('github', r, undefined))];
  return repositories.map(async (repository) => {
    const [owner, repo] = repository.split('/');
    const res = await githubRequest(apiUrl, token, `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(repo!)}`);
    return githubVerdict(`github:${repository}`, res, repository);
  });
}

/** Keys with a host in front belong to other forges (forges:); GitHub's are plain owner/name. */
function githubRepositories(config: Config): string[] {
  return Object.keys(config.repositories).filter((k) => forgeRepository(k, config.forges) === undefined);
}

interface GitHubAnswer {
  status: number;
  scopes: string | null;
  body: { permissions?: { push?: boolean }; private?: boolean } | undefined;
  error?: string;
}

async function githubRequest(apiUrl: string, token: Secret, path: string): Promise<GitHubAnswer> {
  try {
    const res = await fetch(`${apiUrl.replace(/\/+$/, '')}${path}`, {
      headers: {
        authorization: `Bearer ${token.reveal()}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'autobuild-doctor',
      },
      signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
    });
    const body = res.ok ? ((await res.json().catch(() => undefined)) as GitHubAnswer['body']) : (await res.body?.cancel(), undefined);
    return { status: res.status, scopes: res.headers.get('x-oauth-scopes'), body };
  } catch (err) {
    return { status: 0, scopes: null, body: undefined, error: ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message };
  }
}

function githubVerdict(name: string, res: GitHubAnswer, repository: string | undefined): CheckResult {
  const what = repository ?? 'the API';
  if (res.status === 0) return fail(name, `cannot reach GitHub's API at github.apiUrl: ${res.error}`, 'check github.apiUrl and that this machine reaches it');
  if (res.status === 401)
    return fail(
      name,
      'GitHub refused github.token (HTTP 401: bad or expired token)',
      'make a new token with commit status write access and put it in github.token',
    );
  if (res.status === 404 || res.status === 403) {
    return fail(
      name,
      `github.token cannot see ${what} (HTTP ${res.status})`,
      `give the token access to ${what} (fine-grained: "Commit statuses: write"; classic: the repo:status scope)`,
    );
  }
  if (res.status >= 300) return fail(name, `GitHub answered HTTP ${res.status} for ${what}`, 'check github.apiUrl and try again later');
  if (res.scopes !== null) {
    const scopes = res.scopes.split(',').map((s) => s.trim());
    const usable = scopes.filter((s) => STATUS_SCOPES.includes(s) && (s !== 'public_repo' || res.body?.private === false));
    if (usable.length === 0) {
      return fail(
        name,
        `github.token has scopes "${res.scopes}", none of which may set commit statuses${repository ? ` on ${repository}` : ''}`,
        'give the token the repo:status scope (or use a fine-grained token with "Commit statuses: write")',
      );
    }
  }
  if (repository && res.body?.permissions?.push === false) {
    return fail(
      name,
      `github.token's account may not write to ${repository}, so it cannot set commit statuses`,
      `give that account write access to ${repository}`,
    );
  }
  return pass(name, repository ? `github.token may set commit statuses on ${repository}` : 'github.token is accepted');
}

// --- Webhook secret and public URL -------------------------------------------------------------

function checkWebhookSecret(config: Config): CheckResult {
  if (config.webhookSecret && !config.webhookSecret.empty) return pass('webhook-secret', 'webhookSecret is set');
  // A set-up with only GitLab/Bitbucket/Gitea repositories takes no GitHub webhooks.
  const github = Object.keys(config.repositories).some((key) => splitRepositoryKey(key).host === undefined);
  if (!github && Object.keys(config.forges).length > 0)
    return skip('webhook-secret', 'webhookSecret is not set; no GitHub repository is configured, so none is needed');
  return fail(
    'webhook-secret',
    'webhookSecret is not set: every webhook will be refused with 401',
    'set webhookSecret: ${GITHUB_WEBHOOK_SECRET} in autobuild.yml and the same secret on the GitHub webhook',
  );
}

async function checkPublicUrl(config: Config): Promise<CheckResult> {
  const { host, port, publicUrl } = config.server;
  const base = (publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  const unset = publicUrl ? '' : ' (server.publicUrl is not set)';
  const url = `${base}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS), redirect: 'follow' });
    const body = (await res.json().catch(() => undefined)) as { ok?: boolean; redis?: string } | undefined;
    if (res.status === 200 && body?.ok) return pass('public-url', `${url} answers${unset}`);
    if (res.status === 503 && body?.redis === 'down')
      return fail('public-url', `${url} answers but that autobuild cannot reach its Redis`, 'check the redis setting of the running autobuild serve');
    return fail(
      'public-url',
      `${url} answered HTTP ${res.status}, not autobuild's health check`,
      'point server.publicUrl (or the proxy in front) at autobuild serve',
    );
  } catch (err) {
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    return fail(
      'public-url',
      `nothing answers at ${url}${unset}: ${reason}`,
      'start `autobuild serve` (or start), and set server.publicUrl to the address GitHub and your users reach',
    );
  }
}

// --- Output ------------------------------------------------------------------------------------

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0]!;
}

/** The most telling line of a failed command: the last non-empty output line, else the message. */
function lastLine(err: unknown): string {
  const tail = err instanceof BuildError ? err.tail.filter((l) => l.trim() !== '') : [];
  return tail.at(-1)?.trim() ?? firstLine(err);
}

/**
 * 0 when nothing failed; 2 when the config could not be read (bad input, as for every command:
 * nothing else could be checked); 1 when a check failed.
 */
export function doctorExitCode(report: DoctorReport): number {
  if (report.ok) return 0;
  return report.checks.length === 1 && report.checks[0]!.name === 'config' ? 2 : 1;
}

/** One line per check, as `autobuild doctor` prints them. */
export function formatReport(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const mark: Record<CheckStatus, string> = { pass: 'ok  ', fail: 'FAIL', skip: 'skip' };
  return report.checks.map((c) => `${mark[c.status]}  ${c.name.padEnd(width)}  ${c.message}${c.fix ? ` — fix: ${c.fix}` : ''}`);
}
