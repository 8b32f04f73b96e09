import type { Redis } from 'ioredis';
import { redisKeys } from './redis-keys.js';

// A build's log is a capped Redis stream, so `serve` on another machine than the worker can show
// it and follow it live. Lines are buffered briefly and written in one pipeline: a chatty build
// costs a round trip per flush, not per line.

const logKey = redisKeys.log;
const MAX_LINES = 20_000;
const FLUSH_MS = 200;
const KEEP_DAYS = 30;

export class BuildLogWriter {
  readonly #redis: Redis;
  readonly #key: string;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(redis: Redis, buildId: string) {
    this.#redis = redis;
    this.#key = logKey(buildId);
  }

  /** Appends one line; the caller has masked it. */
  line(text: string): void {
    this.#pending.push(text);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves when Redis has it. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#pending;
    this.#pending = [];
    if (lines.length > 0) {
      this.#flushing = this.#flushing
        .then(async () => {
          const pipe = this.#redis.pipeline();
          for (const text of lines) pipe.xadd(this.#key, 'MAXLEN', '~', MAX_LINES, '*', 'l', text);
          pipe.expire(this.#key, KEEP_DAYS * 86_400);
          await pipe.exec();
        })
        .catch(() => undefined);
    }
    return this.#flushing;
  }

  /** Flushes and marks the log complete, so followers stop at once instead of waiting. */
  async end(): Promise<void> {
    await this.flush();
    await this.#redis.xadd(this.#key, 'MAXLEN', '~', MAX_LINES, '*', 'e', '1').catch(() => undefined);
  }
}

function linesOf(entries: [string, string[]][]): { text: string; last?: string; ended: boolean } {
  let text = '';
  let ended = false;
  for (const [, fields] of entries) {
    if (fields[0] === 'e') ended = true;
    else text += `${fields[1] ?? ''}\n`;
  }
  return { text, last: entries.at(-1)?.[0], ended };
}

/** The whole log as text. */
export async function readBuildLog(redis: Redis, buildId: string): Promise<string> {
  return linesOf(await redis.xrange(logKey(buildId), '-', '+')).text;
}

/** After the build's status says it ended, how long to wait for the worker's last lines. */
const TRAILING_MS = 3_000;

/**
 * Writes the log so far, then new lines as they come, until the worker marks the log complete,
 * or the build has ended (`finished()`) and no line came for a few seconds (a build canceled or
 * superseded before it ran has no worker to mark it), or `signal` aborts (the client went away).
 * `blocking` must be a connection of its own: XREAD BLOCK holds it.
 */
export async function followBuildLog(
  blocking: Redis,
  buildId: string,
  write: (text: string) => void,
  finished: () => Promise<boolean>,
  signal: AbortSignal,
): Promise<void> {
  let cursor = '0-0';
  let endedAt: number | undefined;
  while (!signal.aborted) {
    const res = (await blocking.xread('COUNT', 1000, 'BLOCK', 500, 'STREAMS', logKey(buildId), cursor)) as [string, [string, string[]][]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    if (entries.length > 0) {
      const { text, last, ended } = linesOf(entries);
      if (text) write(text);
      cursor = last ?? cursor;
      if (ended) return;
      continue;
    }
    if (endedAt === undefined) {
      if (await finished()) endedAt = Date.now();
    } else if (Date.now() - endedAt > TRAILING_MS) {
      return;
    }
  }
}
