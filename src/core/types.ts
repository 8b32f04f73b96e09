// The shapes that cross module boundaries. Core modules, adapters, the CLI, the service and the
// Action all speak in these types; the README's Reference describes the same data to users.
import type { BuildSettings } from './build-settings.js';
import type { Secret } from './secret.js';

// A webhook (or a workflow run's ref) reduced to what planning needs: a tagged union on `kind`,
// built and checked once by `events.ts` (GitHub) and the forge readers, so a consumer narrows on
// `kind` (and a push on `deleted`) instead of guessing which fields are there.

/** What every event says about where it came from. */
interface EventBase {
  /** The event name as the forge sent it (`X-GitHub-Event`: `push`, `pull_request`, `ping`, ...). */
  name: string;
  /**
   * `owner/name`, as in `repository.full_name`; other forges name it `HOST/PATH`
   * (`gitlab.com/group/sub/app`), as their configuration keys do. Missing only where the input
   * names none: a ping of an organisation hook, a workflow ref given without a payload.
   */
  repository?: string;
  cloneUrl?: string;
  htmlUrl?: string;
  defaultBranch?: string;
  /** Where the event came from; undefined means GitHub. */
  forge?: ForgeType;
}

/** A push or a pull request: a ref whose code autobuild may build. */
interface CodeEventBase extends EventBase {
  /** Full ref: `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`. */
  ref: string;
  /** The head commit's message (a pull request's title), for build records and hooks. */
  commitMessage?: string;
  pusher?: string;
}

/** A push of a branch or a tag that now points at a commit. */
export interface PushEvent extends CodeEventBase {
  kind: 'push';
  refType: 'branch' | 'tag';
  /** Branch or tag name without the `refs/...` prefix. */
  refName: string;
  deleted: false;
  /** The commit to build (for an annotated tag: the commit it points at, `head_commit.id`). */
  sha: string;
  /** Files the push touched; undefined when unknown or the forge cut the commit lists short. */
  changedFiles?: string[];
  /** A tag push: the branch the tagged commit was on, when the forge says (`base_ref`). */
  baseRef?: string;
  /** The action of the workflow trigger a ref was planned for (`release` `published`), if any. */
  action?: string;
  /** Only the repository's writers can push to it (the forge checked that before sending). */
  trusted: true;
}

/** A push that deleted a branch or a tag: nothing to build, so no commit. */
export interface DeletedPushEvent extends CodeEventBase {
  kind: 'push';
  refType: 'branch' | 'tag';
  refName: string;
  deleted: true;
  trusted: true;
}

/** A pull (merge) request whose code changed (opened, new commits, reopened). */
export interface PullRequestEvent extends CodeEventBase {
  kind: 'pull_request';
  refType: 'pr';
  prNumber: number;
  /** The commit to build: the head commit, or a workflow's merge commit (GITHUB_SHA). */
  sha: string;
  /**
   * The action, head branch and target branch; a workflow run that gives only GITHUB_REF
   * (`refs/pull/7/merge`) and GITHUB_SHA names none of them, every webhook does.
   */
  action?: string;
  refName?: string;
  baseRef?: string;
  /**
   * Whether the code comes from the repository's writers (README "Security model"): a
   * pull request whose head branch lives in the same repository. One from a fork (or whose head
   * repository was deleted, or cannot be told) is untrusted. `plan()` copies it to every build
   * and the pipeline obeys it.
   */
  trusted: boolean;
}

/** GitHub checking the webhook: nothing to build. */
interface PingEvent extends EventBase {
  kind: 'ping';
  trusted: false;
}

/** Every other event, action or ref (a closed pull request, a push of `refs/notes/*`): not built. */
export interface OtherEvent extends EventBase {
  kind: 'other';
  action?: string;
  ref?: string;
  /** Nothing is built from these; false so that nothing could be by mistake. */
  trusted: false;
}

export type SourceEvent = PushEvent | DeletedPushEvent | PullRequestEvent | PingEvent | OtherEvent;

/** The events plan() builds from: a push with a commit, or a pull request. */
export type BuildableEvent = PushEvent | PullRequestEvent;

/** The repository facts every kind of event carries. */
export type RepositoryFacts = Pick<EventBase, 'repository' | 'cloneUrl' | 'htmlUrl' | 'defaultBranch' | 'forge'>;

/** The forges autobuild takes webhooks from besides GitHub (Forgejo speaks Gitea's format). */
export type ForgeType = 'gitlab' | 'bitbucket' | 'gitea';

/** How a tag behaves over time, which decides its push order and whether it may move. */
type TagKind = 'immutable' | 'moving' | 'latest';

/**
 * One tag of a planned build with what is needed to decide it again at push time.
 * `version` + `scope` say which versions a moving tag covers: `minor` = same major.minor,
 * `major` = same major, `all` = every version. `prefix`/`suffix` are stripped from registry tags
 * before comparing (metadata-action `prefix=`/`suffix=`). No version: the tag always moves.
 */
export interface TagInfo {
  tag: string;
  kind: TagKind;
  version?: string;
  scope?: 'minor' | 'major' | 'all';
  prefix?: string;
  suffix?: string;
}

/**
 * One build of a plan. `tags` and `refs` are in push order: immutable, moving, `latest` last.
 * The BuildSettings (platforms, target, cache, ...) are set only where configured.
 */
export interface PlannedBuild extends BuildSettings {
  repository: string;
  ref: string;
  sha: string;
  images: string[];
  context: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  tags: string[];
  refs: string[];
  push: boolean;
  /** Extra, beyond the plan fields users are promised: per-tag kind/version for the push-time decision. */
  tagInfo: TagInfo[];
  /** The semver version this build stands for, when there is one (`1.2.3`). */
  version?: string;
  /** A push to the repository's default branch (rebuild on base change follows those builds). */
  isDefaultBranch?: true;
  cloneUrl?: string;
  commitMessage?: string;
  /** Why this build ran when no push asked for it: `base image X changed A -> B`. */
  reason?: string;
  /**
   * false: the code is not from the repository's writers (a fork's pull request). The build then
   * runs with no registry login, no `env`, no build secrets, no hooks, no `cacheTo`, and pushes
   * nothing (`push` is false too). Every step that hands the build something of the service's
   * must check this field; see docs/DESIGN.md "Trust".
   */
  trusted: boolean;
}

export interface Skip {
  reason: string;
  repository?: string;
  ref?: string;
  rule?: string;
}

export interface Plan {
  builds: PlannedBuild[];
  skipped: Skip[];
}

/** A Docker Hub build rule as configured (README "Configuration", `rules`). */
export interface BuildRule {
  sourceType: 'branch' | 'tag';
  source: string;
  tag: string;
  dockerfile?: string;
  context?: string;
  buildArgs?: Record<string, string>;
  autobuild?: boolean;
  platforms?: string[];
  target?: string;
}

export type Preset = 'semver' | 'dockerhub' | 'none';

/** Everything planning needs to know about one configured GitHub repository (no secrets). */
export interface RepositoryConfig extends BuildSettings {
  images: string[];
  cloneUrl?: string;
  preset: Preset;
  rules: BuildRule[];
  /** docker/metadata-action `tags` lines; when non-empty they replace preset and rules. */
  tags: string;
  flavor: string;
  paths: string[];
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  webhooks: string[];
  /** Docker Hub Autotest (`autotest.ts`); missing means the default, `internal`. */
  autotest?: AutotestMode;
  /** Check out submodules recursively; missing means true. */
  submodules?: boolean;
  /** known_hosts lines for ssh submodules, on top of the built-in ones. */
  knownHosts?: string;
  /** Over the global timeoutMinutes. */
  timeoutMinutes?: number;
  /** Rebuild the newest release and the default branch when one of their FROM images changes. */
  rebuildOnBaseChange?: boolean;
}

/** Which builds run Docker Hub's Autotest: none, pull requests of this repository, or forks' too. */
export type AutotestMode = 'off' | 'internal' | 'external';

/** A registry's login, keyed by registry host (autobuild.yml `registries`, the Action's login). */
export interface RegistryAuth {
  username?: string;
  password?: Secret;
  /** Plain HTTP. Loopback hosts are plain HTTP whatever this says. */
  insecure?: boolean;
}
