import type { Secret } from './secret.js';
import type { ForgeType } from './types.js';

// The forges besides GitHub as configured under `forges:` (keyed by host), and what follows
// from a repository key: `HOST/PATH` belongs to the forge configured for HOST, a key without a
// host is GitHub's. Pure: the receiver, the worker and the status sender all ask here, so a
// repository resolves the same way everywhere.

export interface ForgeConfig {
  type: ForgeType;
  webhookSecret?: Secret;
  token?: Secret;
  /** Bitbucket: the account the app password belongs to. Others: the user name sent with the token over git. */
  username?: string;
  /** REST API base; defaults per forge (see defaultApiUrl). */
  apiUrl: string;
  /** Post build statuses on commits (when a token is set). */
  statuses: boolean;
}

export interface ForgeRepository {
  host: string;
  /** `group/sub/app`, `workspace/slug`, `owner/name`. */
  path: string;
  forge: ForgeConfig;
}

/** A first path segment is a host when it has a dot or a port, or is localhost (as image references decide). */
export function splitRepositoryKey(key: string): { host?: string; path: string } {
  const slash = key.indexOf('/');
  const first = slash === -1 ? key : key.slice(0, slash);
  if (slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return { host: first.toLowerCase(), path: key.slice(slash + 1) };
  }
  return { path: key };
}

/** The forge a repository key belongs to; undefined for GitHub's `owner/name` keys. */
export function forgeRepository(key: string, forges: Record<string, ForgeConfig>): ForgeRepository | undefined {
  const { host, path } = splitRepositoryKey(key);
  if (host === undefined) return undefined;
  const entry = Object.entries(forges).find(([h]) => h.toLowerCase() === host);
  return entry ? { host: entry[0], path, forge: entry[1] } : undefined;
}

export function defaultApiUrl(type: ForgeType, host: string): string {
  switch (type) {
    case 'gitlab':
      return `https://${host}/api/v4`;
    case 'bitbucket':
      // Bitbucket Cloud's API lives on its own host.
      return host === 'bitbucket.org' ? 'https://api.bitbucket.org/2.0' : `https://api.${host}/2.0`;
    case 'gitea':
      return `https://${host}/api/v1`;
  }
}

/** Where a forge repository is cloned from when its configuration names no cloneUrl. */
export function forgeCloneUrl(repo: Pick<ForgeRepository, 'host' | 'path'>): string {
  return `https://${repo.host}/${repo.path}.git`;
}

/**
 * The HTTP basic credentials git sends to the forge: GitLab takes any user name with a token
 * (`oauth2` by convention), Gitea/Forgejo a user name with a token as password, Bitbucket the
 * account's user name with an app password. Undefined without a token.
 */
export function forgeGitCredentials(forge: ForgeConfig): { username: string; password: Secret } | undefined {
  if (!forge.token || forge.token.empty) return undefined;
  const fallback = forge.type === 'gitlab' ? 'oauth2' : forge.type === 'bitbucket' ? 'x-token-auth' : 'autobuild';
  return { username: forge.username ?? fallback, password: forge.token };
}
