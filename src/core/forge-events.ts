import { bitbucketEvents } from './bitbucket-events.js';
import { giteaEvents } from './gitea-events.js';
import { gitlabEvents } from './gitlab-events.js';
import type { ForgeType, SourceEvent } from './types.js';

// One entry to the three forges' payload readers, for callers that know the forge only as
// data (the CLI's `plan --forge HOST`); the receiver binds each route to its reader directly.

/**
 * The event names each forge's reader builds from, as the forge sends them in its event header.
 * Any other name reads as an "other" event, which planning skips naming these.
 */
const READ_EVENTS: Record<ForgeType, { forge: string; header: string; names: string[] }> = {
  gitlab: { forge: 'GitLab', header: 'X-Gitlab-Event', names: ['Push Hook', 'Tag Push Hook', 'Merge Request Hook'] },
  bitbucket: { forge: 'Bitbucket', header: 'X-Event-Key', names: ['repo:push', 'pullrequest:created', 'pullrequest:updated'] },
  gitea: { forge: 'Gitea', header: 'X-Gitea-Event', names: ['push', 'pull_request'] },
};

/** Why nothing is built for an event name the forge's reader does not read; undefined for one it reads. */
export function unreadForgeEvent(type: ForgeType, name: string): string | undefined {
  const { forge, header, names } = READ_EVENTS[type];
  if (names.includes(name)) return undefined;
  return `${forge} event ${JSON.stringify(name)} is not built — only ${names.map((n) => JSON.stringify(n)).join(', ')} are (the ${header} header)`;
}

export function forgeEvents(type: ForgeType, name: string, payload: unknown, host: string): SourceEvent[] {
  switch (type) {
    case 'gitlab':
      return gitlabEvents(name, payload, host);
    case 'bitbucket':
      return bitbucketEvents(name, payload, host);
    case 'gitea':
      return giteaEvents(name, payload, host);
  }
}
