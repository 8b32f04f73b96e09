import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { UserError } from '../core/errors.js';

// `autobuild start` without `redis`/REDIS_URL runs a private redis-server: loopback only, a free
// port, AOF with fsync on every write under `<dataDir>/redis` (a queued build survives a crash),
// stopped by its pid when autobuild exits. It runs in a process group of its own, so a Ctrl-C in
// the terminal reaches autobuild (which lets builds finish, then stops Redis) and not Redis itself.
// Its pid file lets the next start stop one left behind by an autobuild killed with -9.

export interface EmbeddedRedis {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

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
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis-server.pid');
  await stopLeftover(pidFile);
  const port = await freePort();
  const child = execa('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'yes',
    '--pidfile', pidFile,
  ], { stdio: 'ignore', reject: false, cleanup: true, detached: true });
  const exited = child.then((r) => r);
  const url = `redis://127.0.0.1:${port}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ended: Awaited<typeof exited> | undefined;
  void exited.then((r) => { ended = r; });
  while (!(await answersPing(url))) {
    if (ended) {
      if ((ended as { code?: string }).code === 'ENOENT') {
        throw new UserError('redis-server is not installed', 'install it (apt-get install redis-server) or set REDIS_URL to a Redis autobuild can use');
      }
      throw new UserError(`the embedded redis-server exited (${ended.exitCode ?? ended.signal ?? 'unknown'}) before answering`, `check ${dir} is writable, or set REDIS_URL`);
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
    },
  };
}
