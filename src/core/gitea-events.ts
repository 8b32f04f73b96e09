import { UserError } from './errors.js';
import { eventFromPayload, repositoryFacts } from './events.js';
import { field, isObject, isZeroSha, positiveInt, str, type Json } from './payload-fields.js';
import type { OtherEvent, PullRequestEvent, RepositoryFacts, SourceEvent } from './types.js';

// A Gitea or Forgejo webhook (X-Gitea-Event / X-Forgejo-Event + JSON body) reduced to
// SourceEvents. Their push payload is GitHub's format, so it is read by the same code; pull
// requests differ in action names (`synchronized`) and say where the head lives by repo id.
// The repository is named `HOST/owner/name`. https://docs.gitea.com/usage/webhooks

/** Gitea's pull_request actions that mean "the code to build changed". */
const PR_BUILD_ACTIONS = new Set(['opened', 'reopened', 'synchronized']);

function missing(event: string, path: string): UserError {
  return new UserError(`Gitea ${event} payload has no "${path}"`, 'send the webhook body exactly as Gitea delivered it');
}

/** The event as Gitea's: its repository named `HOST/owner/name`. */
function named<E extends RepositoryFacts>(event: E, host: string): E {
  return { ...event, forge: 'gitea', ...(event.repository !== undefined ? { repository: `${host}/${event.repository}` } : {}) };
}

/** GitHub's reader of a push, whose errors then say "Gitea" where they said "GitHub". */
function asGitea<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`Gitea ${err.problem}`, 'send the webhook body exactly as Gitea delivered it');
    throw err;
  }
}

function pushEvent(payload: Json, host: string): SourceEvent {
  // Gitea marks a deleted branch by `after` being all zeros rather than `deleted: true`.
  const deleted = payload['deleted'] === true || isZeroSha(str(payload['after']));
  const event = named(
    asGitea(() => eventFromPayload('push', deleted ? { ...payload, deleted: true, head_commit: null } : payload)),
    host,
  );
  const pusher = str(field(payload, 'pusher', 'login')) ?? str(field(payload, 'pusher', 'username'));
  return event.kind === 'push' && pusher !== undefined ? { ...event, pusher } : event;
}

function headRepository(branch: unknown): unknown {
  return positiveInt(field(branch, 'repo_id')) ?? str(field(branch, 'repo', 'full_name'));
}

function pullRequestEvent(payload: Json, host: string): PullRequestEvent | OtherEvent {
  const name = 'pull_request';
  const action = str(payload['action']) ?? '';
  const facts = named(repositoryFacts(payload), host);
  if (!PR_BUILD_ACTIONS.has(action)) return { name, kind: 'other', action, ...facts, trusted: false };
  if (facts.repository === undefined) throw missing(name, 'repository.full_name');
  const number = positiveInt(payload['number']) ?? positiveInt(field(payload, 'pull_request', 'number'));
  if (number === undefined) throw missing(name, 'number');
  const sha = str(field(payload, 'pull_request', 'head', 'sha'));
  const source = str(field(payload, 'pull_request', 'head', 'ref'));
  const target = str(field(payload, 'pull_request', 'base', 'ref'));
  if (sha === undefined) throw missing(name, 'pull_request.head.sha');
  if (source === undefined) throw missing(name, 'pull_request.head.ref');
  if (target === undefined) throw missing(name, 'pull_request.base.ref');
  const headRepo = headRepository(field(payload, 'pull_request', 'head'));
  const baseRepo = headRepository(field(payload, 'pull_request', 'base'));
  const title = str(field(payload, 'pull_request', 'title'));
  const pusher = str(field(payload, 'sender', 'login')) ?? str(field(payload, 'sender', 'username'));
  return {
    name,
    kind: 'pull_request',
    action,
    ...facts,
    ref: `refs/pull/${number}/head`,
    refType: 'pr',
    refName: source,
    baseRef: target,
    sha,
    prNumber: number,
    // Without repo ids (older Gitea) a fork cannot be told apart: treat the head as a fork's.
    trusted: headRepo !== undefined && headRepo === baseRepo,
    ...(title !== undefined ? { commitMessage: title } : {}),
    ...(pusher !== undefined ? { pusher } : {}),
  };
}

/** The events of one Gitea/Forgejo delivery. `name` is X-Gitea-Event; `host` the configured forge host. */
export function giteaEvents(name: string, payload: unknown, host: string): SourceEvent[] {
  if (!isObject(payload)) throw new UserError(`Gitea ${name} payload is not a JSON object`, 'send the webhook body exactly as Gitea delivered it');
  switch (name) {
    case 'push':
      return [pushEvent(payload, host)];
    case 'pull_request':
      return [pullRequestEvent(payload, host)];
    default:
      return [{ name, kind: 'other', ...named(repositoryFacts(payload), host), trusted: false }];
  }
}
