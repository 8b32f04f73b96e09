import type { Logger } from 'pino';
import { familiarName, parseReference } from '../core/references.js';
import { postJson } from './outbound-post.js';

// After a successful push, each configured `webhooks` URL hears about every pushed tag in Docker
// Hub's webhook format, so receivers written for Docker Hub (deploy hooks, chat bots) keep working.
// https://docs.docker.com/docker-hub/repos/manage/webhooks/

export interface PushNotice {
  /** The pushed reference, `registry/namespace/name:tag`. */
  ref: string;
  pushedAt: Date;
  pusher: string;
  callbackUrl: string;
  dockerfile: string;
  repoUrl?: string;
}

function dockerHubPayload(notice: PushNotice) {
  const parsed = parseReference(notice.ref);
  const repoName = familiarName(parsed);
  const parts = parsed.path.split('/');
  const name = parts.pop() ?? parsed.path;
  const namespace = parts.join('/') || 'library';
  const pushedAt = Math.floor(notice.pushedAt.getTime() / 1000);
  return {
    callback_url: notice.callbackUrl,
    push_data: {
      pushed_at: pushedAt,
      images: [] as string[],
      tag: parsed.tag ?? 'latest',
      pusher: notice.pusher,
    },
    repository: {
      status: 'Active',
      description: '',
      is_trusted: true,
      full_description: '',
      repo_url:
        notice.repoUrl ??
        `https://${parsed.domain === 'docker.io' ? 'hub.docker.com/r' : parsed.domain}/${parsed.domain === 'docker.io' ? repoName : parsed.path}`,
      owner: namespace,
      is_official: false,
      is_private: false,
      name,
      namespace,
      star_count: 0,
      comment_count: 0,
      date_created: pushedAt,
      dockerfile: notice.dockerfile,
      repo_name: repoName,
    },
  };
}

/** Sends one payload per pushed ref to every URL; failures are logged after the retries. */
export async function notifyWebhooks(urls: string[], notices: PushNotice[], log: Logger, baseDelayMs = 1_000): Promise<void> {
  await Promise.all(
    urls.flatMap((url) =>
      notices.map(async (notice) => {
        const outcome = await postJson(url, dockerHubPayload(notice), { attempts: 5, baseDelayMs });
        if (!outcome.ok) log.warn({ url: redactQuery(url), ref: notice.ref, status: outcome.status, error: outcome.error }, 'webhook delivery failed');
      }),
    ),
  );
}

/** Webhook URLs often carry a token in the query; keep it out of logs. */
function redactQuery(url: string): string {
  try {
    const u = new URL(url);
    if (u.search) u.search = '?***';
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
