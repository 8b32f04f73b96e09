import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { UserError } from '../core/errors.js';

// `autobuild start` without `redis`/REDIS_URL runs a private redis-server. Whoever can write to
// the queue can ask for builds, so it listens on no TCP port at all: only on a unix socket in a
// directory of mode 0700 (`<dataDir>/redis`), reachable by this user and root alone. Its data
// (AOF with fsync on every write, so a queued build survives a crash) lives in that same private
// directory and is written with umask 077. It is stopped by its pid when autobuild exits. It runs
// in a process group of its own, so a Ctrl-C in the terminal reaches autobuild (which lets builds
// finish, then stops Redis) and not Redis itself. Its pid file lets the next start stop one left
// behind by an autobuild killed with -9.

export interface EmbeddedRedis {
  /** The unix socket's path, which ioredis takes in place of a URL. */
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/** A unix socket path must fit in sun_path (108 bytes); a deep dataDir gets a private temp dir. */
const SOCKET_PATH_MAX = 100;

async function answersPing(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Stops a redis-server a previous run left behind on this data directory, by its pid file. */
async function stopLeftover(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.startsWith('redis-server')) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
}

export async function startEmbeddedRedis(dataDir: string): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // An older autobuild created it world-readable; tighten it before anything is written.
  chmodSync(dir, 0o700);
  const pidFile = join(dir, 'redis-server.pid');
  await stopLeftover(pidFile);
  let socketDir = dir;
  let ownSocketDir = false;
  if (join(dir, 'redis.sock').length > SOCKET_PATH_MAX) {
    socketDir = mkdtempSync(join(tmpdir(), 'autobuild-redis-'));
    chmodSync(socketDir, 0o700);
    ownSocketDir = true;
  }
  const socket = join(socketDir, 'redis.sock');
  // The child inherits the umask at spawn: its AOF files and pid file are private from birth.
  const umask = process.umask(0o077);
  let child;
  try {
    child = execa(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--unixsocketperm',
        '700',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--protected-mode',
        'yes',
        '--pidfile',
        pidFile,
      ],
      { stdio: 'ignore', reject: false, cleanup: true, detached: true },
    );
  } finally {
    process.umask(umask);
  }
  const exited = child.then((r) => r);
  const url = socket;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ended: Awaited<typeof exited> | undefined;
  void exited.then((r) => {
    ended = r;
  });
  while (!(await answersPing(url))) {
    if (ended) {
      if ((ended as { code?: string }).code === 'ENOENT') {
        throw new UserError('redis-server is not installed', 'install it (apt-get install redis-server) or set REDIS_URL to a Redis autobuild can use');
      }
      throw new UserError(
        `the embedded redis-server exited (${ended.exitCode ?? ended.signal ?? 'unknown'}) before answering`,
        `check ${dir} is writable, or set REDIS_URL`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new UserError(`the embedded redis-server did not answer within ${READY_TIMEOUT_MS / 1000} s`, 'set REDIS_URL to a running Redis instead');
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (ended) return;
      // SIGTERM: redis-server flushes the AOF and exits.
      child.kill('SIGTERM');
      await exited;
      if (ownSocketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
