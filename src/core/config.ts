import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { isSecretId, parseCacheSpec, parsePlatforms } from './build-settings.js';
import { configSchema, isOptionalSecretKey, type ConfigOutput } from './config-schema.js';
import { UserError } from './errors.js';
import { defaultApiUrl, splitRepositoryKey, type ForgeConfig } from './forges.js';
import type { NotificationTarget } from './notifications.js';
import { regexBody } from './dockerhub-rules.js';
import { parseFlavor } from './metadata-flavor.js';
import { parseTags } from './metadata-tags.js';
import { familiarName, normalizeImageInput, parseReference } from './references.js';
import { maskSecrets, Secret } from './secret.js';
import type { BuildRule, RepositoryConfig } from './types.js';
import { UnboundedRegexError, userRegExp } from './user-regex.js';

// autobuild.yml text -> a typed Config: YAML, then `${VAR}` from the given env, then the zod
// schema (config-schema.ts), then the checks that need the rest of the core (image names,
// regexes, tags lines). Every problem becomes one line: `<file>: <key.path>: <problem> — <fix>`.

export interface RegistryConfig {
  username?: string;
  password?: Secret;
  /** Plain HTTP. Loopback hosts are plain HTTP whatever this says. */
  insecure: boolean;
}

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
  registries: Record<string, RegistryConfig>;
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

type Env = Record<string, string | undefined>;
type Path = readonly (string | number)[];

interface Problem {
  path: Path;
  problem: string;
  hint?: string;
}

function keyPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(top level)' : out;
}

/** `masked`: values that came from `${VAR}`, never shown in a message (they may be secrets). */
function fail(file: string, problems: Problem[], masked: Iterable<string> = []): never {
  const [first] = problems;
  if (!first) throw new Error('fail() needs a problem');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new UserError(maskSecrets(`${file}: ${keyPath(first.path)}: ${first.problem}`, masked), first.hint ? maskSecrets(first.hint, masked) + more : undefined);
}

// --- YAML ------------------------------------------------------------------------------------

/**
 * `${VAR}` is not valid inside a YAML flow mapping (`github: {token: ${GITHUB_TOKEN}}`, as the
 * contract's example writes it), so each reference is swapped for a placeholder YAML accepts
 * anywhere, and put back in the parsed values before substitution.
 */
const REFERENCE_TEXT = /\$\{[^}\n]*\}/g;
const PLACEHOLDER = /\uE000([0-9]+)\uE001/g;

function restore(value: unknown, originals: string[]): unknown {
  const back = (text: string) => text.replace(PLACEHOLDER, (_m, i: string) => originals[Number(i)] ?? '');
  if (typeof value === 'string') return back(value);
  if (Array.isArray(value)) return value.map((v) => restore(v, originals));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [back(k), restore(v, originals)]));
  }
  return value;
}

function readYaml(text: string, file: string): unknown {
  const originals: string[] = [];
  const protectedText = text.replace(REFERENCE_TEXT, (match) => `\uE000${originals.push(match) - 1}\uE001`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(protectedText, { lineCounter, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const what = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error';
    throw new UserError(`${where}: YAML syntax error: ${what}`, 'fix the YAML at that line (indentation, quotes, a missing ":")');
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // yaml refuses alias expansion past the limit (a "billion laughs" file) with a ReferenceError.
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new UserError(`${file}: YAML aliases (*name) expand more than ${MAX_ALIASES} times`, 'write the values out, or use fewer aliases');
    }
    throw err;
  }
  return restore(data, originals) ?? {};
}

/** yaml's guard against exponential alias expansion; a real autobuild.yml uses a handful at most. */
const MAX_ALIASES = 100;

// --- ${VAR} ----------------------------------------------------------------------------------

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/;

/** Where `${VAR}` put a value from the environment, so that errors never echo it. */
interface VariableUse {
  /** Key path (as keyPath writes it) -> the variables used in its value. */
  paths: Map<string, string[]>;
  values: Set<string>;
  /** Build-arg values that came from `${VAR}`: secrets. */
  buildArgs?: string[];
}

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string value; `$$` is a literal `$`.
 * Returns undefined for an optional secret whose whole value is an unset variable.
 */
function substitute(value: unknown, env: Env, path: Path, file: string, used: VariableUse): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VARIABLE.exec(value);
    if (whole && isOptionalSecretKey(path) && !env[whole[1]!] && !value.includes(':-')) return undefined;
    const text = value.replace(VARIABLE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const set = env[name!];
      if (set !== undefined && set !== '') {
        used.paths.set(keyPath(path), [...(used.paths.get(keyPath(path)) ?? []), name!]);
        used.values.add(set);
        return set;
      }
      if (fallback !== undefined) return fallback;
      fail(file, [{ path, problem: `environment variable ${name} is not set`, hint: `set ${name}, or write the value directly (use $$ for a literal $)` }]);
    });
    if (text !== value && /\$\{/.test(value) && isBuildArgValue(path)) (used.buildArgs ??= []).push(text);
    // `port: ${APP_PORT}` means a number: YAML saw text, so convert where the schema wants one.
    if (whole) return scalarFor(path, text);
    return text;
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, env, [...path, i], file, used));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const replaced = substitute(item, env, [...path, key], file, used);
      if (replaced !== undefined) out[key] = replaced;
    }
    return out;
  }
  return value;
}

/** repositories.X.buildArgs.K and repositories.X.rules[i].buildArgs.K */
function isBuildArgValue(path: Path): boolean {
  if (path[0] !== 'repositories') return false;
  return (path.length === 4 && path[2] === 'buildArgs') || (path.length === 6 && path[2] === 'rules' && path[4] === 'buildArgs');
}

function scalarFor(path: Path, text: string): unknown {
  const type = schemaAt(path)?.type;
  if (type === 'number' && /^-?[0-9]+(?:\.[0-9]+)?$/.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

// --- zod issues -> one line each ------------------------------------------------------------

const typeWords: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false',
  object: 'a mapping (key: value)', array: 'a list', record: 'a mapping (key: value)',
};

function typeOf(input: unknown): string {
  if (input === null || input === undefined) return 'nothing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)}`;
  return `${typeof input} ${JSON.stringify(input)}`;
}

/** The schema node (defaults, optionals and transforms unwrapped) that validates `path`. */
function schemaAt(path: Path): z.core.$ZodTypeDef | undefined {
  let node: z.core.$ZodType | undefined = configSchema;
  const unwrap = (): z.core.$ZodTypeDef | undefined => {
    for (let def: z.core.$ZodTypeDef | undefined = node?._zod.def; def; def = node?._zod.def) {
      if (def.type === 'default' || def.type === 'optional') node = (def as z.core.$ZodDefaultDef).innerType;
      else if (def.type === 'pipe') node = (def as z.core.$ZodPipeDef).in;
      else return def;
    }
    return undefined;
  };
  for (const part of path) {
    const def = unwrap();
    if (def?.type === 'object') node = (def as z.core.$ZodObjectDef).shape[String(part)];
    else if (def?.type === 'record') node = (def as z.core.$ZodRecordDef).valueType;
    else if (def?.type === 'array') node = (def as z.core.$ZodArrayDef).element;
    else return undefined;
  }
  return unwrap();
}

/** The keys a strict object at `path` allows. */
function allowedKeys(path: Path): string[] {
  const def = schemaAt(path);
  return def?.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKey(path: Path, key: string): Problem {
  const allowed = allowedKeys(path);
  const lower = key.toLowerCase();
  const close = allowed.find((k) => editDistance(k, key) <= 2 || (lower.length >= 3 && k.toLowerCase().startsWith(lower)));
  const list = allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : 'remove it';
  return {
    path: [...path, key],
    problem: 'unknown key',
    hint: close ? `did you mean "${close}"? (${list})` : `remove it or fix its spelling; ${list}`,
  };
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown, used: VariableUse): Problem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const input = path.reduce<unknown>((obj, key) => (obj as Record<string | number, unknown> | undefined)?.[key], data);
  // Never echo a secret's value back, nor anything that came from the environment.
  const variables = used.paths.get(keyPath(path));
  const shown = isOptionalSecretKey(path) ? ''
    : variables ? ` (got the value of ${variables.map((v) => `\${${v}}`).join(', ')})`
    : ` (got ${typeOf(input)})`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(path, key));
    case 'invalid_type': {
      const expected = typeWords[issue.expected] ?? issue.expected;
      if (input === undefined) return [{ path, problem: 'is required', hint: `add it: ${expected}` }];
      return [{ path, problem: `must be ${expected}${shown}`, hint: `write ${expected} here` }];
    }
    case 'invalid_value':
      return [{ path, problem: `must be one of ${issue.values.map(String).join(', ')}${shown}`, hint: `write one of ${issue.values.map(String).join(' | ')}` }];
    case 'invalid_union': {
      if (input === undefined) return [{ path, problem: 'is required', hint: 'add it' }];
      // A branch whose type matched (its issues are not "wrong type" at the top) says what is
      // really wrong, e.g. an empty image list; otherwise list the types that would do.
      const wrongType = (b: z.core.$ZodIssue[]) => b.every((i) => i.code === 'invalid_type' && i.path.length === 0);
      const matched = issue.errors.filter((b) => b.length > 0 && !wrongType(b));
      if (matched.length === 1) {
        return matched[0]!.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, data, used));
      }
      const expected = [...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? (typeWords[i.expected] ?? i.expected) : undefined)))].filter(Boolean);
      const what = expected.length > 0 ? expected.join(' or ') : 'a different value';
      return [{ path, problem: `must be ${what}${shown}`, hint: `write ${what} here` }];
    }
    case 'too_small': {
      const n = Number(issue.minimum);
      const problem =
        issue.origin === 'array' ? `must list at least ${n} item${n === 1 ? '' : 's'}`
        : issue.origin === 'string' ? 'must not be empty'
        : `must be at least ${n}${shown}`;
      const hint = issue.origin === 'array' ? 'add an item' : issue.origin === 'string' ? 'write a value' : 'give a larger value';
      return [{ path, problem, hint }];
    }
    case 'too_big':
      return [{ path, problem: `must be at most ${Number(issue.maximum)}${shown}`, hint: 'give a smaller value' }];
    case 'invalid_format':
      return [{ path, problem: `must be a valid ${issue.format === 'url' ? 'URL' : issue.format}${shown}`, hint: issue.format === 'url' ? 'write a full URL, e.g. https://example.com/hook' : `write a valid ${issue.format}` }];
    default:
      return [{ path, problem: issue.message }];
  }
}

// --- checks that need the rest of the core ---------------------------------------------------

const REPOSITORY_KEY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** GitLab paths nest groups; Bitbucket and Gitea are owner/name. */
const FORGE_PATH = { gitlab: /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+$/, other: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/ };

function checkRepositoryKey(key: string, forges: Record<string, ForgeConfig>): Problem | undefined {
  const path = ['repositories', key];
  const split = splitRepositoryKey(key);
  if (split.host === undefined) {
    return REPOSITORY_KEY.test(key) ? undefined : { path, problem: 'is not a GitHub repository', hint: 'write the key as owner/name, e.g. octo-org/app, or HOST/PATH for a forge under forges:' };
  }
  const forge = Object.entries(forges).find(([h]) => h.toLowerCase() === split.host)?.[1];
  if (!forge) {
    return { path, problem: `names host ${split.host}, which is not under forges:`, hint: `add forges.${split.host} with its type (gitlab, bitbucket, gitea), or write a GitHub key as owner/name` };
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
      problems.push({ path: ['forges', host], problem: 'must be a host name', hint: 'write the host as in its URLs, e.g. gitlab.com, bitbucket.org or git.example.com' });
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
  if (/^[a-z]+:\/\//i.test(host)) return { path, problem: 'must be a registry host, not a URL', hint: `write ${JSON.stringify(host.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, ''))}` };
  try {
    const domain = parseReference(`${host}/x`).domain;
    if (domain === host || (domain === 'docker.io' && host === 'index.docker.io')) return undefined;
  } catch {
    // reported below
  }
  return { path, problem: 'is not a registry host', hint: 'write host[:port], e.g. registry.example.com, 127.0.0.1:5000 or docker.io' };
}

/** Image names, lowercased as metadata-action does, in the short form docker prints. */
function images(value: string | string[], path: Path, problems: Problem[]): string[] {
  const list = typeof value === 'string' ? [value] : value;
  const out: string[] = [];
  list.forEach((text, i) => {
    const at = typeof value === 'string' ? path : [...path, i];
    try {
      const ref = normalizeImageInput(text);
      if (ref.tag !== undefined || ref.digest !== undefined) {
        problems.push({ path: at, problem: `image ${JSON.stringify(text)} must not include a tag or digest`, hint: 'tags come from preset, rules or tags; write just the name' });
        return;
      }
      const name = familiarName(ref);
      if (!out.includes(name)) out.push(name);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push({ path: at, problem: err.message });
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
          problems.push({ path: [...path, i, 'source'], problem: `regular expression ${source} is refused: ${err.message}`, hint: 'rewrite it without those, e.g. + instead of {17,}, or one rule per case instead of a lookahead' });
          return;
        }
        problems.push({ path: [...path, i, 'source'], problem: `invalid regular expression ${source}: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`, hint: 'fix the pattern between the slashes' });
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
      problems.push({ path: [...path, name], problem: 'is not a variable name', hint: 'use letters, digits and _ (not starting with a digit), e.g. SSH_PRIVATE' });
      continue;
    }
    out[name] = new Secret(value);
  }
  return out;
}

/** A repository-relative path, normalised; undefined when it is absolute or leaves the checkout. */
export function insideCheckout(path: string): string | undefined {
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
export const MIN_TOKEN_LENGTH = 16;

function checkTokenLength(value: string | undefined, path: string[], problems: Problem[]): void {
  if (value === undefined || value === '' || value.length >= MIN_TOKEN_LENGTH) return;
  // The length only: the value itself is a secret and never goes into a message.
  problems.push({ path, problem: `is ${value.length} characters long; a token needs at least ${MIN_TOKEN_LENGTH}`, hint: 'generate one with `openssl rand -hex 32`' });
}

function toConfig(data: ConfigOutput, file: string | undefined, used: VariableUse): Config {
  const problems: Problem[] = [];
  const registries: Record<string, RegistryConfig> = {};
  for (const [host, reg] of Object.entries(data.registries)) {
    const bad = checkRegistryHost(host);
    if (bad) problems.push(bad);
    const entry: RegistryConfig = { insecure: reg.insecure };
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
      if (!isSecretId(id)) problems.push({ path: [...path, 'secrets', id], problem: 'is not a secret id', hint: 'use letters, digits, _ . - (the id of RUN --mount=type=secret,id=ID)' });
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
    fail(where, issues.flatMap((issue) => describeIssue(issue, substituted, used)), used.values);
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
  return validate(
    { webhookSecret: '${GITHUB_WEBHOOK_SECRET}', apiToken: '${AUTOBUILD_API_TOKEN}', github: { token: '${GITHUB_TOKEN}' } },
    env,
    undefined,
  );
}
