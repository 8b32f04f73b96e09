// The shapes that cross module boundaries. Core modules, adapters, the CLI, the service and the
// Action all speak in these types; the README's Reference describes the same data to users.
import type { BuildSettings } from './build-settings.js';
import type { Secret } from './secret.js';

/** A GitHub event reduced to what planning needs. Built by `events.ts` from a webhook payload. */
export interface SourceEvent {
  /** GitHub event name as sent in `X-GitHub-Event` (`push`, `pull_request`, `ping`, ...). */
  name: string;
  /** What planning does with it. `other` covers every event autobuild does not build. */
  kind: 'push' | 'pull_request' | 'ping' | 'other';
  action?: string;
  /** `owner/name`, as in `repository.full_name`. */
  repository?: string;
  cloneUrl?: string;
  htmlUrl?: string;
  defaultBranch?: string;
  /** Full ref: `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`. */
  ref?: string;
  refType?: 'branch' | 'tag' | 'pr';
  /** Branch or tag name without the `refs/...` prefix; for a PR, the head branch. */
  refName?: string;
  /** The commit to build (for an annotated tag: the commit it points at, `head_commit.id`). */
  sha?: string;
  deleted?: boolean;
  prNumber?: number;
  /** PR base branch (the branch the PR targets). */
  baseRef?: string;
  commitMessage?: string;
  /** Files the push touched; `undefined` when unknown or GitHub truncated the lists. */
  changedFiles?: string[];
  pusher?: string;
  /**
   * Whether the code to build comes from the repository's writers (README "Security
   * model"): a push, or a pull request whose head branch lives in the same repository. A pull
   * request from a fork (or whose head repository was deleted, or cannot be told) is untrusted.
   * Decided once, in `events.ts`; `plan()` copies it to every build and the pipeline obeys it.
   */
  trusted: boolean;
  /**
   * Where the event came from; undefined means GitHub. Events from other forges name their
   * repository `HOST/PATH` (`gitlab.com/group/sub/app`), as their configuration keys do.
   */
  forge?: ForgeType;
}

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
