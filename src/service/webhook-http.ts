import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isUserError } from '../core/errors.js';
import type { Skip, SourceEvent } from '../core/types.js';
import type { Intake } from './intake.js';
import type { DeliveryResult, ServiceMetrics } from './metrics.js';

// HTTP mechanics shared by every webhook route (GitHub's in receiver.ts, the other forges'):
// webhook routes run on plain node:http, ahead of fastify (http-server.ts), because they are the
// hot path: reading the body while hashing it, bounded memory for bodies nobody has
// authenticated yet, and handing the verified events to the intake.

const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;
/** Past this, a body is not worth reading to the end to be able to answer 413. */
const DRAIN_LIMIT = 64 * 1024 * 1024;
/** Bodies larger than this are read a few at a time (LARGE_SLOTS). */
const LARGE_BODY = 1024 * 1024;
const LARGE_SLOTS = 4;
/** Large bodies waiting for a slot beyond this are turned away with 503. */
const LARGE_WAITING = 256;

/** A webhook route: a node:http handler for one POST path. */
export type WebhookRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface WebhookContext {
  intake: Intake;
  metrics: ServiceMetrics;
  log: Logger;
  /** Aborted at shutdown: new deliveries get 503 (the sender delivers again). */
  closing: AbortSignal;
}

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

/**
 * Answers, then reads and discards whatever of the body is left (up to a cap), so the sender
 * sees the answer rather than a connection reset. Discarding keeps nothing in memory.
 */
function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: string | object): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (!req.complete) {
    // Not `connection: close`: the socket would close under the sender while it still uploads.
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT) req.destroy();
    });
    req.resume();
  }
  res.writeHead(status, HEADERS).end(text);
}

/** The HTTP status of each delivery result: the route says what happened, the code follows. */
const STATUS: Record<DeliveryResult, number> = {
  accepted: 202,
  duplicate: 200,
  ping: 200,
  bad_request: 400,
  unauthorized: 401,
  too_large: 413,
  error: 500,
  unavailable: 503,
};

/** What each answered delivery came to, read by runRoute for the deliveries metric. */
const results = new WeakMap<ServerResponse, DeliveryResult>();

/** Answers a delivery with the status of `result`, and records the result for the metrics. */
export function answer(req: IncomingMessage, res: ServerResponse, result: DeliveryResult, body: string | object): void {
  results.set(res, result);
  sendJson(req, res, STATUS[result], body);
}

/** Answers a delivery that was not taken: `{"error": ...}` with the status of `result`. */
export function refuse(req: IncomingMessage, res: ServerResponse, result: Exclude<DeliveryResult, 'accepted' | 'duplicate' | 'ping'>, error: string): void {
  answer(req, res, result, { error });
}

/** One header's value, trimmed; undefined when absent or blank. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** A counting semaphore: at most `slots` holders, at most `waiting` in line. */
class Slots {
  #free: number;
  readonly #queue: (() => void)[] = [];
  readonly #waiting: number;

  constructor(slots: number, waiting: number) {
    this.#free = slots;
    this.#waiting = waiting;
  }

  acquire(): Promise<boolean> | boolean {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    if (this.#queue.length >= this.#waiting) return false;
    return new Promise((resolve) => this.#queue.push(() => resolve(true)));
  }

  release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#free++;
  }
}

// One per process: every webhook route shares the budget for large bodies.
const largeBodies = new Slots(LARGE_SLOTS, LARGE_WAITING);

export type BodyResult = { ok: true; body: Buffer; hmac?: Buffer } | { ok: false; result: 'bad_request' | 'too_large' | 'unavailable'; error: string };

/**
 * Reads the body, hashing its bytes as they arrive when `hmacKey` is given (the forge's HMAC
 * is over the bytes as sent, not over decoded text). A body declared larger than 25 MB is
 * refused before it is read; a large body waits for one of a few slots first, so unsigned
 * uploads cannot take the service's memory (at most LARGE_SLOTS x 25 MB is buffered at once).
 * A body not yet read waits in the socket, not in memory.
 */
export async function readBody(req: IncomingMessage, hmacKey?: string): Promise<BodyResult> {
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  const tooLarge = { ok: false as const, result: 'too_large' as const, error: `body is larger than the 25 MB webhook limit (${declared ?? 'more'} bytes)` };
  if (declared !== undefined && declared > WEBHOOK_BODY_LIMIT) return tooLarge;
  const large = declared === undefined || declared > LARGE_BODY;
  if (large && !(await largeBodies.acquire())) {
    return { ok: false, result: 'unavailable', error: 'too many large webhook bodies at once; deliver again later' };
  }
  try {
    return await new Promise<BodyResult>((resolve) => {
      const hmac = hmacKey === undefined ? undefined : createHmac('sha256', hmacKey);
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > WEBHOOK_BODY_LIMIT) {
          cleanup();
          chunks.length = 0;
          resolve(tooLarge);
          return;
        }
        chunks.push(chunk);
        hmac?.update(chunk);
      };
      const onEnd = () => {
        cleanup();
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        resolve(hmac ? { ok: true, body, hmac: hmac.digest() } : { ok: true, body });
      };
      const onGone = () => {
        cleanup();
        resolve({ ok: false, result: 'bad_request', error: 'the request ended before its body did' });
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onGone);
        req.off('aborted', onGone);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onGone);
      req.on('aborted', onGone);
    });
  } finally {
    if (large) largeBodies.release();
  }
}

/** `sha256=<64 hex>` (or bare hex) from a signature header, as bytes; undefined if malformed. */
export function signatureBytes(value: string, prefix = 'sha256='): Buffer | undefined {
  const hex = value.startsWith(prefix) ? value.slice(prefix.length) : prefix === '' ? value : undefined;
  if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex');
}

/** Constant-time comparison of two HMACs. */
export function sameMac(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Hands a verified delivery to the intake and answers: 202 with the build ids and skips, 200
 * with the first answer for a repeated delivery id, 400 for an event that cannot be planned,
 * 503 when Redis cannot store it. Every forge route ends here.
 */
export async function answerDelivery(
  ctx: WebhookContext,
  req: IncomingMessage,
  res: ServerResponse,
  delivery: {
    forge: string;
    id: string;
    events: SourceEvent[];
    eventName: string;
    /** Reasons for events of the delivery that were not planned at all. */
    skipped?: Skip[];
  },
): Promise<void> {
  const { forge, id, events, eventName } = delivery;
  let taken;
  try {
    taken = await ctx.intake.receive(forge, id, events, delivery.skipped ? { skipped: delivery.skipped } : {});
  } catch (err) {
    if (isUserError(err)) return refuse(req, res, 'bad_request', err.message);
    ctx.log.warn({ forge, delivery: id, error: (err as Error).message }, 'could not store the delivery');
    return refuse(req, res, 'unavailable', 'the build queue (Redis) is unavailable; deliver again later');
  }
  if (!taken.duplicate) ctx.log.info({ forge, delivery: id, event: eventName, builds: taken.builds, skipped: taken.skipped }, 'webhook accepted');
  answer(req, res, taken.duplicate ? 'duplicate' : 'accepted', taken.body);
}

/** Runs a route, counting the result and turning an unexpected error into a 500 that says nothing secret. */
export function runRoute(ctx: WebhookContext, route: WebhookRoute): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    res.once('finish', () => ctx.metrics.delivery(results.get(res) ?? 'error'));
    if (ctx.closing.aborted) return refuse(req, res, 'unavailable', 'autobuild is shutting down; deliver again later');
    route(req, res).catch((err: Error) => {
      ctx.log.error({ error: err.message, stack: err.stack }, 'webhook route failed');
      if (!res.headersSent) refuse(req, res, 'error', 'internal error; see the service log');
      else res.destroy();
    });
  };
}
