import { UserError } from './errors.js';
import { field, filesTouched, isObject, isZeroSha, positiveInt, str, type Json } from './payload-fields.js';
import type { DeletedPushEvent, OtherEvent, PullRequestEvent, PushEvent, RepositoryFacts, SourceEvent } from './types.js';

// A GitLab webhook (X-Gitlab-Event + JSON body) reduced to SourceEvents. The repository is named
// `HOST/path_with_namespace`, so subgroups stay in the name: `gitlab.com/group/sub/app`.
// https://docs.gitlab.com/user/project/integrations/webhook_events/

/** GitLab lists at most 20 commits in a push and says how many there were in total_commits_count. */
const GITLAB_PUSH_COMMIT_LIMIT = 20;

/**
 * Merge request actions that mean "the code to build changed". `update` counts only when it
 * carries `oldrev` (new commits); a title or label edit is an `update` without it.
 */
const MR_BUILD_ACTIONS = new Set(['open', 'reopen']);

function missing(event: string, path: string): UserError {
  return new UserError(`GitLab ${event} payload has no "${path}"`, 'send the webhook body exactly as GitLab delivered it');
}

function projectFacts(host: string, project: unknown): RepositoryFacts {
  const facts: RepositoryFacts = { forge: 'gitlab' };
  const path = str(field(project, 'path_with_namespace'));
  if (path !== undefined) facts.repository = `${host}/${path}`;
  const defaultBranch = str(field(project, 'default_branch'));
  if (defaultBranch !== undefined) facts.defaultBranch = defaultBranch;
  const cloneUrl = str(field(project, 'git_http_url')) ?? str(field(project, 'http_url'));
  if (cloneUrl !== undefined) facts.cloneUrl = cloneUrl;
  const htmlUrl = str(field(project, 'web_url'));
  if (htmlUrl !== undefined) facts.htmlUrl = htmlUrl;
  return facts;
}

/** Files the push touched; undefined when GitLab listed fewer commits than it counted. */
function changedFiles(payload: Json): string[] | undefined {
  const commits = payload['commits'];
  const total = payload['total_commits_count'];
  if (Array.isArray(commits) && typeof total === 'number' && total > commits.length) return undefined;
  return filesTouched(commits, GITLAB_PUSH_COMMIT_LIMIT);
}

function pushEvent(name: string, payload: Json, host: string): PushEvent | DeletedPushEvent | OtherEvent {
  const ref = str(payload['ref']);
  if (ref === undefined) throw missing(name, 'ref');
  const facts = projectFacts(host, payload['project']);
  if (facts.repository === undefined) throw missing(name, 'project.path_with_namespace');
  const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  const tag = ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
  const split = branch ? { refType: 'branch' as const, refName: branch } : tag ? { refType: 'tag' as const, refName: tag } : undefined;
  if (split === undefined) return { name, kind: 'other', ...facts, ref, trusted: false };
  const after = str(payload['after']);
  const commits = Array.isArray(payload['commits']) ? payload['commits'] : [];
  // checkout_sha is the commit (for an annotated tag, `after` is the tag object); null on delete.
  const sha = str(payload['checkout_sha']) ?? after;
  const head = commits.find((c) => field(c, 'id') === sha);
  const message = str(field(head, 'message')) ?? str(payload['message']);
  const pusher = str(payload['user_username']) ?? str(payload['user_name']);
  const common = {
    name,
    ...facts,
    ref,
    ...split,
    trusted: true as const,
    ...(message !== undefined ? { commitMessage: message } : {}),
    ...(pusher !== undefined ? { pusher } : {}),
  };
  if (isZeroSha(after)) return { kind: 'push', ...common, deleted: true };
  if (sha === undefined) throw missing(name, 'checkout_sha');
  const files = branch ? changedFiles(payload) : undefined;
  return { kind: 'push', ...common, deleted: false, sha, ...(files !== undefined ? { changedFiles: files } : {}) };
}

function mergeRequestEvent(name: string, payload: Json, host: string): PullRequestEvent | OtherEvent {
  const attrs = payload['object_attributes'];
  if (!isObject(attrs)) throw missing(name, 'object_attributes');
  const action = str(attrs['action']) ?? '';
  const facts = projectFacts(host, payload['project'] ?? attrs['target']);
  const builds = MR_BUILD_ACTIONS.has(action) || (action === 'update' && str(attrs['oldrev']) !== undefined);
  if (!builds) return { name, kind: 'other', action: action === 'update' ? 'update without new commits' : action, ...facts, trusted: false };
  if (facts.repository === undefined) throw missing(name, 'project.path_with_namespace');
  const iid = positiveInt(attrs['iid']);
  if (iid === undefined) throw missing(name, 'object_attributes.iid');
  const sha = str(field(attrs, 'last_commit', 'id'));
  if (sha === undefined) throw missing(name, 'object_attributes.last_commit.id');
  const source = str(attrs['source_branch']);
  const target = str(attrs['target_branch']);
  if (source === undefined) throw missing(name, 'object_attributes.source_branch');
  if (target === undefined) throw missing(name, 'object_attributes.target_branch');
  const title = str(attrs['title']);
  const pusher = str(field(payload, 'user', 'username'));
  return {
    name,
    kind: 'pull_request',
    action,
    ...facts,
    ref: `refs/merge-requests/${iid}/head`,
    refType: 'pr',
    refName: source,
    baseRef: target,
    sha,
    prNumber: iid,
    // A merge request from a fork names another source project: its code is not the writers'.
    trusted: attrs['source_project_id'] !== undefined && attrs['source_project_id'] === attrs['target_project_id'],
    ...(title !== undefined ? { commitMessage: title } : {}),
    ...(pusher !== undefined ? { pusher } : {}),
  };
}

/**
 * The events of one GitLab delivery (always one). `name` is X-Gitlab-Event; `host` is the
 * configured forge host the delivery was verified for.
 */
export function gitlabEvents(name: string, payload: unknown, host: string): SourceEvent[] {
  if (!isObject(payload)) throw new UserError(`GitLab ${name} payload is not a JSON object`, 'send the webhook body exactly as GitLab delivered it');
  switch (name) {
    case 'Push Hook':
    case 'Tag Push Hook':
      return [pushEvent(name, payload, host)];
    case 'Merge Request Hook':
      return [mergeRequestEvent(name, payload, host)];
    default:
      return [{ name, kind: 'other', ...projectFacts(host, payload['project']), trusted: false }];
  }
}
