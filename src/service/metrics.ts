import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueCounts } from './build-queue.js';

// Prometheus metrics of one autobuild process. Deliveries are counted by the receiver, builds by
// the worker that ran them; queue depth is read from Redis at scrape time so every process
// reports the same shared queue.

export type DeliveryResult = 'accepted' | 'duplicate' | 'ping' | 'unauthorized' | 'bad_request' | 'too_large' | 'unavailable' | 'error';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #deliveries: Counter<'result'>;
  readonly #builds: Counter<'status'>;
  readonly #duration: Histogram<'status'>;
  readonly #notifications: Counter<'result'>;

  constructor(queueCounts?: () => Promise<QueueCounts>) {
    this.#deliveries = new Counter({
      name: 'autobuild_webhook_deliveries_total',
      help: 'Webhook deliveries (GitHub, GitLab, Bitbucket, Gitea) by result',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.#builds = new Counter({
      name: 'autobuild_builds_total',
      help: 'Builds that ended, by final status',
      labelNames: ['status'],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: 'autobuild_build_duration_seconds',
      help: 'Time from a build starting to it ending',
      labelNames: ['status'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 3600],
      registers: [this.registry],
    });
    this.#notifications = new Counter({
      name: 'autobuild_notifications_total',
      help: 'Notification delivery attempts by result (a failed attempt is retried with backoff)',
      labelNames: ['result'],
      registers: [this.registry],
    });
    if (queueCounts) {
      new Gauge({
        name: 'autobuild_queue_jobs',
        help: 'Build jobs in the queue by state',
        labelNames: ['state'],
        registers: [this.registry],
        async collect() {
          try {
            const counts = await queueCounts();
            for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
          } catch {
            // Redis away: /healthz says so; the scrape still succeeds with the other metrics.
          }
        },
      });
    }
  }

  delivery(result: DeliveryResult): void {
    this.#deliveries.inc({ result });
  }

  /** The delivery result a receiver status code stands for. */
  buildEnded(status: string, seconds?: number): void {
    this.#builds.inc({ status });
    if (seconds !== undefined) this.#duration.observe({ status }, seconds);
  }

  notification(result: 'delivered' | 'failed'): void {
    this.#notifications.inc({ result });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
