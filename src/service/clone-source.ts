import type { GitAuth } from '../adapters/git.js';
import { forgeCloneUrl, forgeGitCredentials, forgeRepository, type ForgeConfig } from '../core/forges.js';
import type { CloneCredentials } from '../core/config.js';
import type { Secret } from '../core/secret.js';
import type { RepositoryConfig } from '../core/types.js';

// Where the worker clones a build's repository from, and with which credentials, decided from
// its own configuration. A forge repository (`HOST/PATH`) is cloned from its cloneUrl or
// https://HOST/PATH.git, never from a URL found in a payload; the forge's token goes only to
// that forge's host, over https, as an HTTP header (src/adapters/git.ts).

function sameHost(url: string, host: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

export interface CloneSettings {
  forges: Record<string, ForgeConfig>;
  github: { token?: Secret };
  /** Credentials cut out of configured clone URLs, keyed like `repositories`. */
  cloneCredentials?: Record<string, CloneCredentials>;
}

/** `fallbackUrl`: for a GitHub repository without cloneUrl, the payload's clone_url (or the trigger's guess). */
export function cloneSource(
  config: CloneSettings,
  repository: string,
  repo: RepositoryConfig | undefined,
  fallbackUrl: string | undefined,
): { cloneUrl?: string; token?: GitAuth } {
  // Credentials written in the configured cloneUrl were cut out at load; they go with that URL only.
  const want = repository.toLowerCase();
  const own = Object.entries(config.cloneCredentials ?? {}).find(([k]) => k.toLowerCase() === want)?.[1];
  if (own && repo?.cloneUrl) return { cloneUrl: repo.cloneUrl, token: { username: own.username, password: own.password } };
  const forge = forgeRepository(repository, config.forges);
  if (forge) {
    const cloneUrl = repo?.cloneUrl ?? forgeCloneUrl(forge);
    const credentials = sameHost(cloneUrl, forge.host) ? forgeGitCredentials(forge.forge) : undefined;
    return credentials ? { cloneUrl, token: credentials } : { cloneUrl };
  }
  const cloneUrl = repo?.cloneUrl ?? fallbackUrl;
  const token = config.github.token;
  if (!cloneUrl) return {};
  return token && cloneUrl.startsWith('https://github.com/') ? { cloneUrl, token } : { cloneUrl };
}
