import { bitbucketEvents } from './bitbucket-events.js';
import { checkEvent, isCommitId } from './events.js';
import { giteaEvents } from './gitea-events.js';
import { gitlabEvents } from './gitlab-events.js';
import type { ForgeType, PullRequestEvent, Skip, SourceEvent } from './types.js';

// One entry to the three forges' payload readers, for the receiver and `autobuild plan --forge`
// alike, so both refuse the same deliveries with the same words: every event is read, then
// checked (refs git accepts, full commit ids) before anything is planned.

/**
 * Each forge as users know it, and the event names its reader builds from, as the forge sends
 * them in its event header. Any other name reads as an "other" event, which planning skips
 * naming these.
 */
const READ_EVENTS: Record<ForgeType, { forge: string; header: string; names: string[] }> = {
  gitlab: { forge: 'GitLab', header: 'X-Gitlab-Event', names: ['Push Hook', 'Tag Push Hook', 'Merge Request Hook'] },
  bitbucket: { forge: 'Bitbucket', header: 'X-Event-Key', names: ['repo:push', 'pullrequest:created', 'pullrequest:updated'] },
  gitea: { forge: 'Gitea', header: 'X-Gitea-Event', names: ['push', 'pull_request'] },
};

/**
 * Why nothing is built for a forge's "other" event, in the forge's own words: an event name its
 * reader does not read, a push of a ref that is neither a branch nor a tag, or a pull (merge)
 * request action that brings no new code. GitHub's wording (plan.ts) would name GitHub's events.
 */
export function forgeSkipReason(type: ForgeType, event: { name: string; action?: string; ref?: string }): string {
  const { forge, header, names } = READ_EVENTS[type];
  const { name, action, ref } = event;
  if (!names.includes(name)) {
    return `${forge} event ${JSON.stringify(name)} is not built — only ${names.map((n) => JSON.stringify(n)).join(', ')} are (the ${header} header)`;
  }
  if (ref !== undefined) {
    return `${forge} ${name}${action ? ` (${action})` : ''} of ${JSON.stringify(ref)} is neither a branch nor a tag; nothing to build`;
  }
  const request = type === 'gitlab' ? 'merge request' : 'pull request';
  return `${forge} ${request} action ${JSON.stringify(action ?? '')} is not built — only a ${request} opened, reopened or given new commits is`;
}

function readEvents(type: ForgeType, name: string, payload: unknown, host: string): SourceEvent[] {
  switch (type) {
    case 'gitlab':
      return gitlabEvents(name, payload, host);
    case 'bitbucket':
      return bitbucketEvents(name, payload, host);
    case 'gitea':
      return giteaEvents(name, payload, host);
  }
}

/**
 * The checked events of one delivery of a forge of `type` (`name` is its event header, `host`
 * the configured forge host). A bad ref or commit id is a UserError. Bitbucket names a pull
 * request's head by an abbreviated commit id; such an event passes, and `unresolvedHead` tells
 * it apart for the receiver to ask the Bitbucket API for the full id.
 */
export function forgeEvents(type: ForgeType, name: string, payload: unknown, host: string): SourceEvent[] {
  const label = READ_EVENTS[type].forge;
  const hint = `send the payload exactly as ${label} delivered it`;
  return readEvents(type, name, payload, host).map((event) => checkEvent(event, `${label} ${name}`, hint, type === 'bitbucket'));
}

/** A pull request whose head commit is named only by an abbreviated id (Bitbucket's). */
export function unresolvedHead(event: SourceEvent): event is PullRequestEvent {
  return event.kind === 'pull_request' && !isCommitId(event.sha);
}

/**
 * Why a pull request named only by an abbreviated head commit builds nothing: the receiver could
 * not look the full id up (`lookedUp`), or `autobuild plan`, which asks no forge API, did not try.
 */
export function unresolvedHeadSkip(event: PullRequestEvent, host: string, lookedUp: boolean): Skip {
  // Only Bitbucket names a head commit so (checkEvent lets the abbreviation through for it alone).
  const label = READ_EVENTS.bitbucket.forge;
  const why = lookedUp
    ? `it could not be looked up: set forges.${host}.token (and username) so autobuild can ask the ${label} API`
    : `autobuild plan asks no forge API; the service looks the full id up with forges.${host}.token`;
  return {
    reason: `${label} names pull request #${event.prNumber}'s head commit only by ${event.sha}, and ${why}`,
    ...(event.repository ? { repository: event.repository } : {}),
  };
}
