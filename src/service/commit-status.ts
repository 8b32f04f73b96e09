import type { Logger } from 'pino';
import type { Secret } from '../core/secret.js';
import type { PlannedBuild } from '../core/types.js';
import { postJson } from './outbound-post.js';

// GitHub commit statuses, one context per image (`autobuild/<image>`), linking to the build page.
// Sent only with a token and `github.statuses`; a failure is logged, never fails the build.

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatusOptions {
  apiUrl: string;
  token?: Secret;
  enabled: boolean;
  publicUrl: string;
  log: Logger;
}

export function buildPageUrl(publicUrl: string, buildId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/builds/${encodeURIComponent(buildId)}`;
}

export class CommitStatuses {
  readonly #opts: CommitStatusOptions;

  constructor(opts: CommitStatusOptions) {
    this.#opts = opts;
  }

  get active(): boolean {
    return this.#opts.enabled && this.#opts.token !== undefined && !this.#opts.token.empty;
  }

  async set(build: PlannedBuild, buildId: string, state: CommitState, description: string): Promise<void> {
    if (!this.active) return;
    const { apiUrl, token, publicUrl, log } = this.#opts;
    const [owner, repo] = build.repository.split('/');
    if (!owner || !repo) return;
    const url = `${apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${build.sha}`;
    await Promise.all(build.images.map(async (image) => {
      const outcome = await postJson(url, {
        state,
        target_url: buildPageUrl(publicUrl, buildId),
        description: description.slice(0, 140),
        context: `autobuild/${image}`,
      }, {
        headers: {
          authorization: `Bearer ${token!.reveal()}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
        },
      });
      if (!outcome.ok) {
        log.warn({ buildId, image, state, status: outcome.status, error: outcome.error }, 'could not set the GitHub commit status');
      }
    }));
  }
}
