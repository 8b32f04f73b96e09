import { isSecretId, parseCacheSpec, parsePlatforms } from './build-settings.js';
import { describeIssue, fail, type Path, type Problem, type VariableUse } from './config-problems.js';
import { configSchema, type ConfigOutput } from './config-schema.js';
import { readYaml, substitute, type Env } from './config-variables.js';
import { UserError } from './errors.js';
import { defaultApiUrl, splitRepositoryKey, type ForgeConfig } from './forges.js';
import type { NotificationTarget } from './notifications.js';
import { regexBody } from './dockerhub-rules.js';
import { parseFlavor } from './metadata-flavor.js';
import { parseTags } from './metadata-tags.js';
import { imageName } from './plan-inputs.js';
import { parseReference } from './references.js';
import { Secret } from './secret.js';
import type { BuildRule, RegistryAuth, RepositoryConfig } from './types.js';
import { UnboundedRegexError, userRegExp } from './user-regex.js';

// autobuild.yml text -> a typed Config: YAML and `${VAR}` (config-variables.ts), then the zod
// schema (config-schema.ts), then the checks that need the rest of the core (image names,
// regexes, tags lines) and the assembly of the Config. Every problem becomes one line
// (config-problems.ts): `<file>: <key.path>: <problem> — <fix>`.

export interface Config {
  /** The file this came from; undefined for defaultConfig(). */
  file?: string;
  server: { host: string; port: number; publicUrl?: string };
  /** redis:// URL; undefined: `start` runs an embedded redis-server. */
  redis?: string;
  dataDir: string;
  webhookSecret?: Secret;
  apiToken?: Secret;
  builder: 'docker' | 'buildah';
  concurrency: number;
  timeoutMinutes: number;
  /** How often the bases of `rebuildOnBaseChange` repositories are checked. */
  baseImagePollMinutes: number;
  github: { token?: Secret; apiUrl: string; statuses: boolean };
  /** Keyed by registry host as written: `registry.example.com`, `127.0.0.1:5000`, `docker.io`. */
  registries: Record<string, RegistryAuth>;
  /** Keyed `owner/name`. Trigger tokens are secrets and live in `triggerTokens`. */
  repositories: Record<string, RepositoryConfig>;
  /**
   * Each repository's `triggerToken`, as a Secret, keyed like `repositories`. Kept apart so that
   * RepositoryConfig, which travels into plans, never carries a secret.
   */
  triggerTokens: Record<string, Secret>;
  /** GitLab, Bitbucket, Gitea/Forgejo, keyed by host as written. */
  forges: Record<string, ForgeConfig>;
  /** Top-level notification receivers; told of every repository's builds. */
  notifications: NotificationTarget[];
  /** Each repository's own receivers, keyed like `repositories` (kept apart: they hold secrets). */
  repositoryNotifications: Record<string, NotificationTarget[]>;
  /** Each repository's build `secrets` (ID -> value), keyed like `repositories`; never planned or queued. */
  buildSecrets: Record<string, Record<string, Secret>>;
  /** Pull-through mirrors for `FROM` pulls, keyed by registry host. */
  mirrors: Record<string, string[]>;
  /**
   * Each repository's `env` (Docker Hub's build environment variables) and `sshKey`, kept apart
   * for the same reason: only the worker reads them, from its own configuration.
   */
  buildEnv: Record<string, Record<string, Secret>>;
  sshKeys: Record<string, Secret>;
  /**
   * Credentials written in a repository's `cloneUrl` (`https://user:pass@host/...`), keyed like
   * `repositories`. They are cut out of the URL at load, so the URL can be shown anywhere, and
   * reach git only as an HTTP header.
   */
  cloneCredentials: Record<string, CloneCredentials>;
  /** Every build-arg value that came from `${VAR}`: handled like any secret (masked everywhere). */
  buildArgSecrets: Secret[];
}

export interface CloneCredentials {
  username: string;
  password: Secret;
  /** `user:password` as git sends it in a Basic Authorization header. */
  userinfo: Secret;
  /** Forms the same values may take in output (password alone, percent-encoded), for masking. */
  forms: Secret[];
}

const REPOSITORY_KEY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** GitLab paths nest groups; Bitbucket and Gitea are owner/name. */
const FORGE_PATH = { gitlab: /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+$/, other: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/ };

function checkRepositoryKey(key: string, forges: Record<string, ForgeConfig>): Problem | undefined {
  const path = ['repositories', key];
  const split = splitRepositoryKey(key);
  if (split.host === undefined) {
    return REPOSITORY_KEY.test(key)
      ? undefined
      : { path, problem: 'is not a GitHub repository', hint: 'write the key as owner/name, e.g. octo-org/app, or HOST/PATH for a forge under forges:' };
  }
  const forge = Object.entries(forges).find(([h]) => h.toLowerCase() === split.host)?.[1];
  if (!forge) {
    return {
      path,
      problem: `names host ${split.host}, which is not under forges:`,
      hint: `add forges.${split.host} with its type (gitlab, bitbucket, gitea), or write a GitHub key as owner/name`,
    };
  }
  if (!(forge.type === 'gitlab' ? FORGE_PATH.gitlab : FORGE_PATH.other).test(split.path)) {
    const shape = forge.type === 'gitlab' ? 'HOST/group[/subgroup...]/project' : forge.type === 'bitbucket' ? 'HOST/workspace/repository' : 'HOST/owner/name';
    return { path, problem: `is not a ${forge.type} repository`, hint: `write the key as ${shape}` };
  }
  return undefined;
}

function notificationTargets(list: ConfigOutput['notifications'], prefix: string): NotificationTarget[] {
  return list.map((n, i) => {
    const target: NotificationTarget = { id: `${prefix}[${i}]`, url: n.url, events: [...new Set(n.events)], format: n.format };
    const signing = secret(n.secret);
    if (signing) target.secret = signing;
    return target;
  });
}

function toForges(data: ConfigOutput, problems: Problem[]): Record<string, ForgeConfig> {
  const forges: Record<string, ForgeConfig> = {};
  for (const [host, f] of Object.entries(data.forges)) {
    if (!/^[A-Za-z0-9.-]+(?::[0-9]+)?$/.test(host) || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
      problems.push({
        path: ['forges', host],
        problem: 'must be a host name',
        hint: 'write the host as in its URLs, e.g. gitlab.com, bitbucket.org or git.example.com',
      });
    }
    const type = f.type === 'forgejo' ? 'gitea' : f.type;
    const entry: ForgeConfig = { type, apiUrl: f.apiUrl ?? defaultApiUrl(type, host.toLowerCase()), statuses: f.statuses };
    const webhookSecret = secret(f.webhookSecret);
    if (webhookSecret) entry.webhookSecret = webhookSecret;
    const token = secret(f.token);
    if (token) entry.token = token;
    if (f.username !== undefined) entry.username = f.username;
    forges[host] = entry;
  }
  return forges;
}

const REDIS_ADDRESS_HINT = 'write redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS) or the absolute path of a unix socket';

/** What ioredis can connect to: a redis:// or rediss:// URL with a host, or a socket path. */
function isRedisAddress(text: string): boolean {
  if (text.startsWith('/') && !text.startsWith('//')) return true;
  if (!/^rediss?:\/\//i.test(text) || !URL.canParse(text)) return false;
  return new URL(text).hostname !== '';
}

function checkRegistryHost(host: string): Problem | undefined {
  const path = ['registries', host];
  if (/^[a-z]+:\/\//i.test(host))
    return { path, problem: 'must be a registry host, not a URL', hint: `write ${JSON.stringify(host.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, ''))}` };
  try {
    const domain = parseReference(`${host}/x`).domain;
    if (domain === host || (domain === 'docker.io' && host === 'index.docker.io')) return undefined;
  } catch {
    // reported below
  }
  return { path, problem: 'is not a registry host', hint: 'write host[:port], e.g. registry.example.com, 127.0.0.1:5000 or docker.io' };
}

/** Image names, read as every entry point reads them (plan-inputs.ts). */
function images(value: string | string[], path: Path, problems: Problem[]): string[] {
  const list = typeof value === 'string' ? [value] : value;
  const out: string[] = [];
  list.forEach((text, i) => {
    const at = typeof value === 'string' ? path : [...path, i];
    try {
      const name = imageName(text);
      if (!out.includes(name)) out.push(name);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push({ path: at, problem: err.problem, ...(err.hint ? { hint: err.hint } : {}) });
    }
  });
  return out;
}

function checkRules(rules: BuildRule[], path: Path, problems: Problem[]): void {
  rules.forEach((rule, i) => {
    if (rule.platforms) checkLines(rule.platforms.join(','), [...path, i, 'platforms'], (t) => parsePlatforms(t, 'platforms'), problems);
    const source = rule.source;
    const body = regexBody(source);
    if (body !== undefined) {
      try {
        userRegExp(body);
      } catch (err) {
        if (err instanceof UnboundedRegexError) {
          problems.push({
            path: [...path, i, 'source'],
            problem: `regular expression ${source} is refused: ${err.message}`,
            hint: 'rewrite it without those, e.g. + instead of {17,}, or one rule per case instead of a lookahead',
          });
          return;
        }
        problems.push({
          path: [...path, i, 'source'],
          problem: `invalid regular expression ${source}: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`,
          hint: 'fix the pattern between the slashes',
        });
      }
    }
  });
}

/** Runs a core parser only to report its UserError under the key path. */
function checkLines(text: string, path: Path, parse: (text: string) => unknown, problems: Problem[]): void {
  try {
    parse(text);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    problems.push({ path, problem: err.message });
  }
}

/** Names a shell and compose accept as variables; values become secrets (an empty value stays ''). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envOf(values: Record<string, string>, path: Path, problems: Problem[]): Record<string, Secret> {
  const out: Record<string, Secret> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!ENV_NAME.test(name)) {
      problems.push({
        path: [...path, name],
        problem: 'is not a variable name',
        hint: 'use letters, digits and _ (not starting with a digit), e.g. SSH_PRIVATE',
      });
      continue;
    }
    out[name] = new Secret(value);
  }
  return out;
}

/** A repository-relative path, normalised; undefined when it is absolute or leaves the checkout. */
function insideCheckout(path: string): string | undefined {
  if (path.startsWith('/') || path.includes('\0')) return undefined;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.length === 0 ? '.' : out.join('/');
}

/** `context` must stay in the checkout; `dockerfile` too, read from the context or the root. */
function checkBuildPaths(context: string | undefined, dockerfile: string | undefined, path: Path, fallbackContext: string, problems: Problem[]): void {
  const fix = 'give a path inside the repository, relative to its root (no leading / and no .. that climbs out)';
  if (context !== undefined && insideCheckout(context) === undefined) {
    problems.push({ path: [...path, 'context'], problem: `${JSON.stringify(context)} leaves the repository's checkout`, hint: fix });
  }
  if (dockerfile !== undefined) {
    const ctx = insideCheckout(context ?? fallbackContext) ?? '.';
    if (dockerfile.startsWith('/') || (insideCheckout(`${ctx}/${dockerfile}`) === undefined && insideCheckout(dockerfile) === undefined)) {
      problems.push({ path: [...path, 'dockerfile'], problem: `${JSON.stringify(dockerfile)} leaves the repository's checkout`, hint: fix });
    }
  }
}

/** Cuts `user:pass@` out of an http(s) clone URL; the URL without it is what everyone sees. */
function splitCloneUrl(text: string): { url: string; credentials?: CloneCredentials } {
  // The authority ends at the first `/`; its user part at the last `@` (a raw `@` in a password).
  const m = /^(https?:\/\/)([^/?#]*)@([^@/?#]*(?:[/?#].*)?)$/i.exec(text);
  if (!m) return { url: text };
  const [, scheme, raw, rest] = m as unknown as [string, string, string, string];
  const colon = raw.indexOf(':');
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  const user = decode(colon === -1 ? raw : raw.slice(0, colon));
  const password = colon === -1 ? '' : decode(raw.slice(colon + 1));
  // `https://TOKEN@host/...` carries a token as the user name: it is as secret as a password.
  const forms = [password || user, raw, colon === -1 ? '' : raw.slice(colon + 1)].filter((v) => v.length > 0).map((v) => new Secret(v));
  return { url: `${scheme}${rest}`, credentials: { username: user, password: new Secret(password), userinfo: new Secret(`${user}:${password}`), forms } };
}

function secret(value: string | undefined): Secret | undefined {
  return value === undefined || value === '' ? undefined : new Secret(value);
}

/** Tokens that stand alone as a credential (the API's, a trigger URL's) must not be guessable. */
const MIN_TOKEN_LENGTH = 16;

function checkTokenLength(value: string | undefined, path: string[], problems: Problem[]): void {
  if (value === undefined || value === '' || value.length >= MIN_TOKEN_LENGTH) return;
  // The length only: the value itself is a secret and never goes into a message.
  problems.push({
    path,
    problem: `is ${value.length} characters long; a token needs at least ${MIN_TOKEN_LENGTH}`,
    hint: 'generate one with `openssl rand -hex 32`',
  });
}

function toConfig(data: ConfigOutput, file: string | undefined, used: VariableUse): Config {
  const problems: Problem[] = [];
  const registries: Record<string, RegistryAuth> = {};
  for (const [host, reg] of Object.entries(data.registries)) {
    const bad = checkRegistryHost(host);
    if (bad) problems.push(bad);
    const entry: RegistryAuth = { insecure: reg.insecure };
    if (reg.username !== undefined) entry.username = reg.username;
    const password = secret(reg.password);
    if (password) entry.password = password;
    registries[host] = entry;
  }
  const forges = toForges(data, problems);
  // The URL may hold a password: the message never shows it.
  if (data.redis !== undefined && !isRedisAddress(data.redis)) problems.push({ path: ['redis'], problem: 'is not a Redis URL', hint: REDIS_ADDRESS_HINT });
  const repositories: Record<string, RepositoryConfig> = {};
  const triggerTokens: Record<string, Secret> = {};
  const repositoryNotifications: Record<string, NotificationTarget[]> = {};
  const secretsByRepo: Record<string, Record<string, Secret>> = {};
  const buildEnv: Record<string, Record<string, Secret>> = {};
  const sshKeys: Record<string, Secret> = {};
  const cloneCredentials: Record<string, CloneCredentials> = {};
  const seen = new Map<string, string>();
  for (const [key, repo] of Object.entries(data.repositories)) {
    const path = ['repositories', key];
    const badKey = checkRepositoryKey(key, forges);
    if (badKey) problems.push(badKey);
    const twin = seen.get(key.toLowerCase());
    if (twin !== undefined) problems.push({ path, problem: `names the same repository as ${twin}`, hint: 'repository names ignore case; keep one of them' });
    if (repo.notifications.length > 0) repositoryNotifications[key] = notificationTargets(repo.notifications, `repositories.${key}.notifications`);
    seen.set(key.toLowerCase(), key);
    checkRules(repo.rules, [...path, 'rules'], problems);
    checkLines(repo.tags, [...path, 'tags'], parseTags, problems);
    checkLines(repo.flavor, [...path, 'flavor'], parseFlavor, problems);
    checkBuildPaths(repo.context, repo.dockerfile, path, '.', problems);
    repo.rules.forEach((rule, i) => checkBuildPaths(rule.context, rule.dockerfile, [...path, 'rules', i], repo.context, problems));
    const config: RepositoryConfig = {
      images: images(repo.image, [...path, 'image'], problems),
      preset: repo.preset,
      rules: repo.rules,
      tags: repo.tags,
      flavor: repo.flavor,
      paths: repo.paths,
      dockerfile: repo.dockerfile,
      context: repo.context,
      buildArgs: repo.buildArgs,
      labels: repo.labels,
      webhooks: repo.webhooks,
      autotest: repo.autotest,
      submodules: repo.submodules,
      knownHosts: repo.knownHosts,
    };
    if (repo.platforms !== undefined) {
      checkLines(repo.platforms.join(','), [...path, 'platforms'], (t) => parsePlatforms(t, 'platforms'), problems);
      if (repo.platforms.length > 0) config.platforms = repo.platforms;
    }
    if (repo.target !== undefined) config.target = repo.target;
    if (repo.pull) config.pull = true;
    if (repo.rebuildOnBaseChange) config.rebuildOnBaseChange = true;
    if (repo.noCache) config.noCache = true;
    for (const name of ['cacheFrom', 'cacheTo'] as const) {
      const lines = repo[name];
      if (lines === undefined) continue;
      lines.forEach((line, i) => checkLines(line, [...path, name, i], (t) => parseCacheSpec(t, name), problems));
      config[name] = lines;
    }
    const buildSecrets: Record<string, Secret> = {};
    for (const [id, value] of Object.entries(repo.secrets ?? {})) {
      if (!isSecretId(id))
        problems.push({
          path: [...path, 'secrets', id],
          problem: 'is not a secret id',
          hint: 'use letters, digits, _ . - (the id of RUN --mount=type=secret,id=ID)',
        });
      const s = secret(value);
      if (s) buildSecrets[id] = s;
    }
    if (Object.keys(buildSecrets).length > 0) secretsByRepo[key] = buildSecrets;
    if (repo.timeoutMinutes !== undefined) config.timeoutMinutes = repo.timeoutMinutes;
    if (repo.cloneUrl !== undefined) {
      const split = splitCloneUrl(repo.cloneUrl);
      config.cloneUrl = split.url;
      if (split.credentials) cloneCredentials[key] = split.credentials;
    }
    repositories[key] = config;
    checkTokenLength(repo.triggerToken, [...path, 'triggerToken'], problems);
    const token = secret(repo.triggerToken);
    if (token) triggerTokens[key] = token;
    const env = envOf(repo.env, [...path, 'env'], problems);
    if (Object.keys(env).length > 0) buildEnv[key] = env;
    const sshKey = secret(repo.sshKey);
    if (sshKey) sshKeys[key] = sshKey;
  }
  for (const host of Object.keys(data.mirrors)) {
    const bad = checkRegistryHost(host);
    if (bad) problems.push({ ...bad, path: ['mirrors', host] });
  }
  checkTokenLength(data.apiToken, ['apiToken'], problems);
  if (problems.length > 0) fail(file ?? 'configuration', problems, used.values);

  const config: Config = {
    server: { host: data.server.host, port: data.server.port },
    dataDir: data.dataDir,
    builder: data.builder,
    concurrency: data.concurrency,
    timeoutMinutes: data.timeoutMinutes,
    baseImagePollMinutes: data.baseImagePollMinutes,
    github: { apiUrl: data.github.apiUrl, statuses: data.github.statuses },
    registries,
    repositories,
    triggerTokens,
    forges,
    notifications: notificationTargets(data.notifications, 'notifications'),
    repositoryNotifications,
    buildSecrets: secretsByRepo,
    mirrors: data.mirrors,
    buildEnv,
    sshKeys,
    cloneCredentials,
    buildArgSecrets: [...new Set(used.buildArgs ?? [])].filter((v) => v !== '').map((v) => new Secret(v)),
  };
  if (file !== undefined) config.file = file;
  if (data.server.publicUrl !== undefined) config.server.publicUrl = data.server.publicUrl;
  if (data.redis !== undefined) config.redis = data.redis;
  const webhookSecret = secret(data.webhookSecret);
  if (webhookSecret) config.webhookSecret = webhookSecret;
  const apiToken = secret(data.apiToken);
  if (apiToken) config.apiToken = apiToken;
  const githubToken = secret(data.github.token);
  if (githubToken) config.github.token = githubToken;
  return config;
}

/** PORT and REDIS_URL win over the file, as the contract says. */
function applyEnvOverrides(data: Record<string, unknown>, env: Env): Record<string, unknown> {
  const out = { ...data };
  const port = env['PORT'];
  if (port !== undefined && port !== '') {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) {
      throw new UserError(`PORT: ${JSON.stringify(port)} is not a port number`, 'set PORT to a number from 0 to 65535, or unset it');
    }
    const server = typeof out['server'] === 'object' && out['server'] !== null ? out['server'] : {};
    out['server'] = { ...server, port: Number(port) };
  }
  const redis = env['REDIS_URL'];
  if (redis !== undefined && redis !== '') {
    if (!isRedisAddress(redis)) throw new UserError('REDIS_URL is not a Redis URL', `${REDIS_ADDRESS_HINT}, or unset it`);
    out['redis'] = redis;
  }
  return out;
}

function validate(data: unknown, env: Env, file: string | undefined): Config {
  const where = file ?? 'configuration';
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UserError(`${where}: the top level must be a mapping of keys`, 'start with keys such as repositories:, registries:, server:');
  }
  const used: VariableUse = { paths: new Map(), values: new Set() };
  const substituted = applyEnvOverrides(substitute(data, env, [], where, used) as Record<string, unknown>, env);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    // An unknown key is usually the cause of a "required" one next to it (a typo), so it goes first.
    const issues = [...result.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
    fail(
      where,
      issues.flatMap((issue) => describeIssue(issue, substituted, used)),
      used.values,
    );
  }
  return toConfig(result.data, file, used);
}

/** Parses autobuild.yml text. `env` gives `${VAR}`, PORT and REDIS_URL; `file` names it in errors. */
export function parseConfig(text: string, env: Env, file: string): Config {
  return validate(readYaml(text, file), env, file);
}

/**
 * The configuration of a run without a file: every default, the secrets from the variables the
 * contract's example file uses, and the PORT / REDIS_URL overrides.
 */
export function defaultConfig(env: Env): Config {
  return validate({ webhookSecret: '${GITHUB_WEBHOOK_SECRET}', apiToken: '${AUTOBUILD_API_TOKEN}', github: { token: '${GITHUB_TOKEN}' } }, env, undefined);
}
