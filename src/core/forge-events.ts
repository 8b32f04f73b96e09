import { bitbucketEvents } from './bitbucket-events.js';
import { giteaEvents } from './gitea-events.js';
import { gitlabEvents } from './gitlab-events.js';
import type { ForgeType, SourceEvent } from './types.js';

// One entry to the three forges' payload readers, for callers that know the forge only as
// data (the CLI's `plan --forge HOST`); the receiver binds each route to its reader directly.

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
