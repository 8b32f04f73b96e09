import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisReplyError, type RespConnection } from './resp-connection.js';

// Two kinds of Redis connection with opposite failure modes. The HTTP side must fail fast, so a
// webhook gets a 503 (GitHub redelivers) instead of hanging while Redis is away; the worker side
// must wait out an outage, which is what BullMQ requires of its blocking connections.

const PRODUCER_COMMAND_TIMEOUT_MS = 2_000;

/** Reconnects forever, backing off to 2 s, so a Redis restart heals without restarting autobuild. */
function reconnect(times: number): number {
  return Math.min(100 * times, 2_000);
}

/** For the receiver and the API: commands fail at once while disconnected. */
export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnect,
    connectionName: 'autobuild-http',
    // Commands of concurrent webhooks leave in one write: fewer syscalls on the hot path.
    enableAutoPipelining: true,
  });
}

/** For BullMQ workers and blocking log reads: commands wait for the connection to come back. */
export function workerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: reconnect,
    connectionName: 'autobuild-worker',
  });
}

/** Resolves once the connection is ready, or rejects with a one-line reason after `ms`. */
export async function whenReady(redis: Redis, url: string, ms = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${redactUrl(url)} did not answer within ${ms / 1000} s`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  if (url.startsWith('/')) return `unix socket ${url}`;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured Redis URL';
  }
}

/**
 * A Lua script sent by its SHA1 (EVALSHA), falling back to the full text once when Redis does
 * not know it yet (first use, or after a restart). Sending the text on every call costs Redis a
 * hash of the whole script per request on the webhook hot path.
 */
export class RedisScript {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  /** The same on a bare RESP connection (the webhook's hot path). */
  async runOn(conn: RespConnection, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await conn.send(['EVALSHA', this.#sha, keys.length, ...keys, ...args]);
    } catch (err) {
      if (!(err instanceof RedisReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
      return conn.send(['EVAL', this.#lua, keys.length, ...keys, ...args]);
    }
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
