// Real GitHub webhook payloads from @octokit/webhooks-examples, the one place tests load them.
// Each builder starts from a real example and changes only what its options name, so a row
// says what differs from what GitHub sends. Signing and POSTing them is test/support/webhooks.ts;
// turning them into SourceEvents is test/fixtures/events.ts.
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };

type Payload = Record<string, any>;

/** The commit and repository of the examples' pushes and pull requests. */
export const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
export const REPOSITORY = 'Codertocat/Hello-World';

const ZERO_SHA = '0'.repeat(40);

/** A deep copy (rows may edit it) of the first example of event `name` that `pick` accepts. */
export function example(name: string, pick: (p: Payload) => boolean = () => true): Payload {
  const group = (examples as unknown as { name: string; examples: Payload[] }[]).find((e) => e.name === name);
  const found = group?.examples.find(pick);
  if (!found) throw new Error(`no ${name} example in @octokit/webhooks-examples matches`);
  return structuredClone(found);
}

export interface PushOptions {
  /** Full ref, e.g. refs/heads/main or refs/tags/v1.2.3. */
  ref: string;
  /** The pushed commit (default SHA): `after`, `head_commit.id` and every listed commit's id. */
  sha?: string;
  /** `owner/name`: full_name, name and owner together, as GitHub names a repository. */
  repository?: string;
  cloneUrl?: string;
  /** Both `default_branch` and the older `master_branch`. */
  defaultBranch?: string;
  /** A deletion as GitHub sends it: `after` all zeros, no head commit, no commits. */
  deleted?: boolean;
  /** Files touched by the push; `undefined` keeps the example's, `null` drops the commit lists. */
  files?: string[] | null;
  /** An annotated tag: `after` is the tag object, `head_commit.id` the commit it points at. */
  annotatedTagObject?: string;
  /** A tag push's `base_ref` (`refs/heads/main`). */
  baseRef?: string;
}

/** The real push to a branch (one commit listed), moved to another ref, commit or repository. */
export function pushPayload(o: PushOptions): Payload {
  const p = example('push', (e) => e.ref === 'refs/heads/master' && e.deleted === false);
  const sha = o.sha ?? SHA;
  p.ref = o.ref;
  p.after = o.annotatedTagObject ?? sha;
  p.head_commit.id = sha;
  for (const commit of p.commits) commit.id = sha;
  if (o.repository) {
    const [owner, name] = o.repository.split('/');
    p.repository.full_name = o.repository;
    p.repository.name = name;
    p.repository.owner.login = owner;
    p.repository.owner.name = owner;
  }
  if (o.cloneUrl) p.repository.clone_url = o.cloneUrl;
  if (o.defaultBranch) {
    p.repository.default_branch = o.defaultBranch;
    p.repository.master_branch = o.defaultBranch;
  }
  if (o.baseRef) p.base_ref = o.baseRef;
  if (o.deleted) {
    p.deleted = true;
    p.created = false;
    p.after = ZERO_SHA;
    p.head_commit = null;
    p.commits = [];
  }
  if (o.files === null) p.commits = [];
  else if (o.files !== undefined) p.commits[0].added = o.files;
  return p;
}

/** The real push of a new tag (it lists no commits), renamed to `tag` at `sha`. */
export function tagPushPayload(tag: string, sha = SHA): Payload {
  const p = example('push', (e) => e.created === true && String(e.ref).startsWith('refs/tags/'));
  p.ref = `refs/tags/${tag}`;
  p.after = sha;
  p.head_commit.id = sha;
  return p;
}

export interface PullRequestOptions {
  number?: number;
  action?: string;
  /** The head branch's name. */
  head?: string;
  /** The head branch's commit. */
  headSha?: string;
  repository?: string;
  /** The repository the PR's head branch lives in: a fork's name, or null for a deleted fork. */
  headRepository?: string | null;
}

/** The real pull request event of `action` (default `opened`). */
export function pullRequestPayload(o: PullRequestOptions = {}): Payload {
  const p = example('pull_request', (e) => e.action === (o.action ?? 'opened'));
  if (o.number !== undefined) {
    p.number = o.number;
    p.pull_request.number = o.number;
  }
  if (o.head) p.pull_request.head.ref = o.head;
  if (o.headSha) p.pull_request.head.sha = o.headSha;
  if (o.repository) p.repository.full_name = o.repository;
  if (o.headRepository === null) p.pull_request.head.repo = null;
  else if (o.headRepository !== undefined) p.pull_request.head.repo.full_name = o.headRepository;
  return p;
}
