import type { FastifyBaseLogger } from 'fastify';
import type { ForgeConfig } from '../core/forges.js';
import { splitRepositoryKey } from '../core/forges.js';
import { isCommitId } from '../core/events.js';
import type { PullRequestEvent } from '../core/types.js';

// Questions the receiver asks a forge's API before it can plan. Bitbucket Cloud's pull request
// payloads name the head commit by 12 hex digits; the pull request's commit list (newest first,
// fork commits included) gives the full id.

const TIMEOUT_MS = 10_000;

/**
 * How each forge's REST API takes the configured token: GitLab a PRIVATE-TOKEN header, Gitea
 * `Authorization: token`, Bitbucket an app password with its account (Basic) or an access token
 * (Bearer). The one place a forge token is put into a request header.
 */
export function forgeApiHeaders(forge: ForgeConfig): Record<string, string> {
  if (!forge.token || forge.token.empty) return {};
  const token = forge.token.reveal();
  switch (forge.type) {
    case 'gitlab':
      return { 'private-token': token };
    case 'bitbucket':
      return { authorization: forge.username ? `Basic ${Buffer.from(`${forge.username}:${token}`).toString('base64')}` : `Bearer ${token}` };
    case 'gitea':
      return { authorization: `token ${token}` };
  }
}

export async function resolveBitbucketPullRequestHead(forge: ForgeConfig, event: PullRequestEvent, log: FastifyBaseLogger): Promise<string | undefined> {
  if (!forge.token || forge.token.empty || event.repository === undefined) return undefined;
  const { path } = splitRepositoryKey(event.repository);
  const url = `${forge.apiUrl.replace(/\/+$/, '')}/repositories/${path.split('/').map(encodeURIComponent).join('/')}/pullrequests/${event.prNumber}/commits?pagelen=1`;
  try {
    const res = await fetch(url, { headers: { ...forgeApiHeaders(forge), accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) {
      log.warn({ repository: event.repository, pr: event.prNumber, status: res.status }, 'could not list the Bitbucket pull request commits');
      return undefined;
    }
    const body = (await res.json()) as { values?: { hash?: unknown }[] };
    const hash = body.values?.[0]?.hash;
    return typeof hash === 'string' && isCommitId(hash) && hash.startsWith(event.sha) ? hash : undefined;
  } catch (err) {
    log.warn({ repository: event.repository, pr: event.prNumber, error: (err as Error).message }, 'could not reach the Bitbucket API');
    return undefined;
  }
}
