import type { Secret } from './secret.js';

// Notifications of build state changes (`notifications:` at the top level and per repository):
// who is told of what, and the body each receiver gets. Pure: the queue that delivers them with
// retries lives in src/service/notifier.ts.

export type NotificationEvent = 'queued' | 'started' | 'succeeded' | 'failed' | 'canceled';

export interface NotificationTarget {
  /** Where it is configured (`notifications[0]`, `repositories.o/a.notifications[1]`); jobs name targets by it. */
  id: string;
  url: string;
  events: NotificationEvent[];
  format: 'json' | 'slack';
  secret?: Secret;
}

/** What a notification says about a build: the API's build record (README "HTTP endpoints"). */
export interface NotifiedBuild {
  id: string;
  repository: string;
  ref: string;
  sha: string;
  images: string[];
  tags: string[];
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  digest: string | null;
  error: string | null;
  /** Why it ran when no push asked for it (`base image X changed A -> B`). */
  reason?: string | null;
}

/** The targets that want `event` for a build of `repository`: the top-level ones, then the repository's. */
export function targetsFor(
  event: NotificationEvent,
  repository: string,
  global: NotificationTarget[],
  perRepository: Record<string, NotificationTarget[]>,
): NotificationTarget[] {
  const want = repository.toLowerCase();
  const own = Object.entries(perRepository).find(([key]) => key.toLowerCase() === want)?.[1] ?? [];
  return [...global, ...own].filter((t) => t.events.includes(event));
}

/** Every target by id, for the delivering side to find a job's target in its own configuration. */
export function targetIndex(global: NotificationTarget[], perRepository: Record<string, NotificationTarget[]>): Map<string, NotificationTarget> {
  return new Map([...global, ...Object.values(perRepository).flat()].map((t) => [t.id, t]));
}

function seconds(from: string | null, to: string | null): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

function duration(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Slack's mrkdwn needs &, < and > escaped in text that is not a link. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const WORDS: Record<NotificationEvent, string> = {
  queued: 'queued',
  started: 'started',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
};

/** One line for a chat: status, repository, ref, tags, duration, and the build page as a link. */
export function slackText(event: NotificationEvent, build: NotifiedBuild, buildUrl: string): string {
  const ref = build.ref.replace(/^refs\/(?:heads|tags)\//, '');
  const tags = build.tags.length > 0 ? ` → ${build.tags.join(', ')}` : '';
  const took = event === 'queued' || event === 'started' ? undefined : seconds(build.startedAt, build.finishedAt);
  const error = event === 'failed' && build.error ? `: ${build.error.split('\n')[0]!.slice(0, 200)}` : '';
  return (
    `autobuild: *${WORDS[event]}* ${escape(build.repository)} ${escape(ref)} (${build.sha.slice(0, 7)})${escape(tags)}` +
    `${took !== undefined ? ` in ${duration(took)}` : ''}${escape(error)}${build.reason ? ` (${escape(build.reason)})` : ''} — <${buildUrl}|build ${escape(build.id)}>`
  );
}

/** The exact body a target receives (signed as sent). */
export function notificationBody(format: 'json' | 'slack', event: NotificationEvent, build: NotifiedBuild, buildUrl: string): string {
  if (format === 'slack') return JSON.stringify({ text: slackText(event, build, buildUrl) });
  return JSON.stringify({ event, url: buildUrl, ...build });
}
