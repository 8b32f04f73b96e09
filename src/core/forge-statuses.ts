import { createHash } from 'node:crypto';
import type { ForgeType } from './types.js';

// A build status on a commit, as each forge's API wants it: the URL and the JSON body. The
// adapter adds authentication and sends it. One status per image, named `autobuild/<image>`
// like the GitHub context, linking to the build page.

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface StatusInput {
  apiUrl: string;
  /** Repository path on the forge: `group/sub/app`, `workspace/slug`, `owner/name`. */
  path: string;
  sha: string;
  state: CommitState;
  /** `autobuild/<image>` */
  context: string;
  targetUrl: string;
  description: string;
}

export interface StatusRequest {
  url: string;
  body: Record<string, string>;
}

// GitLab: pending running success failed canceled. Bitbucket: INPROGRESS SUCCESSFUL FAILED STOPPED.
// Gitea: pending success error failure warning. `error` is what a canceled build reports.
const STATES: Record<ForgeType, Record<CommitState, string>> = {
  gitlab: { pending: 'pending', success: 'success', failure: 'failed', error: 'canceled' },
  bitbucket: { pending: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED', error: 'STOPPED' },
  gitea: { pending: 'pending', success: 'success', failure: 'failure', error: 'error' },
};

/** Bitbucket limits a status key to 40 characters; longer contexts keep a readable start and a hash. */
function bitbucketStatusKey(context: string): string {
  if (context.length <= 40) return context;
  return `${context.slice(0, 27)}-${createHash('sha256').update(context).digest('hex').slice(0, 12)}`;
}

export function statusRequest(type: ForgeType, input: StatusInput): StatusRequest {
  const base = input.apiUrl.replace(/\/+$/, '');
  const state = STATES[type][input.state];
  const description = input.description.slice(0, 140);
  switch (type) {
    case 'gitlab':
      // :id may be the URL-encoded path, subgroups included.
      return {
        url: `${base}/projects/${encodeURIComponent(input.path)}/statuses/${input.sha}`,
        body: { state, name: input.context, target_url: input.targetUrl, description },
      };
    case 'bitbucket':
      return {
        url: `${base}/repositories/${input.path.split('/').map(encodeURIComponent).join('/')}/commit/${input.sha}/statuses/build`,
        body: { key: bitbucketStatusKey(input.context), state, name: input.context, url: input.targetUrl, description },
      };
    case 'gitea':
      return {
        url: `${base}/repos/${input.path.split('/').map(encodeURIComponent).join('/')}/statuses/${input.sha}`,
        body: { state, context: input.context, target_url: input.targetUrl, description },
      };
  }
}
