import { execa } from 'execa';
import { BuildError } from '../core/errors.js';
import { maskSecrets, type Secret } from '../core/secret.js';

// The one way autobuild runs a child process: an argv array (never a shell string), an explicit
// environment, output streamed line by line with secrets masked, and cancellation that kills the
// whole process tree (docker build, hooks and their children), not just the direct child.

export interface RunOptions {
  /** Environment of the child. Nothing is inherited implicitly; see `inheritedEnv()`. */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Text written to stdin, e.g. a password for `--password-stdin`. */
  input?: Secret | string;
  /** Values masked in every line, the error message and the tail. */
  secrets?: Iterable<Secret | string | undefined>;
  /** Receives each stdout/stderr line, already masked. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** What to tell the user when the command fails. */
  hint?: string;
  /** Message prefix for failures (default: the masked command line). */
  what?: string;
  /** Whether a failure may succeed when tried again (e.g. a network error during push). */
  transient?: (tail: string[]) => boolean;
  /** After SIGTERM on cancel, how long the tree may take before SIGKILL (default 5 s). */
  killGraceMs?: number;
  /** The command as messages show it, when `file` only wraps it (the sandbox's setpriv). */
  shownAs?: readonly string[];
}

export interface RunResult {
  exitCode: number;
  /** Every output line, masked (stdout and stderr interleaved as they arrived). */
  lines: string[];
  /** Only stdout, masked, for commands whose answer is printed (git rev-parse, docker inspect). */
  stdout: string;
}

const TAIL_LINES = 20;
/** After SIGTERM, give the tree this long before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/** A minimal environment every child needs; callers add their own variables on top. */
export function inheritedEnv(extra: string[] = []): Record<string, string | undefined> {
  const names = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'DOCKER_HOST', 'USER', ...extra];
  const env: Record<string, string | undefined> = {};
  for (const n of names) if (process.env[n] !== undefined) env[n] = process.env[n];
  return env;
}

/** Shows a command as the user could type it, for error messages (secrets masked). */
function describeCommand(file: string, args: readonly string[], secrets: Iterable<Secret | string | undefined> = []): string {
  const quoted = [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`));
  return maskSecrets(quoted.join(' '), secrets);
}

export async function run(file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const secrets = [...(opts.secrets ?? [])];
  if (opts.input !== undefined && typeof opts.input !== 'string') secrets.push(opts.input);
  const mask = (s: string) => maskSecrets(s, secrets);
  const lines: string[] = [];
  const stdoutParts: string[] = [];
  const [shownFile = file, ...shownArgs] = opts.shownAs ?? [file, ...args];
  const command = describeCommand(shownFile, opts.shownAs ? shownArgs : args, secrets);
  if (opts.signal?.aborted) throw new BuildError(`canceled before starting: ${command}`);

  const input = opts.input === undefined ? undefined : typeof opts.input === 'string' ? opts.input : opts.input.reveal();
  const grace = opts.killGraceMs ?? KILL_GRACE_MS;
  const child = execa(file, [...args], {
    env: opts.env,
    extendEnv: false,
    cwd: opts.cwd,
    input,
    stdin: input === undefined ? 'ignore' : undefined,
    buffer: false,
    reject: false,
    // A process group of its own, so cancelling can signal every descendant at once.
    detached: true,
    cancelSignal: opts.signal,
    forceKillAfterDelay: grace,
  });

  const killTree = () => {
    if (child.pid === undefined) return;
    signalGroup(child.pid, 'SIGTERM');
    const pid = child.pid;
    setTimeout(() => signalGroup(pid, 'SIGKILL'), grace).unref();
  };
  opts.signal?.addEventListener('abort', killTree, { once: true });

  const collect = (stream: NodeJS.ReadableStream | null, isStdout: boolean) => {
    if (!stream) return;
    let pending = '';
    stream.setEncoding('utf8');
    const emit = (raw: string) => {
      const line = mask(raw.replace(/\r$/, ''));
      lines.push(line);
      if (lines.length > 5_000) lines.splice(0, lines.length - 5_000);
      if (isStdout) stdoutParts.push(line);
      opts.onLine?.(line);
    };
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const p of parts) emit(p);
    });
    stream.on('end', () => {
      if (pending) emit(pending);
      pending = '';
    });
  };
  collect(child.stdout, true);
  collect(child.stderr, false);

  const result = await child;
  opts.signal?.removeEventListener('abort', killTree);
  const tail = lines.slice(-TAIL_LINES);
  if (opts.signal?.aborted || result.isCanceled) {
    killTree();
    throw new BuildError(`canceled: ${command}`, { tail });
  }
  if (result.failed) {
    const how =
      result.exitCode !== undefined ? `exit code ${result.exitCode}` : result.signal ? `killed by ${result.signal}` : mask(result.shortMessage ?? 'an error');
    const prefix = opts.what ? `${opts.what} (${command})` : command;
    const notFound = (result as { code?: string }).code === 'ENOENT';
    const message = notFound
      ? `${prefix}: ${shownFile === file ? file : `${file} (or ${shownFile})`} not found — install it or put it on PATH`
      : `${prefix} failed with ${how}${opts.hint ? ` — ${opts.hint}` : ''}`;
    throw new BuildError(message, { tail, transient: opts.transient?.(tail) ?? false });
  }
  return { exitCode: result.exitCode ?? 0, lines, stdout: stdoutParts.join('\n') };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
