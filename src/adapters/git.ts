import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { BuildError, UserError } from '../core/errors.js';
import { isCommitId } from '../core/events.js';
import { Secret } from '../core/secret.js';
import { prepareSsh, type SshSetup } from './git-ssh.js';
import { inheritedEnv, run, type RunOptions } from './process.js';

// A fresh working tree at exactly one commit: init, fetch that commit (shallow when the remote
// allows fetching by sha, in full otherwise), check it out detached, and make sure HEAD is it.
// A GitHub token reaches git through GIT_CONFIG_* environment variables as an extra HTTP
// header for the clone URL's host only, so it is never part of a URL, an argument or
// .git/config, and never sent to another host a submodule names. Submodules are checked out
// recursively; their URLs are untrusted text (see `updateSubmodules`).

export interface CheckoutOptions {
  cloneUrl: string;
  sha: string;
  /** Empty or missing directory that becomes the working tree. */
  dir: string;
  token?: GitAuth;
  /** Check out submodules recursively (default true). */
  submodules?: boolean;
  /** Private key for ssh remotes (the repository's and its submodules'). */
  sshKey?: Secret;
  /** known_hosts lines on top of the built-in GitHub, GitLab and Bitbucket keys. */
  knownHosts?: string;
  /**
   * false for untrusted code (a fork's pull request): the token is sent for the repository's
   * own URL only, so a submodule its .gitmodules names elsewhere on the host gets nothing.
   */
  credentialsForSubmodules?: boolean;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

export interface CheckoutResult {
  sha: string;
  commitMessage: string;
  /** Committer date (ISO 8601): a stable `created` time, so rebuilding a commit hits the cache. */
  commitTime?: string;
}

export async function checkout(opts: CheckoutOptions): Promise<CheckoutResult> {
  if (!isCommitId(opts.sha)) {
    throw new UserError(`commit ${JSON.stringify(opts.sha)} is not a full commit sha`, 'give the 40-hex sha (e.g. from `git rev-parse HEAD` or GITHUB_SHA)');
  }
  if (!/^(?:https?|file|ssh|git):\/\//.test(opts.cloneUrl) && !/^[\w.-]+@[\w.-]+:/.test(opts.cloneUrl)) {
    throw new UserError(
      `clone URL ${JSON.stringify(opts.cloneUrl)} is not a git URL`,
      'use https://, ssh://, git@host:path or file:// (repositories.<name>.cloneUrl)',
    );
  }
  await mkdir(opts.dir, { recursive: true });
  // Never inside the working tree: that becomes the build context.
  const ssh =
    opts.sshKey && !opts.sshKey.empty ? await prepareSsh(join(dirname(opts.dir), `.${basename(opts.dir)}-ssh`), opts.sshKey, opts.knownHosts) : undefined;
  try {
    return await checkoutWith(opts, ssh);
  } finally {
    await ssh?.dispose();
  }
}

async function checkoutWith(opts: CheckoutOptions, ssh: SshSetup | undefined): Promise<CheckoutResult> {
  const env = {
    ...gitEnv(opts.token, opts.cloneUrl, opts.credentialsForSubmodules === false ? 'repository' : 'host'),
    ...ssh?.env,
    // Submodules may use only these transports: never ext:: (runs a command) and never a file
    // on this machine unless the repository itself is local (tests, a mirror on disk).
    GIT_ALLOW_PROTOCOL: allowedProtocols(opts.cloneUrl).join(':'),
  };
  const secrets = [...(opts.token ? [authSecret(opts.token), basicHeader(opts.token)] : []), ...secretLines(opts.sshKey)];
  const git = (args: string[], extra: Partial<RunOptions> = {}) =>
    run('git', ['-c', 'protocol.ext.allow=never', ...args], { env, cwd: opts.dir, secrets, signal: opts.signal, onLine: opts.onLine, ...extra });

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
  if (opts.submodules !== false) await updateSubmodules(opts.dir, allowedProtocols(opts.cloneUrl), git, 0);
  return { sha: head, ...(await headCommit(opts.dir)) };
}

type Git = (args: string[], extra?: Partial<RunOptions>) => Promise<{ stdout: string }>;

/** Nested submodules deeper than this are a mistake or an attack (a submodule of itself). */
const MAX_SUBMODULE_DEPTH = 8;

function allowedProtocols(cloneUrl: string): string[] {
  return ['https', 'http', 'ssh', 'git', ...(cloneUrl.startsWith('file://') || cloneUrl.startsWith('/') ? ['file'] : [])];
}

/** Each line of a multi-line secret (an ssh key) too, so no line of it shows in a log. */
function secretLines(secret: Secret | undefined): string[] {
  if (!secret) return [];
  return [
    secret.reveal(),
    ...secret
      .reveal()
      .split(/\r?\n/)
      .filter((l) => l.length >= 16 && !l.startsWith('-----')),
  ];
}

/**
 * Initialises the submodules of the tree at `dir`, then theirs, one level at a time, so the URL
 * of every submodule at every depth is checked before git uses it. A URL that git could read as
 * an option (`--upload-pack=...`) or whose transport is not allowed fails the checkout.
 */
async function updateSubmodules(dir: string, protocols: string[], git: Git, depth: number): Promise<void> {
  if (
    !(await stat(join(dir, '.gitmodules')).then(
      (s) => s.isFile(),
      () => false,
    ))
  )
    return;
  if (depth >= MAX_SUBMODULE_DEPTH) throw new BuildError(`submodules nest deeper than ${MAX_SUBMODULE_DEPTH} levels at ${dir}`);
  const entries = async (key: 'url' | 'path') => {
    const out = await git(['config', '--file', '.gitmodules', '--get-regexp', `^submodule\\..*\\.${key}$`], { cwd: dir, onLine: undefined }).catch(() => ({
      stdout: '',
    }));
    return out.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const space = line.indexOf(' ');
        return { name: line.slice('submodule.'.length, space - key.length - 1), value: line.slice(space + 1) };
      });
  };
  for (const { name, value } of await entries('url')) checkSubmoduleUrl(name, value, protocols);
  const paths = await entries('path');
  for (const { name, value } of paths) {
    const full = resolve(dir, value);
    if (value.startsWith('-') || relative(dir, full).startsWith('..') || full === dir) {
      throw new BuildError(`submodule ${JSON.stringify(name)} has the path ${JSON.stringify(value)}, which is not inside the repository — fix .gitmodules`);
    }
  }
  await git(['submodule', 'update', '--init', '--'], {
    cwd: dir,
    what: 'checking out the submodules',
    hint: "check each submodule URL in .gitmodules, and that the token or the repository's sshKey may read it",
    transient: (tail) => /timed out|connection (refused|reset)|could not resolve host|early EOF/i.test(tail.join('\n')),
  });
  for (const { value } of paths) await updateSubmodules(resolve(dir, value), protocols, git, depth + 1);
}

/** A submodule URL is untrusted text: only a relative path or a URL of an allowed transport. */
export function checkSubmoduleUrl(name: string, url: string, protocols: string[]): void {
  const fail = (why: string) => new BuildError(`submodule ${JSON.stringify(name)} has the URL ${JSON.stringify(url)}, ${why} — fix its url in .gitmodules`);
  if (url.startsWith('-')) throw fail('which git would read as an option');
  if (url.startsWith('./') || url.startsWith('../')) return;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!protocols.includes(scheme)) throw fail(`whose transport ${scheme} is not allowed (allowed: ${protocols.join(', ')})`);
    return;
  }
  // scp-like user@host:path is ssh; `transport::address` (ext::, fd::) runs helpers.
  if (url.includes('::')) throw fail('which names a remote helper');
  if (/^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:/.test(url) || /^[A-Za-z0-9.-]+:[^/]/.test(url)) return;
  if (url.startsWith('/') && protocols.includes('file')) return;
  throw fail('which is not a git URL this checkout may use');
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

/**
 * The `<url>.` of http.<url>.extraHeader: the host (`https://github.com/.`) or the repository
 * itself (git matches the path as a prefix); '' (every URL) when there is no http URL.
 */
function headerScope(url: string | undefined, scope: 'host' | 'repository'): string {
  if (!url || !/^https?:\/\//i.test(url)) return '';
  try {
    const u = new URL(url);
    return scope === 'host' ? `${u.protocol}//${u.host}/.` : `${u.protocol}//${u.host}${u.pathname}.`;
  } catch {
    return '';
  }
}

/**
 * Environment for every git command: never prompt; a token travels as an HTTP header, never in
 * argv, and only to `url`'s scheme and host when given (so a submodule elsewhere never sees it).
 */
export function gitEnv(token?: GitAuth, url?: string, scope: 'host' | 'repository' = 'host'): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...inheritedEnv(['SSH_AUTH_SOCK', 'GIT_SSH_COMMAND', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']),
    // Never wait for a password on a terminal nobody watches.
    GIT_TERMINAL_PROMPT: '0',
  };
  if (token && !authSecret(token).empty) {
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${headerScope(url, scope)}extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: basic ${basicHeader(token)}`;
  }
  return env;
}
