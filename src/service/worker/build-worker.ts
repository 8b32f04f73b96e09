import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAME, type BuildJobData } from '../build-queue.js';
import { runBuildJob, type BuildJobContext } from './build-job.js';

// The BullMQ worker: takes build jobs from the shared queue, `concurrency` at a time. A worker
// that dies (kill -9) loses nothing: its job's lock expires after `lockMs` and another worker's
// stalled-job check puts the job back in the queue.

export interface BuildWorkerOptions extends Omit<BuildJobContext, 'shutdown'> {
  /** A connection of its own that waits through Redis outages (maxRetriesPerRequest: null). */
  connection: Redis;
  concurrency: number;
  /** How long a job stays locked to a worker that stopped renewing it. */
  lockMs: number;
}

export class BuildWorker {
  readonly #worker: Worker<BuildJobData, string>;
  readonly #shutdown = new AbortController();

  constructor(opts: BuildWorkerOptions) {
    const ctx: BuildJobContext = { ...opts, shutdown: this.#shutdown.signal };
    this.#worker = new Worker<BuildJobData, string>(QUEUE_NAME, (job) => runBuildJob(job, ctx), {
      connection: opts.connection,
      concurrency: opts.concurrency,
      lockDuration: opts.lockMs,
      stalledInterval: Math.max(1_000, Math.floor(opts.lockMs / 2)),
      maxStalledCount: 3,
    });
    this.#worker.on('error', (err) => opts.log.warn({ error: err.message }, 'worker error'));
    // A job BullMQ gave up on outside the processor (stalled too often, retries used up after a
    // shutdown) must not leave its build looking queued or running forever.
    const settle = async (jobId: string | undefined, reason: string) => {
      if (!jobId || (await opts.queue.queue.getJobState(jobId)) !== 'failed') return;
      const was = await opts.records.transition(jobId, ['queued', 'running'], 'failed', { finishedAt: new Date().toISOString(), error: reason });
      if (!was) return;
      opts.metrics.buildEnded('failed');
      opts.notifier?.notify('failed', jobId);
    };
    this.#worker.on('failed', (job, err) => void settle(job?.id, err.message).catch(() => undefined));
    this.#worker.on('stalled', (jobId) => void settle(jobId, 'the build stopped answering too often (worker crashed or killed)').catch(() => undefined));
  }

  /** Stops taking jobs, lets running builds finish for up to `graceMs`, then stops them. */
  async close(graceMs: number): Promise<void> {
    const closing = this.#worker.close();
    let timer: NodeJS.Timeout | undefined;
    const expired = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!expired) return;
    this.#shutdown.abort();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 15_000))]);
  }
}
