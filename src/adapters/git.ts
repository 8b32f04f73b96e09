import { mkdir } from 'node:fs/promises';
import { BuildError, UserError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { inheritedEnv, run, type RunOptions } from './process.js';

// A fresh working tree at exactly one commit: init, fetch that commit (shallow when the remote
// allows fetching by sha, in full otherwise), check it out detached, and make sure HEAD is it.
// A GitHub token reaches git through GIT_CONFIG_* environment variables as an extra HTTP
// header, so it is never part of a URL, an argument or .git/config.

export interface CheckoutOptions {
  cloneUrl: string;
  sha: string;
  /** Empty or missing directory that becomes the working tree. */
  dir: string;
  token?: GitAuth;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

export interface CheckoutResult {
  sha: string;
  commitMessage: string;
  /** Committer date (ISO 8601): a stable `created` time, so rebuilding a commit hits the cache. */
  commitTime?: string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export async function checkout(opts: CheckoutOptions): Promise<CheckoutResult> {
  if (!SHA.test(opts.sha)) {
    throw new UserError(`commit ${JSON.stringify(opts.sha)} is not a full commit sha`, 'give the 40-hex sha (e.g. from `git rev-parse HEAD` or GITHUB_SHA)');
  }
  if (!/^(?:https?|file|ssh|git):\/\//.test(opts.cloneUrl) && !/^[\w.-]+@[\w.-]+:/.test(opts.cloneUrl)) {
    throw new UserError(`clone URL ${JSON.stringify(opts.cloneUrl)} is not a git URL`, 'use https://, ssh://, git@host:path or file:// (repositories.<name>.cloneUrl)');
  }
  await mkdir(opts.dir, { recursive: true });
  const env = gitEnv(opts.token);
  const secrets = opts.token ? [authSecret(opts.token), basicHeader(opts.token)] : [];
  const git = (args: string[], extra: Partial<RunOptions> = {}) =>
    run('git', args, { env, cwd: opts.dir, secrets, signal: opts.signal, onLine: opts.onLine, ...extra });

  await git(['-c', 'init.defaultBranch=main', 'init', '--quiet']);
  await git(['remote', 'add', 'origin', opts.cloneUrl]);
  try {
    await git(['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', opts.sha]);
  } catch (shallowErr) {
    if (opts.signal?.aborted) throw shallowErr;
    // Some servers refuse to fetch an unadvertised sha; every commit of a branch or tag is
    // still reachable by fetching everything.
    try {
      await git(['fetch', '--quiet', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'], {
        what: `fetching ${opts.cloneUrl}`,
        hint: 'check that the URL is right, the remote is reachable and the token may read the repository',
        transient: (tail) => !/not found|does not appear to be a git repository|Authentication failed|could not read Username/i.test(tail.join('\n')),
      });
    } catch (fullErr) {
      const tail = fullErr instanceof BuildError ? fullErr.tail : [];
      throw new BuildError(`cannot fetch ${opts.cloneUrl}: the remote is unreachable or refused access`, {
        tail,
        transient: fullErr instanceof BuildError && fullErr.transient,
        cause: fullErr,
      });
    }
  }
  try {
    await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', opts.sha]);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    throw new BuildError(`commit ${opts.sha} is not in ${opts.cloneUrl}`, {
      tail: err instanceof BuildError ? err.tail : [],
      cause: err,
    });
  }
  const head = (await git(['rev-parse', 'HEAD'])).stdout.trim();
  if (head !== opts.sha) throw new BuildError(`checked out ${head} instead of ${opts.sha} from ${opts.cloneUrl}`);
  return { sha: head, ...(await headCommit(opts.dir)) };
}

/** Message and committer time of HEAD in a local directory; empty when it is not a git checkout. */
export async function headCommit(dir: string): Promise<{ commitMessage: string; commitTime?: string }> {
  try {
    // %cI first: one line; the message (any number of lines) follows.
    const out = (await run('git', ['log', '-1', '--format=%cI%n%B'], { env: gitEnv(), cwd: dir })).stdout;
    const newline = out.indexOf('\n');
    const commitTime = (newline === -1 ? out : out.slice(0, newline)).trim();
    return { commitMessage: newline === -1 ? '' : out.slice(newline + 1).replace(/\n+$/, ''), ...(commitTime ? { commitTime } : {}) };
  } catch {
    return { commitMessage: '' };
  }
}

/**
 * How git authenticates over https: a GitHub token alone (sent as `x-access-token`), or a user
 * name and a password or token, as GitLab, Bitbucket and Gitea take them.
 */
export type GitAuth = Secret | { username: string; password: Secret };

/** The secret part of an auth, to mask in output. */
export function authSecret(auth: GitAuth): Secret {
  return auth instanceof Secret ? auth : auth.password;
}

function basicHeader(auth: GitAuth): string {
  const [user, secret] = auth instanceof Secret ? ['x-access-token', auth] : [auth.username, auth.password];
  return Buffer.from(`${user}:${secret.reveal()}`).toString('base64');
}

/** Environment for every git command: never prompt; a token travels as an HTTP header, never in argv. */
export function gitEnv(token?: GitAuth): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...inheritedEnv(['SSH_AUTH_SOCK', 'GIT_SSH_COMMAND', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']),
    // Never wait for a password on a terminal nobody watches.
    GIT_TERMINAL_PROMPT: '0',
  };
  if (token && !authSecret(token).empty) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = `Authorization: basic ${basicHeader(token)}`;
  }
  return env;
}
