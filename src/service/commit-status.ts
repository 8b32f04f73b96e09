import type { Logger } from 'pino';
import { forgeRepository, type ForgeConfig } from '../core/forges.js';
import { statusRequest, type CommitState } from '../core/forge-statuses.js';
import type { Secret } from '../core/secret.js';
import type { PlannedBuild } from '../core/types.js';
import { forgeApiHeaders } from './forge-api.js';
import { postJson } from './outbound-post.js';

// Commit statuses, one context per image (`autobuild/<image>`), linking to the build page: on
// GitHub for `owner/name` repositories, and through each forge's own API for `HOST/PATH` ones.
// Sent only with a token and statuses enabled; a failure is logged, never fails the build.

export type { CommitState };

export interface CommitStatusOptions {
  apiUrl: string;
  token?: Secret;
  enabled: boolean;
  publicUrl: string;
  log: Logger;
  /** `forges:` from autobuild.yml; repositories keyed `HOST/PATH` post their statuses there. */
  forges?: Record<string, ForgeConfig>;
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

  async set(build: Pick<PlannedBuild, 'repository' | 'sha' | 'images'>, buildId: string, state: CommitState, description: string): Promise<void> {
    const forge = forgeRepository(build.repository, this.#opts.forges ?? {});
    if (forge) return this.#setOnForge(forge.forge, forge.path, build, buildId, state, description);
    if (!this.active) return;
    const { apiUrl, token, publicUrl, log } = this.#opts;
    const [owner, repo] = build.repository.split('/');
    if (!owner || !repo) return;
    const url = `${apiUrl.replace(/\/+$/, '')}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${build.sha}`;
    await Promise.all(
      build.images.map(async (image) => {
        const outcome = await postJson(
          url,
          {
            state,
            target_url: buildPageUrl(publicUrl, buildId),
            description: description.slice(0, 140),
            context: `autobuild/${image}`,
          },
          {
            headers: {
              authorization: `Bearer ${token!.reveal()}`,
              accept: 'application/vnd.github+json',
              'x-github-api-version': '2022-11-28',
            },
          },
        );
        if (!outcome.ok) {
          log.warn({ buildId, image, state, status: outcome.status, error: outcome.error }, 'could not set the GitHub commit status');
        }
      }),
    );
  }

  async #setOnForge(
    forge: ForgeConfig,
    path: string,
    build: Pick<PlannedBuild, 'repository' | 'sha' | 'images'>,
    buildId: string,
    state: CommitState,
    description: string,
  ): Promise<void> {
    if (!forge.statuses || !forge.token || forge.token.empty) return;
    const { publicUrl, log } = this.#opts;
    const headers = forgeApiHeaders(forge);
    await Promise.all(
      build.images.map(async (image) => {
        const request = statusRequest(forge.type, {
          apiUrl: forge.apiUrl,
          path,
          sha: build.sha,
          state,
          context: `autobuild/${image}`,
          targetUrl: buildPageUrl(publicUrl, buildId),
          description,
        });
        const outcome = await postJson(request.url, request.body, { headers });
        if (!outcome.ok) {
          log.warn({ buildId, image, state, forge: forge.type, status: outcome.status, error: outcome.error }, `could not set the ${forge.type} commit status`);
        }
      }),
    );
  }
}
