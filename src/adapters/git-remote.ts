import type { RuleTarget } from '../core/dockerhub-rules.js';
import { UserError } from '../core/errors.js';
import { authSecret, gitEnv, type GitAuth } from './git.js';
import { run } from './process.js';

// What a remote repository's refs point at, without cloning: `git ls-remote`. The remote
// trigger uses it to turn "build branch X / tag Y / the default branch" into a ref and a commit.

export interface RemoteRef {
  ref: string;
  sha: string;
  defaultBranch?: string;
}

export type RemoteTarget = RuleTarget;

/** Parses `git ls-remote --symref` output into ref -> sha (peeled tags win) and HEAD's branch. */
export function parseLsRemote(stdout: string): { refs: Map<string, string>; head?: string } {
  const refs = new Map<string, string>();
  let head: string | undefined;
  for (const line of stdout.split('\n')) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      head = symref[1];
      continue;
    }
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (!m) continue;
    const [, sha, name] = m as unknown as [string, string, string];
    // An annotated tag lists the tag object, then `^{}` with the commit it points at.
    if (name.endsWith('^{}')) refs.set(name.slice(0, -3), sha);
    else if (!refs.has(name)) refs.set(name, sha);
  }
  return head === undefined ? { refs } : { refs, head };
}

/** Resolves a branch, a tag or the default branch of `url` to its full ref and commit. */
export async function resolveRemoteRef(url: string, target: RemoteTarget, opts: { token?: GitAuth; signal?: AbortSignal } = {}): Promise<RemoteRef> {
  const patterns =
    target.kind === 'default'
      ? ['HEAD']
      : target.kind === 'branch'
        ? ['HEAD', `refs/heads/${target.name}`]
        : ['HEAD', `refs/tags/${target.name}`, `refs/tags/${target.name}^{}`];
  const result = await run('git', ['ls-remote', '--symref', '--', url, ...patterns], {
    env: gitEnv(opts.token, url),
    secrets: [opts.token === undefined ? undefined : authSecret(opts.token)],
    signal: opts.signal,
    what: `list the refs of ${url}`,
    hint: 'check the clone URL and that this machine can reach it',
    transient: () => true,
  });
  const { refs, head } = parseLsRemote(result.stdout);
  const defaultBranch = head?.replace(/^refs\/heads\//, '');
  const ref = target.kind === 'default' ? head : target.kind === 'branch' ? `refs/heads/${target.name}` : `refs/tags/${target.name}`;
  const sha = ref ? (refs.get(ref) ?? (target.kind === 'default' ? refs.get('HEAD') : undefined)) : undefined;
  if (!ref || !sha) {
    const what = target.kind === 'default' ? 'a default branch (HEAD)' : `${target.kind} ${JSON.stringify(target.name)}`;
    throw new UserError(`${url} has no ${what}`, 'name a branch or tag that exists in the repository');
  }
  return defaultBranch === undefined ? { ref, sha } : { ref, sha, defaultBranch };
}
