import { UserError } from './errors.js';
import { field, isObject, positiveInt, str, type Json } from './payload-fields.js';
import type { DeletedPushEvent, OtherEvent, PullRequestEvent, PushEvent, RepositoryFacts, SourceEvent } from './types.js';

// A Bitbucket Cloud webhook (X-Event-Key + JSON body) reduced to SourceEvents. One `repo:push`
// delivery can carry several changes (a branch and a tag pushed together, say): each becomes an
// event of its own. The repository is named `HOST/workspace/slug`.
// https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/

function missing(event: string, path: string): UserError {
  return new UserError(`Bitbucket ${event} payload has no "${path}"`, 'send the webhook body exactly as Bitbucket delivered it');
}

function repositoryFacts(host: string, repo: unknown): RepositoryFacts {
  const facts: RepositoryFacts = { forge: 'bitbucket' };
  const fullName = str(field(repo, 'full_name'));
  if (fullName !== undefined) facts.repository = `${host}/${fullName}`;
  const htmlUrl = str(field(repo, 'links', 'html', 'href'));
  if (htmlUrl !== undefined) {
    facts.htmlUrl = htmlUrl;
    facts.cloneUrl = `${htmlUrl.replace(/\/+$/, '')}.git`;
  }
  // Newer payloads name the main branch; without it only rules decide what a branch builds.
  const main = str(field(repo, 'mainbranch', 'name'));
  if (main !== undefined) facts.defaultBranch = main;
  return facts;
}

function actorName(payload: Json): string | undefined {
  return str(field(payload, 'actor', 'nickname')) ?? str(field(payload, 'actor', 'username')) ?? str(field(payload, 'actor', 'display_name'));
}

function changeEvent(change: unknown, index: number, facts: RepositoryFacts, pusher: string | undefined): PushEvent | DeletedPushEvent | OtherEvent {
  const name = 'repo:push';
  // A deleted ref has `new: null`; its name and type are in `old`.
  const after = field(change, 'new');
  const before = field(change, 'old');
  const refObject = isObject(after) ? after : before;
  const type = str(field(refObject, 'type'));
  const refName = str(field(refObject, 'name'));
  if (type === undefined || refName === undefined) throw missing(name, `push.changes[${index}].new.name`);
  if (type !== 'branch' && type !== 'tag') {
    return { name, kind: 'other', ...facts, ref: refName, action: `a ${type} change`, trusted: false };
  }
  const ref = `${type === 'branch' ? 'refs/heads' : 'refs/tags'}/${refName}`;
  const refType: 'branch' | 'tag' = type;
  const common = { name, ...facts, ref, refType, refName, trusted: true as const, ...(pusher !== undefined ? { pusher } : {}) };
  if (!isObject(after)) return { kind: 'push', ...common, deleted: true };
  const sha = str(field(after, 'target', 'hash'));
  if (sha === undefined) throw missing(name, `push.changes[${index}].new.target.hash`);
  const message = str(field(after, 'target', 'message'));
  return { kind: 'push', ...common, deleted: false, sha, ...(message !== undefined ? { commitMessage: message.replace(/\n+$/, '') } : {}) };
}

function pullRequestEvent(name: string, payload: Json, facts: RepositoryFacts): PullRequestEvent {
  const pr = payload['pullrequest'];
  if (!isObject(pr)) throw missing(name, 'pullrequest');
  if (facts.repository === undefined) throw missing(name, 'repository.full_name');
  const id = positiveInt(pr['id']);
  if (id === undefined) throw missing(name, 'pullrequest.id');
  // Bitbucket gives the head commit abbreviated (12 hex); the receiver looks up the full id.
  const sha = str(field(pr, 'source', 'commit', 'hash'));
  if (sha === undefined) throw missing(name, 'pullrequest.source.commit.hash');
  const source = str(field(pr, 'source', 'branch', 'name'));
  const target = str(field(pr, 'destination', 'branch', 'name'));
  if (source === undefined) throw missing(name, 'pullrequest.source.branch.name');
  if (target === undefined) throw missing(name, 'pullrequest.destination.branch.name');
  const sourceRepo = str(field(pr, 'source', 'repository', 'uuid')) ?? str(field(pr, 'source', 'repository', 'full_name'));
  const targetRepo = str(field(pr, 'destination', 'repository', 'uuid')) ?? str(field(pr, 'destination', 'repository', 'full_name'));
  const title = str(pr['title']);
  const pusher = actorName(payload);
  return {
    name,
    kind: 'pull_request',
    action: name.slice('pullrequest:'.length),
    ...facts,
    ref: `refs/pull-requests/${id}/from`,
    refType: 'pr',
    refName: source,
    baseRef: target,
    sha,
    prNumber: id,
    // A fork's pull request has another source repository; unknown counts as a fork.
    trusted: sourceRepo !== undefined && sourceRepo === targetRepo,
    ...(title !== undefined ? { commitMessage: title } : {}),
    ...(pusher !== undefined ? { pusher } : {}),
  };
}

/** The events of one Bitbucket delivery. `name` is X-Event-Key; `host` the configured forge host. */
export function bitbucketEvents(name: string, payload: unknown, host: string): SourceEvent[] {
  if (!isObject(payload)) throw new UserError(`Bitbucket ${name} payload is not a JSON object`, 'send the webhook body exactly as Bitbucket delivered it');
  const facts = repositoryFacts(host, payload['repository']);
  switch (name) {
    case 'repo:push': {
      if (facts.repository === undefined) throw missing(name, 'repository.full_name');
      const changes = field(payload, 'push', 'changes');
      if (!Array.isArray(changes)) throw missing(name, 'push.changes');
      const pusher = actorName(payload);
      return changes.map((change, i) => changeEvent(change, i, facts, pusher));
    }
    case 'pullrequest:created':
    case 'pullrequest:updated':
      return [pullRequestEvent(name, payload, facts)];
    default:
      return [{ name, kind: 'other', ...facts, trusted: false }];
  }
}
