// What a build carries through Redis, and how the worker turns it back into a build it will run.
//
// Redis is not trusted: anyone who can write to it can add a job. So a queued build carries only
// what names the work (repository, ref, commit, tags, which configured settings) and never a
// secret or a value the worker would act on blindly. The worker re-derives everything that
// matters from its OWN configuration: the repository must be configured, the clone URL, images,
// context, Dockerfile, build-arg values and labels come from that configuration, pull requests
// never push, and a job that asks for anything else is refused before anything runs.
import { applyRule } from './dockerhub-rules.js';
import { UserError } from './errors.js';
import { isCommitId } from './events.js';
import { withTag } from './references.js';
import { tagKinds } from './semver-tags.js';
import { sanitizeTag } from './tag-names.js';
import type { PlannedBuild, RepositoryConfig, TagInfo } from './types.js';

/** A build as queued: `buildArgs` are names only, text fields bounded. */
export interface QueuedBuild extends Omit<PlannedBuild, 'buildArgs'> {
  /** Build-arg names; the worker reads their values from its own configuration. */
  buildArgs: string[];
  /** The rule whose context/dockerfile/buildArgs this build uses; absent: the repository's own. */
  rule?: number;
}

/** A record keeps the first few KB of a commit message; a 10 MB one must not be stored whole. */
export const COMMIT_MESSAGE_MAX = 4_096;

/** Cuts text to at most `max` UTF-16 units, saying that it did. */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `… [cut: ${text.length} characters]`;
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

interface Settings {
  context: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  platforms?: string[];
  target?: string;
}

function repositorySettings(repo: RepositoryConfig): Settings {
  return {
    context: repo.context,
    dockerfile: repo.dockerfile,
    buildArgs: repo.buildArgs,
    ...(repo.platforms ? { platforms: repo.platforms } : {}),
    ...(repo.target ? { target: repo.target } : {}),
  };
}

function ruleSettings(repo: RepositoryConfig, index: number): Settings | undefined {
  const rule = repo.rules[index];
  if (!rule) return undefined;
  const platforms = rule.platforms ?? repo.platforms;
  const target = rule.target ?? repo.target;
  return {
    context: rule.context ?? repo.context,
    dockerfile: rule.dockerfile ?? repo.dockerfile,
    buildArgs: { ...repo.buildArgs, ...rule.buildArgs },
    ...(platforms ? { platforms } : {}),
    ...(target ? { target } : {}),
  };
}

function sameArgs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameSettings(s: Settings, build: Settings): boolean {
  return (
    s.context === build.context &&
    s.dockerfile === build.dockerfile &&
    sameArgs(s.buildArgs, build.buildArgs) &&
    (s.platforms ?? []).join(',') === (build.platforms ?? []).join(',') &&
    (s.target ?? '') === (build.target ?? '')
  );
}

/**
 * The queued form of a planned build: build-arg values dropped (the worker has them), the
 * settings' origin named so the worker can find them again, the commit message bounded.
 */
export function toQueuedBuild(build: PlannedBuild, repo: RepositoryConfig | undefined): QueuedBuild {
  const { buildArgs, ...rest } = build;
  const queued: QueuedBuild = { ...rest, buildArgs: Object.keys(buildArgs).sort() };
  if (repo && !sameSettings(repositorySettings(repo), build)) {
    const index = repo.rules.findIndex((_, i) => sameSettings(ruleSettings(repo, i)!, build));
    if (index >= 0) queued.rule = index;
  }
  if (build.commitMessage !== undefined) queued.commitMessage = boundText(build.commitMessage, COMMIT_MESSAGE_MAX);
  return queued;
}

/** What the worker knows for itself. */
export interface WorkerTrust {
  repositories: Record<string, RepositoryConfig>;
  /** GitHub's API URL from the configuration: its host is where `owner/name` repositories live. */
  githubApiUrl: string;
}

/**
 * Where a configured repository is cloned from when `cloneUrl` is not set: GitHub (or GitHub
 * Enterprise, from the API URL's host) for `owner/name`, the host itself for `host/path` keys.
 */
function defaultCloneUrl(key: string, githubApiUrl: string): string {
  const parts = key.split('/');
  if (parts.length > 2 || parts[0]!.includes('.')) return `https://${key}.git`;
  let host = 'github.com';
  try {
    const api = new URL(githubApiUrl);
    if (api.hostname !== 'api.github.com') host = api.host;
  } catch {
    // A bad apiUrl is refused at config load; github.com is the only sensible fallback.
  }
  return `https://${host}/${key}.git`;
}

/** Compares clone URLs as a forge does: scheme and host case-insensitive, `.git` and a final `/` optional. */
function sameCloneUrl(a: string, b: string, caseInsensitivePath: boolean): boolean {
  const norm = (url: string) => {
    let text = url
      .trim()
      .replace(/\/+$/, '')
      .replace(/\.git$/, '');
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)(.*)$/i.exec(text);
    if (m) text = m[1]!.toLowerCase() + (caseInsensitivePath ? m[2]!.toLowerCase() : m[2]!);
    return text;
  };
  return norm(a) === norm(b);
}

const REF = /^refs\/(?:heads|tags)\/[^\0-\x1f\x7f]+$/;
/** Pull (merge) request refs as GitHub, Gitea, GitLab and Bitbucket name them. */
const PULL_REQUEST_REF = /^refs\/(?:pull\/[0-9]+\/(?:merge|head)|merge-requests\/[0-9]+\/head|pull-requests\/[0-9]+\/from)$/;

function refuse(what: string, fix: string): never {
  throw new UserError(`refused a queued build: ${what}`, fix);
}

function textField(data: Record<string, unknown>, key: string, max: number): string {
  const value = data[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max)
    refuse(`${key} is missing or malformed`, 'jobs are queued by autobuild itself; check who else writes to its Redis');
  return value;
}

function findRepository(repositories: Record<string, RepositoryConfig>, name: string): [string, RepositoryConfig] | undefined {
  const want = name.toLowerCase();
  const key = Object.keys(repositories).find((k) => k.toLowerCase() === want);
  return key === undefined ? undefined : [key, repositories[key]!];
}

/**
 * Turns job data found in Redis into the build the worker runs, or throws a one-line UserError
 * saying why the job is refused. Only the repository, ref, commit, tags and the choice among
 * the configured settings come from the job; everything that decides what code runs with which
 * credentials and where it is pushed comes from `trust`.
 */
export function resolveQueuedBuild(data: unknown, trust: WorkerTrust): PlannedBuild {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    refuse('the job carries no build', 'jobs are queued by autobuild itself; check who else writes to its Redis');
  const job = data as Record<string, unknown>;
  const name = textField(job, 'repository', 300);
  const found = findRepository(trust.repositories, name);
  if (!found)
    refuse(
      `repository ${JSON.stringify(name)} is not configured here`,
      `add it under repositories: in this worker's autobuild.yml, or find who queues builds in its Redis`,
    );
  const [repository, repo] = found;

  const ref = textField(job, 'ref', 1_024);
  const isPullRequest = PULL_REQUEST_REF.test(ref);
  if (!REF.test(ref) && !isPullRequest)
    refuse(`ref ${JSON.stringify(ref.slice(0, 100))} is not a branch, tag or pull request`, 'only refs/heads/*, refs/tags/* and pull request refs are built');
  const sha = textField(job, 'sha', 64);
  if (!isCommitId(sha)) refuse(`commit ${JSON.stringify(sha)} is not a full commit sha`, 'a queued build names the 40-hex commit');

  const expected = repo.cloneUrl ?? defaultCloneUrl(repository, trust.githubApiUrl);
  if (job.cloneUrl !== undefined && (typeof job.cloneUrl !== 'string' || !sameCloneUrl(job.cloneUrl, expected, repo.cloneUrl === undefined))) {
    refuse(
      `clone URL ${JSON.stringify(String(job.cloneUrl).slice(0, 200))} is not the one configured for ${repository}`,
      `builds of ${repository} clone ${expected} (repositories.${repository}.cloneUrl)`,
    );
  }

  if (job.images !== undefined) {
    const asked = Array.isArray(job.images) ? job.images : [];
    if (asked.length !== repo.images.length || !asked.every((image) => repo.images.includes(image as string))) {
      refuse(
        `images ${JSON.stringify(asked).slice(0, 200)} are not the ones configured for ${repository}`,
        `builds of ${repository} push to ${repo.images.join(', ')} (repositories.${repository}.image)`,
      );
    }
  }

  const tags = job.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > 100 || !tags.every((t) => typeof t === 'string' && t !== '' && sanitizeTag(t) === t)) {
    refuse('tags are missing or not valid tag names', 'a queued build lists its tags as planned');
  }
  const tagList = tags as string[];

  let settings: Settings;
  if (job.rule === undefined) {
    settings = repositorySettings(repo);
  } else {
    const index = job.rule;
    const chosen = typeof index === 'number' && Number.isInteger(index) ? ruleSettings(repo, index) : undefined;
    if (!chosen || isPullRequest) refuse(`rules[${String(index)}] does not exist for ${repository}`, `see repositories.${repository}.rules`);
    const rule = repo.rules[index as number]!;
    const refType = ref.startsWith('refs/heads/') ? 'branch' : 'tag';
    const outcome = applyRule(rule, index as number, { refType, name: ref.replace(/^refs\/(?:heads|tags)\//, ''), manual: true });
    if (!outcome.matched) refuse(`${outcome.reason}`, `the job asked for the settings of a rule that does not build ${ref}`);
    settings = chosen;
  }
  if (job.context !== undefined && job.context !== settings.context) {
    refuse(
      `context ${JSON.stringify(String(job.context).slice(0, 200))} is not the configured ${JSON.stringify(settings.context)}`,
      `see repositories.${repository}.context`,
    );
  }
  if (job.dockerfile !== undefined && job.dockerfile !== settings.dockerfile) {
    refuse(
      `dockerfile ${JSON.stringify(String(job.dockerfile).slice(0, 200))} is not the configured ${JSON.stringify(settings.dockerfile)}`,
      `see repositories.${repository}.dockerfile`,
    );
  }
  const argNames = Array.isArray(job.buildArgs) ? job.buildArgs : undefined;
  if (job.buildArgs !== undefined) {
    const want = Object.keys(settings.buildArgs).sort();
    const got = argNames ? [...argNames].map(String).sort() : undefined;
    if (!got || got.length !== want.length || got.some((n, i) => n !== want[i])) {
      refuse('build args are not the configured ones', `see repositories.${repository}.buildArgs`);
    }
  }

  const tagInfo: TagInfo[] = tagList.map((tag) => {
    const given = Array.isArray(job.tagInfo) ? (job.tagInfo as TagInfo[]).find((t) => t && t.tag === tag) : undefined;
    const kind = given && ['immutable', 'moving', 'latest'].includes(given.kind) ? given.kind : tagKinds([tag])[0]!.kind;
    const info: TagInfo = { tag, kind };
    if (given && typeof given.version === 'string') info.version = given.version;
    if (given && ['minor', 'major', 'all'].includes(given.scope as string)) info.scope = given.scope!;
    if (given && typeof given.prefix === 'string') info.prefix = given.prefix;
    if (given && typeof given.suffix === 'string') info.suffix = given.suffix;
    return info;
  });

  // Fields other parts of autobuild add to a planned build travel on unchanged; the ones set
  // below are what decides the source, the Dockerfile, the arguments and where images go.
  const { buildArgs: _names, rule: _rule, ...passthrough } = job;
  const build: PlannedBuild = {
    ...(passthrough as Partial<PlannedBuild>),
    repository,
    ref,
    sha,
    images: [...repo.images],
    context: settings.context,
    dockerfile: settings.dockerfile,
    buildArgs: { ...settings.buildArgs },
    labels: { ...repo.labels },
    tags: tagList,
    refs: tagList.flatMap((tag) => repo.images.map((image) => withTag(image, tag))),
    push: !isPullRequest && job.push !== false,
    tagInfo,
    cloneUrl: expected,
    // Engine settings, like the rest, are the configuration's (cacheTo writes with its logins).
    platforms: settings.platforms,
    target: settings.target,
    pull: repo.pull,
    noCache: repo.noCache,
    cacheFrom: repo.cacheFrom,
    cacheTo: repo.cacheTo,
    // Only a job that says so is trusted; one without the field (old or forged) is not.
    trusted: job.trusted === true,
  };
  for (const key of ['platforms', 'target', 'pull', 'noCache', 'cacheFrom', 'cacheTo'] as const) if (build[key] === undefined) delete build[key];
  if (job.isDefaultBranch === true && ref.startsWith('refs/heads/')) build.isDefaultBranch = true;
  else delete build.isDefaultBranch;
  if (typeof job.version === 'string' && job.version.length <= 128) build.version = job.version;
  else delete build.version;
  if (typeof job.commitMessage === 'string') build.commitMessage = boundText(job.commitMessage, COMMIT_MESSAGE_MAX);
  else delete build.commitMessage;
  return build;
}
