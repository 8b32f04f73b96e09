import { createHash } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { notificationBody, targetIndex, targetsFor, type NotificationEvent, type NotificationTarget } from '../core/notifications.js';
import { notificationSignature } from '../core/webhook-signatures.js';
import { summary, type BuildRecords } from './build-records.js';
import { buildPageUrl } from './commit-status.js';
import type { ServiceMetrics } from './metrics.js';

// Notifications of build state changes, delivered from a BullMQ queue of their own: telling a
// receiver is never on a build's or a webhook's path (enqueueing is fire-and-forget), a failing
// receiver is retried with exponential backoff, and a job id per (build, event, receiver) makes
// each event reach each receiver once however often it is enqueued. A job holds the target's id
// and the body, never its URL or secret: the delivering process looks those up in its own
// configuration (a Slack webhook URL is itself a credential).

const NOTIFY_QUEUE = 'autobuild-notifications';
const ATTEMPTS = 8;
const TIMEOUT_MS = 10_000;

export interface NotifyJobData {
  target: string;
  event: NotificationEvent;
  buildId: string;
  body: string;
}

export interface NotificationConfig {
  notifications: NotificationTarget[];
  repositoryNotifications: Record<string, NotificationTarget[]>;
}

/** The receiver's host for logs: the path and query of a webhook URL often hold its secret. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

function jobId(buildId: string, event: NotificationEvent, target: string): string {
  // BullMQ job ids may not contain ':'; the target id is a config path, so it is hashed.
  return `${buildId}-${event}-${createHash('sha256').update(target).digest('hex').slice(0, 16)}`;
}

/** Enqueues notifications; every method returns at once and never throws. */
export class Notifier {
  readonly queue: Queue<NotifyJobData> | undefined;
  readonly #config: NotificationConfig;
  readonly #records: BuildRecords;
  readonly #publicUrl: string;
  readonly #log: Logger;
  readonly #backoffMs: number;

  constructor(opts: { redis: Redis; config: NotificationConfig; records: BuildRecords; publicUrl: string; log: Logger; backoffMs?: number }) {
    this.#config = opts.config;
    this.#records = opts.records;
    this.#publicUrl = opts.publicUrl;
    this.#log = opts.log;
    this.#backoffMs = opts.backoffMs ?? 2_000;
    const any = opts.config.notifications.length > 0 || Object.keys(opts.config.repositoryNotifications).length > 0;
    this.queue = any ? new Queue<NotifyJobData>(NOTIFY_QUEUE, { connection: opts.redis, skipWaitingForReady: true }) : undefined;
  }

  /** Tells every receiver that wants `event` about build `id`, as its record reads now. */
  notify(event: NotificationEvent, id: string): void {
    if (!this.queue) return;
    void this.#enqueue(event, id).catch((err: Error) => {
      this.#log.warn({ buildId: id, event, error: err.message }, 'could not queue a notification');
    });
  }

  async #enqueue(event: NotificationEvent, id: string): Promise<void> {
    const record = await this.#records.get(id);
    if (!record) return;
    const targets = targetsFor(event, record.repository, this.#config.notifications, this.#config.repositoryNotifications);
    const url = buildPageUrl(this.#publicUrl, id);
    const build = summary(record);
    await Promise.all(
      targets.map((target) =>
        this.queue!.add(
          'notify',
          {
            target: target.id,
            event,
            buildId: id,
            body: notificationBody(target.format, event, build, url),
          },
          {
            jobId: jobId(id, event, target.id),
            attempts: ATTEMPTS,
            backoff: { type: 'exponential', delay: this.#backoffMs },
            removeOnComplete: { count: 1_000 },
            removeOnFail: { count: 1_000 },
          },
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await this.queue?.close();
  }
}

/** Delivers queued notifications (runs beside the build worker). */
export class NotificationWorker {
  readonly #worker: Worker<NotifyJobData> | undefined;

  constructor(opts: { connection: Redis; config: NotificationConfig; metrics: ServiceMetrics; log: Logger }) {
    const targets = targetIndex(opts.config.notifications, opts.config.repositoryNotifications);
    if (targets.size === 0) return;
    this.#worker = new Worker<NotifyJobData>(NOTIFY_QUEUE, (job) => deliver(job, targets), { connection: opts.connection, concurrency: 4 });
    this.#worker.on('error', (err) => opts.log.warn({ error: err.message }, 'notification worker error'));
    this.#worker.on('completed', () => opts.metrics.notification('delivered'));
    // One log line and one count per failed attempt; the URL's path and query never appear.
    this.#worker.on('failed', (job, err) => {
      opts.metrics.notification('failed');
      if (!job) return;
      const target = targets.get(job.data.target);
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
      opts.log.warn(
        {
          buildId: job.data.buildId,
          event: job.data.event,
          target: job.data.target,
          host: target ? hostOf(target.url) : undefined,
          attempt: job.attemptsMade,
          error: err.message,
        },
        final ? 'notification failed; giving up' : 'notification failed; will retry',
      );
    });
  }

  async close(): Promise<void> {
    await this.#worker?.close();
  }
}

async function deliver(job: Job<NotifyJobData>, targets: Map<string, NotificationTarget>): Promise<void> {
  const target = targets.get(job.data.target);
  // The configuration changed since the job was queued: nobody is left to tell.
  if (!target) throw new UnrecoverableError(`no notification target ${job.data.target} in this configuration`);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'autobuild',
    'x-autobuild-event': job.data.event,
    'x-autobuild-delivery': job.id ?? '',
  };
  if (target.secret && !target.secret.empty) headers['x-autobuild-signature-256'] = notificationSignature(target.secret.reveal(), job.data.body);
  let res: Response;
  try {
    res = await fetch(target.url, { method: 'POST', headers, body: job.data.body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`cannot reach the receiver: ${(err as Error).message}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  const message = `the receiver answered ${res.status}`;
  // A 4xx other than a timeout or rate limit will not change by asking again.
  if (res.status < 500 && res.status !== 408 && res.status !== 429) throw new UnrecoverableError(message);
  throw new Error(message);
}
