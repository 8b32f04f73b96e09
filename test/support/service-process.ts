// Runs the built `autobuild start | serve | worker` as a user would, waits until it is ready
// (its "listening on" line, or the worker's "taking builds" log line), and stops it by the pid
// it started: SIGTERM for a graceful stop, SIGKILL to play a crashed machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Checks that the tree bin/autobuild.js runs is there (test/support/global-setup.ts compiles it once). */
export function buildBinary(): void {
  if (!existsSync(join(repoRoot, 'build', 'src', 'cli', 'main.js'))) throw new Error('no build/src/cli/main.js: run npm run build');
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

// If a test file dies before its afterAll, the services it started still stop with it.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

export async function startService(
  mode: 'start' | 'serve' | 'worker',
  opts: { cwd: string; env: Record<string, string>; args?: string[]; timeoutMs?: number },
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'autobuild.js'), mode, ...(opts.args ?? [])], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', AUTOBUILD_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const ready = mode === 'worker' ? /worker taking builds/ : /autobuild: listening on/;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (!ready.test(err)) {
    if (gone) throw new Error(`autobuild ${mode} exited before it was ready:\n${err.slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`autobuild ${mode} not ready in time:\n${err.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    pid: child.pid!,
    stderr: () => err,
    exited,
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      return (await exited).code;
    },
    kill9: async () => {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
}
