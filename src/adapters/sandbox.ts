import { randomInt } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join, relative, resolve, sep } from 'node:path';
import { BuildError } from '../core/errors.js';
import { inheritedEnv, run, type RunOptions, type RunResult } from './process.js';

// Running code autobuild does not control (Docker Hub hooks, test hooks) so that it can neither
// read the service's secrets nor outlive its step:
//
// - a PID namespace (`unshare --pid --fork --kill-child --mount-proc`): the command sees only
//   its own processes in /proc, so not /proc/<service pid>/environ; it is the namespace's init,
//   and when it exits (or is killed) the kernel kills everything left in the namespace, however
//   it detached itself (`setsid cmd &`, double forks). `--kill-child` and `setpriv --pdeathsig`
//   tie the namespace's life to ours, so a cancel, a timeout or our own death ends it.
// - a private mount namespace in which the paths the caller names (the config file, dataDir)
//   are covered: an empty read-only tmpfs over a directory, /dev/null over a file.
// - as root: an unprivileged uid/gid of its own (`setpriv`, no groups, no capabilities,
//   no_new_privs), so file permissions keep everything else of root's out of reach; the
//   workspace it may use is handed to that uid. Not root: a user namespace instead, where the
//   command keeps our uid (see README "Security model" for what that leaves visible).
//
// util-linux's `unshare` and `setpriv` do this in a few well-known lines of C; Node has no way
// to create namespaces or change the credentials of a child itself.

export type Isolation = 'root' | 'user-namespace' | 'none';

interface SandboxUser {
  uid: number;
  gid: number;
}

export interface SandboxRunOptions extends RunOptions {
  cwd: string;
  /** Run as this identity (only when the service is root; ignored otherwise). */
  user?: SandboxUser;
  /** Paths covered inside the sandbox: directories by an empty tmpfs, files by /dev/null. */
  hide?: readonly string[];
  /** Refuse to run unsandboxed (the service); otherwise run plainly with a warning line (CLI). */
  required: boolean;
}

/** SIGTERM reaches the command's children at once; the namespace is killed this much later. */
const SANDBOX_GRACE_MS = 2_000;

/** uids handed to sandboxes: far above any system or subuid range (100000-165535 is typical). */
const UID_BASE = 1_700_000_000;
const UID_SPAN = 1_000_000;

// The namespace's init until it execs the command: covers the hidden paths, then execs. A fixed
// script; the paths and the command arrive as arguments, never as shell text.
const COVER_SCRIPT = [
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do',
  '  if [ -d "$1" ]; then mount -t tmpfs -o ro,size=4k,mode=0555 autobuild-hidden "$1"; else mount --bind /dev/null "$1"; fi || { echo "autobuild: cannot hide $1 from the sandbox" >&2; exit 126; }',
  '  shift',
  'done',
  'shift',
  'exec "$@"',
].join('\n');

let probe: Promise<{ isolation: Isolation; reason?: string }> | undefined;

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function namespaceArgs(isolation: Isolation): string[] {
  const user = isolation === 'user-namespace' ? ['--user', '--map-root-user'] : [];
  return ['--pdeathsig', 'KILL', '--', 'unshare', ...user, '--pid', '--fork', '--kill-child', '--mount-proc', '--'];
}

function dropArgs(user: SandboxUser): string[] {
  return [
    'setpriv',
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    // A change of uid clears the parent-death signal unshare set; set it again after the change.
    '--pdeathsig',
    'KILL',
    '--',
  ];
}

/** What this machine allows, tried once: root namespaces, a user namespace, or nothing. */
export function sandboxIsolation(): Promise<{ isolation: Isolation; reason?: string }> {
  probe ??= (async () => {
    const candidates: Isolation[] = isRoot() ? ['root', 'user-namespace'] : ['user-namespace'];
    const reasons: string[] = [];
    for (const isolation of candidates) {
      const drop = isolation === 'root' ? dropArgs({ uid: UID_BASE, gid: UID_BASE }) : [];
      try {
        await run('setpriv', [...namespaceArgs(isolation), '/bin/sh', '-c', COVER_SCRIPT, 'sh', '--', ...drop, 'true'], {
          env: inheritedEnv(),
          what: 'sandbox probe',
        });
        return { isolation };
      } catch (err) {
        reasons.push(`${isolation}: ${(err as Error).message}${err instanceof BuildError && err.tail.length ? ` (${err.tail.join(' ')})` : ''}`);
      }
    }
    return { isolation: 'none' as const, reason: reasons.join('; ') };
  })();
  return probe;
}

/** Whether sandboxed commands run as a uid of their own (the service runs as root). */
async function sandboxSwitchesUser(): Promise<boolean> {
  return (await sandboxIsolation()).isolation === 'root';
}

/** A fresh unprivileged identity for one build's sandboxed commands. */
function sandboxUser(): SandboxUser {
  const id = UID_BASE + randomInt(1, UID_SPAN);
  return { uid: id, gid: id };
}

/**
 * Runs one untrusted command in a sandbox (see the top of this file) with exactly `env`, in
 * `cwd`. Cancel (`signal`) or the command's own exit ends every process it started.
 */
export async function runSandboxed(file: string, args: readonly string[], opts: SandboxRunOptions): Promise<RunResult> {
  const { isolation, reason } = await sandboxIsolation();
  const what = opts.what ?? file;
  if (isolation === 'none') {
    if (opts.required) {
      throw new BuildError(`${what}: cannot run it isolated from the service on this machine (${reason})`, {
        hint: 'run autobuild as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0)',
      });
    }
    opts.onLine?.(`autobuild: warning: ${what} runs without a sandbox here (no PID or user namespace available); it can see this process and its files`);
    return run(file, args, opts);
  }
  const drop = isolation === 'root' && opts.user ? dropArgs(opts.user) : [];
  const hide = await existingPaths(opts.hide ?? [], opts.cwd);
  const argv = [...namespaceArgs(isolation), '/bin/sh', '-c', COVER_SCRIPT, 'sh', ...hide, '--', ...drop, file, ...args];
  return run('setpriv', argv, { ...opts, killGraceMs: SANDBOX_GRACE_MS, shownAs: [file, ...args] });
}

/**
 * Runs a tool of ours that runs untrusted steps itself, such as `buildah bud`, whose chroot
 * isolation leaves a Dockerfile's RUN in our PID namespace with CAP_KILL: as root, in a PID
 * namespace of its own, so those steps can neither see nor signal the service's processes and
 * die with the tool. Not root, the tool runs as is (a rootless buildah has no such power).
 */
export async function runInOwnPidNamespace(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  if ((await sandboxIsolation()).isolation !== 'root') return run(file, args, opts);
  return run('setpriv', [...namespaceArgs('root'), file, ...args], { ...opts, shownAs: [file, ...args] });
}

/** Paths that exist and do not contain `keep` (covering those would hide the command's own files). */
async function existingPaths(paths: readonly string[], keep: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of new Set(paths.map((x) => resolve(x)))) {
    if (contains(p, resolve(keep))) continue;
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      out.push(p);
  }
  return outermost(out);
}

function contains(dir: string, path: string): boolean {
  const inside = relative(dir, path);
  return inside === '' || (!inside.startsWith('..') && !inside.startsWith(sep));
}

/**
 * Drops paths inside another one of the list: once the outer is covered the inner no longer
 * exists in the namespace, and mounting over it would fail (the default dataDir holds the
 * worker's work directory).
 */
function outermost(paths: readonly string[]): string[] {
  return paths.filter((p) => !paths.some((q) => q !== p && contains(q, p)));
}

/** A per-build place for sandboxed commands: their HOME, TMPDIR, a copy of DOCKER_CONFIG, the engine. */
export interface SandboxWorkspace {
  /** The uid the commands run as; undefined when they keep the service's (not root). */
  user?: SandboxUser;
  /** HOME, TMPDIR, DOCKER_CONFIG (+ REGISTRY_AUTH_FILE), DOCKER_HOST for the commands. */
  env: Record<string, string>;
  /** Runs a command in this workspace's sandbox; `env` is added on top of the workspace's. */
  run(file: string, args: readonly string[], opts: Omit<SandboxRunOptions, 'user' | 'hide' | 'required'>): Promise<RunResult>;
  dispose(): Promise<void>;
}

export interface WorkspaceOptions {
  /** A private directory (created if missing) the workspace lives in. */
  dir: string;
  /** A tree the commands must read and write (their checkout): handed to their uid. */
  tree?: string;
  /** The build's DOCKER_CONFIG: copied, so a command cannot change what the pipeline uses. */
  dockerConfig?: string;
  /** The engine the commands may use (`DOCKER_HOST`; default the local socket). */
  dockerHost?: string;
  hide?: readonly string[];
  required: boolean;
  /** Run as a uid of its own when the service is root (false: `tree` is someone's own directory, as with the CLI). */
  switchUser: boolean;
}

export async function openWorkspace(opts: WorkspaceOptions): Promise<SandboxWorkspace> {
  const user = opts.switchUser && (await sandboxSwitchesUser()) ? sandboxUser() : undefined;
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const home = join(opts.dir, 'home');
  const tmp = join(opts.dir, 'tmp');
  await mkdir(home, { mode: 0o700 });
  await mkdir(tmp, { mode: 0o700 });
  const env: Record<string, string> = { HOME: home, TMPDIR: tmp };
  if (opts.dockerConfig) {
    const config = join(opts.dir, 'docker-config');
    await mkdir(config, { mode: 0o700 });
    const source = join(opts.dockerConfig, 'config.json');
    if (
      await stat(source).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      await copyFile(source, join(config, 'config.json'));
    env.DOCKER_CONFIG = config;
    env.REGISTRY_AUTH_FILE = join(config, 'config.json');
  }
  let engine: Server | undefined;
  const host = opts.dockerHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (user && host.startsWith('unix://')) {
    // The uid of its own cannot open the engine's socket (root's, often in a private dir), so
    // it gets a socket of its own that forwards to the engine, for this build only.
    const socket = join(opts.dir, 'docker.sock');
    engine = await forwardSocket(socket, host.slice('unix://'.length));
    await chown(socket, user.uid, user.gid);
    await chmod(socket, 0o600);
    env.DOCKER_HOST = `unix://${socket}`;
  } else {
    env.DOCKER_HOST = host;
  }
  if (user) {
    await run(
      'chown',
      [
        '-R',
        '-P',
        '--no-dereference',
        `${user.uid}:${user.gid}`,
        home,
        tmp,
        ...(env.DOCKER_CONFIG ? [env.DOCKER_CONFIG] : []),
        ...(opts.tree ? [opts.tree] : []),
      ],
      {
        env: inheritedEnv(),
        what: 'hand the checkout to the sandbox user',
      },
    );
    // Traversable (not listable) so the uid reaches its own directories inside; the checkout is
    // the uid's alone (git made it 0755), so a hook of another build cannot read it.
    await chmod(opts.dir, 0o711);
    if (opts.tree) await chmod(opts.tree, 0o700);
  }
  return {
    user,
    env,
    run: (file, args, runOpts) =>
      runSandboxed(file, args, {
        ...runOpts,
        env: { ...runOpts.env, ...env },
        ...(user ? { user } : {}),
        hide: opts.hide ?? [],
        required: opts.required,
      }),
    dispose: async () => {
      await new Promise<void>((done) => (engine ? engine.close(() => done()) : done()));
      await rm(home, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
      if (env.DOCKER_CONFIG) await rm(env.DOCKER_CONFIG, { recursive: true, force: true });
    },
  };
}

/** A unix socket at `path` whose every connection is piped to the socket at `target`. */
async function forwardSocket(path: string, target: string): Promise<Server> {
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ path: target, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const close = server.close.bind(server);
  // Closing the workspace also ends connections a detached `docker` left open.
  server.close = (cb?: (err?: Error) => void) => {
    for (const s of open) s.destroy();
    return close(cb);
  };
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(path, () => ok());
  });
  server.unref();
  return server;
}
