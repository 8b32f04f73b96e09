import type { components } from '@octokit/openapi-webhooks-types';
import { UserError } from './errors.js';
import { filesTouched, isObject, payloadOf, type Json } from './payload-fields.js';
import type { DeletedPushEvent, OtherEvent, PullRequestEvent, PushEvent, RepositoryFacts, SourceEvent } from './types.js';

// A GitHub webhook payload (or a workflow's GITHUB_REF/GITHUB_SHA) reduced to a SourceEvent, and
// the checks every event passes before planning (refs git accepts, full commit ids), in one place
// for the receivers, `autobuild plan` and the Action. Only what planning needs is read. The
// payload schemas (@octokit/openapi-webhooks-types) type the paths read; the values are still
// checked, since a payload is untrusted input.

type Schemas = components['schemas'];
/** What any event says of its repository (`master_branch` is what older payloads call the default). */
type RepositoryPayload = { repository: Schemas['repository-webhooks'] };
type PushPayload = Schemas['webhook-push'];
/** The pull_request deliveries autobuild builds (PR_BUILD_ACTIONS). */
type PullRequestPayload = Schemas['webhook-pull-request-opened'] | Schemas['webhook-pull-request-synchronize'] | Schemas['webhook-pull-request-reopened'];

const GITHUB_HINT = 'send the webhook body exactly as GitHub delivered it';

/** GitHub lists at most 20 commits in a push payload and silently drops the rest. */
const GITHUB_PUSH_COMMIT_LIMIT = 20;

/** pull_request actions that mean "the code to build changed" (as docker/metadata-action builds). */
export const PR_BUILD_ACTIONS: ReadonlySet<string> = new Set(['opened', 'synchronize', 'reopened']);

function missing(event: string, path: string): UserError {
  return new UserError(`${event} payload has no "${path}"`, `${GITHUB_HINT} (Content-Type: application/json)`);
}

function required(event: string, value: string | undefined, path: string): string {
  if (value === undefined) throw missing(event, path);
  return value;
}

/** Repository facts every event carries, each only when the payload has it. */
export function repositoryFacts(payload: unknown): RepositoryFacts {
  const repo = payloadOf<RepositoryPayload>(payload);
  const facts: RepositoryFacts = {};
  const repository = repo.string('repository', 'full_name');
  const defaultBranch = repo.string('repository', 'default_branch') ?? repo.string('repository', 'master_branch');
  const cloneUrl = repo.string('repository', 'clone_url');
  const htmlUrl = repo.string('repository', 'html_url');
  if (repository !== undefined) facts.repository = repository;
  if (defaultBranch !== undefined) facts.defaultBranch = defaultBranch;
  if (cloneUrl !== undefined) facts.cloneUrl = cloneUrl;
  if (htmlUrl !== undefined) facts.htmlUrl = htmlUrl;
  return facts;
}

/** Longer refs than this are refused: git allows more, but no real branch or tag comes near it. */
const MAX_REF_LENGTH = 1024;

/** A full git object id: 40 hex, or 64 for SHA-256 repositories, lowercase. */
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Whether `sha` is a full commit id (40 hex, or 64 for SHA-256 repositories), lowercase. The one
 * copy of this check: events, queued jobs and checkouts all ask it here.
 */
export function isCommitId(sha: string): boolean {
  return COMMIT_ID.test(sha);
}

/**
 * Why `name` (a full ref or a branch/tag name) is not one git would accept, following
 * `git check-ref-format`; undefined when it is fine. Refs reach git, hooks and build records,
 * so a NUL byte, a control character or a megabyte of text stops at the door.
 */
function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_REF_LENGTH) return `it is ${name.length} characters long (at most ${MAX_REF_LENGTH})`;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'it contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return 'it contains "..", "//" or "@{"';
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name === '@') return 'it starts or ends with "/", ends with "." or is "@"';
  if (name.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) return 'a part of it starts with "." or ends with ".lock"';
  return undefined;
}

/** Throws a UserError naming `what` when `name` is not a valid git ref (see refNameProblem). */
export function checkRefName(name: string, what: string, hint = 'send the name exactly as git shows it'): string {
  const problem = refNameProblem(name);
  if (problem !== undefined)
    throw new UserError(`${what} ${JSON.stringify(name.slice(0, 80))}${name.length > 80 ? '...' : ''} is not a valid git ref: ${problem}`, hint);
  return name;
}

/** Throws a UserError unless `sha` is a full commit id; `event` names the payload it came in. */
function checkCommitId(event: string, sha: string, hint = GITHUB_HINT): string {
  if (!isCommitId(sha)) {
    throw new UserError(`${event} payload names commit ${JSON.stringify(sha.slice(0, 80))}, which is not a 40-hex git commit id`, hint);
  }
  return sha;
}

/**
 * The checks every event of a delivery passes before planning, for the other forges' readers
 * (GitHub's are made while reading): every ref and branch name is one git accepts, and the commit
 * is a full id. `what` names the delivery (`GitLab Push Hook`); `hint` says how to send it.
 * `abbreviatedHead` lets a pull request's commit be an abbreviated id (Bitbucket names it so; the
 * receiver asks the forge for the full one).
 */
export function checkEvent<E extends SourceEvent>(event: E, what: string, hint: string, abbreviatedHead = false): E {
  if (event.kind === 'other' || event.kind === 'ping') {
    if (event.kind === 'other' && event.ref !== undefined) checkRefName(event.ref, `${what} ref`, hint);
    return event;
  }
  checkRefName(event.ref, `${what} ref`, hint);
  if (event.refName !== undefined) checkRefName(event.refName, `${what} branch or tag`, hint);
  if (event.kind === 'push' && event.deleted) return event;
  if (event.baseRef !== undefined) checkRefName(event.baseRef, `${what} base branch`, hint);
  if (!(abbreviatedHead && event.kind === 'pull_request' && isAbbreviatedCommitId(event.sha))) checkCommitId(what, event.sha, hint);
  return event;
}

/** 7 to 39 hex digits: a commit id some forges give cut short. */
function isAbbreviatedCommitId(sha: string): boolean {
  return /^[0-9a-f]{7,39}$/.test(sha);
}

/** Branch or tag from a full ref; undefined for anything else (notes, pull requests, ...). */
function splitBranchOrTag(ref: string): Pick<PushEvent, 'refType' | 'refName'> | undefined {
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) {
    return { refType: 'branch', refName: ref.slice('refs/heads/'.length) };
  }
  if (ref.startsWith('refs/tags/') && ref.length > 'refs/tags/'.length) {
    return { refType: 'tag', refName: ref.slice('refs/tags/'.length) };
  }
  return undefined;
}

/** The number of a pull request's ref (`refs/pull/7/merge` or `/head`). */
function pullRequestNumber(ref: string): number | undefined {
  const pr = /^refs\/pull\/([0-9]+)\/(?:merge|head)$/.exec(ref);
  return pr ? Number(pr[1]) : undefined;
}

/** Files the push touched, or undefined when that cannot be known (see filesTouched). */
function changedFiles(payload: Json): string[] | undefined {
  return filesTouched(payloadOf<PushPayload>(payload).value('commits'), GITHUB_PUSH_COMMIT_LIMIT);
}

/**
 * Whether a pull request's code comes from the base repository itself (a branch its writers
 * pushed) rather than from a fork. `head.repo` is null when the fork was deleted; anything we
 * cannot tell counts as a fork. GitHub compares repository names case-insensitively.
 */
function pullRequestFromSameRepository(payload: Json): boolean {
  const pr = payloadOf<PullRequestPayload>(payload);
  const head = pr.string('pull_request', 'head', 'repo', 'full_name');
  const base = pr.string('pull_request', 'base', 'repo', 'full_name') ?? pr.string('repository', 'full_name');
  return head !== undefined && base !== undefined && head.toLowerCase() === base.toLowerCase();
}

function pushEvent(payload: Json): PushEvent | DeletedPushEvent | OtherEvent {
  const push = payloadOf<PushPayload>(payload);
  const ref = checkRefName(required('push', push.string('ref'), 'ref'), 'push payload ref', GITHUB_HINT);
  const facts = repositoryFacts(payload);
  if (facts.repository === undefined) throw missing('push', 'repository.full_name');
  const split = splitBranchOrTag(ref);
  // refs/notes/*, refs/pull/* pushed by hand...: not a branch or tag, so nothing to build.
  if (split === undefined) return { name: 'push', kind: 'other', ...facts, ref, trusted: false };
  const deleted = push.boolean('deleted') === true;
  // For an annotated tag `after` is the tag object; head_commit.id is the commit it points at.
  const sha = push.string('head_commit', 'id') ?? push.string('after');
  // A deletion names no commit to build, but a malformed id is still refused.
  if (sha !== undefined) checkCommitId('push', sha);
  const common = {
    name: 'push',
    ...facts,
    ref,
    ...split,
    trusted: true as const,
    ...optional('commitMessage', push.string('head_commit', 'message')),
    ...optional('pusher', push.string('pusher', 'name')),
  };
  if (deleted) return { kind: 'push', ...common, deleted: true };
  return {
    kind: 'push',
    ...common,
    deleted: false,
    sha: required('push', sha, 'after'),
    ...optional('baseRef', tagBaseRef(payload, split.refType)),
    ...optional('changedFiles', changedFiles(payload)),
  };
}

/** `{ key: value }` when value is defined, else `{}`: optional fields stay absent, not undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

/**
 * A tag push's `base_ref` (the branch the tagged commit was on, when GitHub knows it), which
 * metadata-action gives as `{{base_ref}}`.
 */
function tagBaseRef(payload: Json, refType: 'branch' | 'tag'): string | undefined {
  const baseRef = payloadOf<PushPayload>(payload).string('base_ref');
  return refType === 'tag' && baseRef !== undefined ? baseRef.replace(/^refs\/heads\//, '') : undefined;
}

/** `pull_request` (and, in a workflow, `pull_request_target`): the PR's head commit and branches. */
function pullRequestEvent(payload: Json, name = 'pull_request'): PullRequestEvent | OtherEvent {
  const pr = payloadOf<PullRequestPayload>(payload);
  const action = required(name, pr.string('action'), 'action');
  const facts = repositoryFacts(payload);
  if (!PR_BUILD_ACTIONS.has(action)) return { name, kind: 'other', action, ...facts, trusted: false };
  if (facts.repository === undefined) throw missing(name, 'repository.full_name');
  const number = pr.number('number') ?? pr.number('pull_request', 'number');
  if (number === undefined || !Number.isInteger(number) || number <= 0) throw missing(name, 'number');
  const sha = checkCommitId(name, required(name, pr.string('pull_request', 'head', 'sha'), 'pull_request.head.sha'));
  const branch = (ref: string | undefined, key: 'head' | 'base') =>
    checkRefName(required(name, ref, `pull_request.${key}.ref`), `${name} ${key}.ref`, GITHUB_HINT);
  return {
    name,
    kind: 'pull_request',
    action,
    ...facts,
    ref: `refs/pull/${number}/merge`,
    refType: 'pr',
    refName: branch(pr.string('pull_request', 'head', 'ref'), 'head'),
    baseRef: branch(pr.string('pull_request', 'base', 'ref'), 'base'),
    sha,
    prNumber: number,
    trusted: pullRequestFromSameRepository(payload),
    ...optional('commitMessage', pr.string('pull_request', 'title')),
    ...optional('pusher', pr.string('sender', 'login')),
  };
}

/** A webhook delivery (`X-GitHub-Event` name + parsed JSON body) as a SourceEvent. */
export function eventFromPayload(name: string, payload: unknown): SourceEvent {
  if (!isObject(payload)) throw new UserError(`${name} payload is not a JSON object`, GITHUB_HINT);
  switch (name) {
    case 'push':
      return pushEvent(payload);
    case 'pull_request':
      return pullRequestEvent(payload);
    case 'ping':
      return { name, kind: 'ping', ...repositoryFacts(payload), trusted: false };
    default: {
      // Nothing is built from these; `trusted` is false so that nothing could be by mistake.
      const action = payloadOf<{ action: string }>(payload).string('action');
      return { name, kind: 'other', ...repositoryFacts(payload), ...optional('action', action), trusted: false };
    }
  }
}

function commitSha(text: string): string {
  const sha = text.trim().toLowerCase();
  if (!isCommitId(sha)) {
    throw new UserError(`invalid commit sha ${JSON.stringify(text.slice(0, 80))}`, 'give the full 40-character hex commit id, as GITHUB_SHA does');
  }
  return sha;
}

/**
 * A workflow run's view of an event: GITHUB_REF + GITHUB_SHA. Whatever the event name, it plans
 * like a push of that ref (refs/pull/N/merge plans as pull request N). A payload, when given,
 * adds the repository facts and the commit message. A pull request is trusted only when the
 * payload shows its head in the same repository; without a payload it is treated as a fork's.
 */
export function eventFromRef(input: {
  name?: string;
  ref: string;
  sha: string;
  repository?: string;
  defaultBranch?: string;
  payload?: unknown;
}): PushEvent | PullRequestEvent {
  const valid = refNameProblem(input.ref) === undefined;
  const split = valid ? splitBranchOrTag(input.ref) : undefined;
  const prNumber = valid ? pullRequestNumber(input.ref) : undefined;
  const unsupported = new UserError(
    `unsupported ref ${JSON.stringify(input.ref.slice(0, 80))}${input.ref.length > 80 ? '...' : ''}`,
    'give a full ref: refs/heads/<branch>, refs/tags/<tag> or refs/pull/<number>/merge',
  );
  if (split === undefined && prNumber === undefined) throw unsupported;
  const sha = commitSha(input.sha);
  const payload = isObject(input.payload) ? input.payload : undefined;
  // A workflow's payload is whichever event triggered it: read as a push, else as a pull request.
  const push = payloadOf<PushPayload>(payload);
  const pr = payloadOf<PullRequestPayload>(payload);
  const common = {
    name: input.name ?? 'push',
    ...repositoryFacts(payload),
    ...optional('repository', input.repository),
    ...optional('defaultBranch', input.defaultBranch),
    ref: input.ref,
    sha,
    ...optional('commitMessage', push.string('head_commit', 'message') ?? pr.string('pull_request', 'title')),
    ...optional('pusher', push.string('pusher', 'name') ?? pr.string('sender', 'login')),
    ...optional('action', payloadOf<{ action: string }>(payload).string('action')),
  };
  if (prNumber !== undefined) {
    const head = pr.string('pull_request', 'head', 'ref');
    const base = pr.string('pull_request', 'base', 'ref');
    return {
      ...common,
      kind: 'pull_request',
      refType: 'pr',
      prNumber,
      ...optional('refName', head === undefined ? undefined : checkRefName(head, 'pull_request head.ref')),
      ...optional('baseRef', base === undefined ? undefined : checkRefName(base, 'pull_request base.ref')),
      trusted: payload !== undefined && pullRequestFromSameRepository(payload),
    };
  }
  if (split === undefined) throw unsupported;
  return {
    ...common,
    kind: 'push',
    ...split,
    deleted: false,
    trusted: true,
    ...optional('baseRef', payload === undefined ? undefined : tagBaseRef(payload, split.refType)),
    // The commit lists describe this ref only when the payload is the push of this very ref.
    ...optional('changedFiles', payload !== undefined && push.string('ref') === input.ref ? changedFiles(payload) : undefined),
  };
}

/** What a workflow run knows of its event (`GITHUB_EVENT_NAME`, `GITHUB_REF`, `GITHUB_SHA`, the payload). */
export interface WorkflowEvent {
  name: string;
  ref: string;
  sha: string;
  payload?: unknown;
  repository?: string;
  /** `DOCKER_METADATA_PR_HEAD_SHA=true`: tag a pull request with its head commit. */
  prHeadSha?: boolean;
}

/**
 * A workflow run's event, read as docker/metadata-action reads it (its context.ts): a push with
 * its payload as the service reads it; a pull request (also `pull_request_target`) as PR N with
 * the commit the workflow checked out, GITHUB_SHA (the merge commit), unless `prHeadSha`; every
 * other trigger as a push of GITHUB_REF at GITHUB_SHA.
 */
export function eventFromWorkflow(input: WorkflowEvent): SourceEvent {
  const payload = isObject(input.payload) && Object.keys(input.payload).length > 0 ? input.payload : undefined;
  if (input.name === 'push' && payload !== undefined) return eventFromPayload('push', payload);
  if ((input.name === 'pull_request' || input.name === 'pull_request_target') && isObject(payload?.['pull_request'])) {
    const event = pullRequestEvent(payload, input.name);
    return event.kind === 'pull_request' && !input.prHeadSha ? { ...event, sha: commitSha(input.sha) } : event;
  }
  return eventFromRef({
    name: input.name,
    ref: input.ref,
    sha: input.sha,
    ...(input.repository !== undefined ? { repository: input.repository } : {}),
    ...(payload !== undefined ? { payload } : {}),
  });
}
