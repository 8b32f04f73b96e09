import { UserError } from './errors.js';
import { field, filesTouched, isObject, str, type Json } from './payload-fields.js';
import type { SourceEvent } from './types.js';

// A GitHub webhook payload (or a workflow's GITHUB_REF/GITHUB_SHA) reduced to a SourceEvent.
// Only what planning needs is read; everything else in the payload is ignored.

/** GitHub lists at most 20 commits in a push payload and silently drops the rest. */
const GITHUB_PUSH_COMMIT_LIMIT = 20;

/** pull_request actions that mean "the code to build changed" (as docker/metadata-action builds). */
export const PR_BUILD_ACTIONS: ReadonlySet<string> = new Set(['opened', 'synchronize', 'reopened']);

function missing(event: string, path: string): UserError {
  return new UserError(
    `${event} payload has no "${path}"`,
    'send the webhook body exactly as GitHub delivered it (Content-Type: application/json)',
  );
}

function requireString(event: string, payload: Json, ...path: string[]): string {
  const value = str(field(payload, ...path));
  if (value === undefined) throw missing(event, path.join('.'));
  return value;
}

/** Repository facts every event carries; `master_branch` is what older payloads call it. */
function repositoryFacts(payload: unknown): Partial<SourceEvent> {
  const facts: Partial<SourceEvent> = {};
  const repo = field(payload, 'repository');
  const repository = str(field(repo, 'full_name'));
  const defaultBranch = str(field(repo, 'default_branch')) ?? str(field(repo, 'master_branch'));
  const cloneUrl = str(field(repo, 'clone_url'));
  const htmlUrl = str(field(repo, 'html_url'));
  if (repository !== undefined) facts.repository = repository;
  if (defaultBranch !== undefined) facts.defaultBranch = defaultBranch;
  if (cloneUrl !== undefined) facts.cloneUrl = cloneUrl;
  if (htmlUrl !== undefined) facts.htmlUrl = htmlUrl;
  return facts;
}

/** Longer refs than this are refused: git allows more, but no real branch or tag comes near it. */
const MAX_REF_LENGTH = 1024;
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

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
  if (problem !== undefined) throw new UserError(`${what} ${JSON.stringify(name.slice(0, 80))}${name.length > 80 ? '...' : ''} is not a valid git ref: ${problem}`, hint);
  return name;
}

/** A full git object id (40 hex, or 64 for SHA-256 repositories), lowercase. */
export function isCommitId(sha: string): boolean {
  return COMMIT_ID.test(sha);
}

/**
 * The ref checks of eventFromPayload, for events read by other modules (the other forges'
 * payloads): every ref and branch name of the event must be one git accepts.
 */
export function checkEventRefs(event: SourceEvent, what: string): SourceEvent {
  if (event.ref !== undefined) checkRefName(event.ref, `${what} ref`, 'send the webhook body exactly as the forge delivered it');
  if (event.refName !== undefined) checkRefName(event.refName, `${what} branch or tag`, 'send the webhook body exactly as the forge delivered it');
  if (event.baseRef !== undefined) checkRefName(event.baseRef, `${what} base branch`, 'send the webhook body exactly as the forge delivered it');
  return event;
}

function checkCommit(event: string, sha: string): string {
  if (!COMMIT_ID.test(sha)) {
    throw new UserError(`${event} payload names commit ${JSON.stringify(sha.slice(0, 80))}, which is not a 40-hex git commit id`,
      'send the webhook body exactly as GitHub delivered it');
  }
  return sha;
}

/** Branch, tag or pull request, from a full ref; undefined for anything else (notes, etc.). */
function splitRef(ref: string): Pick<SourceEvent, 'refType' | 'refName' | 'prNumber'> | undefined {
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) {
    return { refType: 'branch', refName: ref.slice('refs/heads/'.length) };
  }
  if (ref.startsWith('refs/tags/') && ref.length > 'refs/tags/'.length) {
    return { refType: 'tag', refName: ref.slice('refs/tags/'.length) };
  }
  const pr = /^refs\/pull\/([0-9]+)\/(?:merge|head)$/.exec(ref);
  if (pr) return { refType: 'pr', prNumber: Number(pr[1]) };
  return undefined;
}

/** Files the push touched, or undefined when that cannot be known (see filesTouched). */
function changedFiles(payload: Json): string[] | undefined {
  return filesTouched(payload['commits'], GITHUB_PUSH_COMMIT_LIMIT);
}

/**
 * Whether a pull request's code comes from the base repository itself (a branch its writers
 * pushed) rather than from a fork. `head.repo` is null when the fork was deleted; anything we
 * cannot tell counts as a fork. GitHub compares repository names case-insensitively.
 */
function pullRequestFromSameRepository(payload: Json): boolean {
  const head = str(field(payload, 'pull_request', 'head', 'repo', 'full_name'));
  const base = str(field(payload, 'pull_request', 'base', 'repo', 'full_name')) ?? str(field(payload, 'repository', 'full_name'));
  return head !== undefined && base !== undefined && head.toLowerCase() === base.toLowerCase();
}

function pushEvent(payload: Json): SourceEvent {
  const ref = checkRefName(requireString('push', payload, 'ref'), 'push payload ref', 'send the webhook body exactly as GitHub delivered it');
  const split = splitRef(ref);
  const facts = repositoryFacts(payload);
  if (facts.repository === undefined) throw missing('push', 'repository.full_name');
  if (split === undefined || split.refType === 'pr') {
    // refs/notes/*, refs/pull/* pushed by hand...: not a branch or tag, so nothing to build.
    return { name: 'push', kind: 'other', ...facts, ref, trusted: false };
  }
  const deleted = payload['deleted'] === true;
  // For an annotated tag `after` is the tag object; head_commit.id is the commit it points at.
  const sha = str(field(payload, 'head_commit', 'id')) ?? str(payload['after']);
  if (sha === undefined && !deleted) throw missing('push', 'after');
  // Only the repository's writers can push to it (GitHub checked that before sending the event).
  const event: SourceEvent = { name: 'push', kind: 'push', ...facts, ref, ...split, deleted, trusted: true };
  if (sha !== undefined) event.sha = checkCommit('push', sha);
  const message = str(field(payload, 'head_commit', 'message'));
  if (message !== undefined) event.commitMessage = message;
  const baseRef = tagBaseRef(payload, split.refType);
  if (baseRef !== undefined) event.baseRef = baseRef;
  const pusher = str(field(payload, 'pusher', 'name'));
  if (pusher !== undefined) event.pusher = pusher;
  const files = changedFiles(payload);
  if (files !== undefined) event.changedFiles = files;
  return event;
}

/**
 * A tag push's `base_ref` (the branch the tagged commit was on, when GitHub knows it), which
 * metadata-action gives as `{{base_ref}}`.
 */
function tagBaseRef(payload: Json, refType: SourceEvent['refType']): string | undefined {
  const baseRef = str(payload['base_ref']);
  return refType === 'tag' && baseRef !== undefined ? baseRef.replace(/^refs\/heads\//, '') : undefined;
}

/** `pull_request` (and, in a workflow, `pull_request_target`): the PR's head commit and branches. */
function pullRequestEvent(payload: Json, name = 'pull_request'): SourceEvent {
  const action = requireString(name, payload, 'action');
  const facts = repositoryFacts(payload);
  if (!PR_BUILD_ACTIONS.has(action)) return { name, kind: 'other', action, ...facts, trusted: false };
  if (facts.repository === undefined) throw missing(name, 'repository.full_name');
  const number = payload['number'] ?? field(payload, 'pull_request', 'number');
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) throw missing(name, 'number');
  const sha = checkCommit(name, requireString(name, payload, 'pull_request', 'head', 'sha'));
  const branch = (key: string) => checkRefName(requireString(name, payload, 'pull_request', key, 'ref'), `${name} ${key}.ref`,
    'send the webhook body exactly as GitHub delivered it');
  const event: SourceEvent = {
    name,
    kind: 'pull_request',
    action,
    ...facts,
    ref: `refs/pull/${number}/merge`,
    refType: 'pr',
    refName: branch('head'),
    baseRef: branch('base'),
    sha,
    prNumber: number,
    trusted: pullRequestFromSameRepository(payload),
  };
  const title = str(field(payload, 'pull_request', 'title'));
  if (title !== undefined) event.commitMessage = title;
  const pusher = str(field(payload, 'sender', 'login'));
  if (pusher !== undefined) event.pusher = pusher;
  return event;
}

/** A webhook delivery (`X-GitHub-Event` name + parsed JSON body) as a SourceEvent. */
export function eventFromPayload(name: string, payload: unknown): SourceEvent {
  if (!isObject(payload)) {
    throw new UserError(`${name} payload is not a JSON object`, 'send the webhook body exactly as GitHub delivered it');
  }
  switch (name) {
    case 'push':
      return pushEvent(payload);
    case 'pull_request':
      return pullRequestEvent(payload);
    case 'ping':
      return { name, kind: 'ping', ...repositoryFacts(payload), trusted: false };
    default: {
      // Nothing is built from these; `trusted` is false so that nothing could be by mistake.
      const event: SourceEvent = { name, kind: 'other', ...repositoryFacts(payload), trusted: false };
      const action = str(payload['action']);
      if (action !== undefined) event.action = action;
      return event;
    }
  }
}

function commitSha(text: string): string {
  const sha = text.trim().toLowerCase();
  if (!COMMIT_ID.test(sha)) {
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
}): SourceEvent {
  const split = refNameProblem(input.ref) === undefined ? splitRef(input.ref) : undefined;
  if (split === undefined) {
    throw new UserError(
      `unsupported ref ${JSON.stringify(input.ref.slice(0, 80))}${input.ref.length > 80 ? '...' : ''}`,
      'give a full ref: refs/heads/<branch>, refs/tags/<tag> or refs/pull/<number>/merge',
    );
  }
  const sha = commitSha(input.sha);
  const payload = isObject(input.payload) ? input.payload : undefined;
  const isPr = split.refType === 'pr';
  const event: SourceEvent = {
    name: input.name ?? 'push',
    kind: isPr ? 'pull_request' : 'push',
    ...repositoryFacts(payload),
    ref: input.ref,
    ...split,
    sha,
    deleted: false,
    trusted: isPr ? payload !== undefined && pullRequestFromSameRepository(payload) : true,
  };
  if (input.repository !== undefined) event.repository = input.repository;
  if (input.defaultBranch !== undefined) event.defaultBranch = input.defaultBranch;
  if (payload !== undefined) {
    const message = str(field(payload, 'head_commit', 'message')) ?? str(field(payload, 'pull_request', 'title'));
    if (message !== undefined) event.commitMessage = message;
    const pusher = str(field(payload, 'pusher', 'name')) ?? str(field(payload, 'sender', 'login'));
    if (pusher !== undefined) event.pusher = pusher;
    const action = str(payload['action']);
    if (action !== undefined) event.action = action;
    const baseRef = tagBaseRef(payload, split.refType);
    if (baseRef !== undefined) event.baseRef = baseRef;
    if (isPr) {
      const head = str(field(payload, 'pull_request', 'head', 'ref'));
      const base = str(field(payload, 'pull_request', 'base', 'ref'));
      if (head !== undefined) event.refName = checkRefName(head, 'pull_request head.ref');
      if (base !== undefined) event.baseRef = checkRefName(base, 'pull_request base.ref');
    }
    // The commit lists describe this ref only when the payload is the push of this very ref.
    if (payload['ref'] === input.ref) {
      const files = changedFiles(payload);
      if (files !== undefined) event.changedFiles = files;
    }
  }
  return event;
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
    if (event.kind === 'pull_request' && !input.prHeadSha) event.sha = commitSha(input.sha);
    return event;
  }
  return eventFromRef({
    name: input.name,
    ref: input.ref,
    sha: input.sha,
    ...(input.repository !== undefined ? { repository: input.repository } : {}),
    ...(payload !== undefined ? { payload } : {}),
  });
}
