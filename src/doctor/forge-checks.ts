import type { Config } from '../core/config.js';
import { forgeRepository, type ForgeConfig } from '../core/forges.js';
import { forgeApiHeaders } from '../service/forge-api.js';
import type { CheckResult } from './doctor.js';

// `autobuild doctor`'s checks of the forges under `forges:`: each has the webhook secret its
// webhooks are verified with, and its token can read each of its configured repositories (the
// cheapest request that proves the token works there; nothing is written).

const TIMEOUT_MS = 5_000;

function repositoryPath(forge: ForgeConfig, path: string): string {
  const parts = path.split('/').map(encodeURIComponent).join('/');
  switch (forge.type) {
    case 'gitlab':
      return `/projects/${encodeURIComponent(path)}`;
    case 'bitbucket':
      return `/repositories/${parts}`;
    case 'gitea':
      return `/repos/${parts}`;
  }
}

async function checkRepository(name: string, host: string, forge: ForgeConfig, path: string): Promise<CheckResult> {
  const url = `${forge.apiUrl.replace(/\/+$/, '')}${repositoryPath(forge, path)}`;
  try {
    const res = await fetch(url, {
      headers: { ...forgeApiHeaders(forge), accept: 'application/json', 'user-agent': 'autobuild-doctor' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.ok) return { name, status: 'pass', message: `forges.${host}.token can read ${path}` };
    if (res.status === 401)
      return {
        name,
        status: 'fail',
        message: `${forge.type} refused forges.${host}.token (HTTP 401: bad or expired token)`,
        fix: `make a new token and put it in forges.${host}.token${forge.type === 'bitbucket' ? ' (an app password goes with its account in username)' : ''}`,
      };
    if (res.status === 403 || res.status === 404)
      return {
        name,
        status: 'fail',
        message: `forges.${host}.token cannot see ${path} (HTTP ${res.status})`,
        fix: `give the token read access to ${path} and the right to set commit statuses`,
      };
    return { name, status: 'fail', message: `${forge.type} answered HTTP ${res.status} for ${path}`, fix: `check forges.${host}.apiUrl and try again later` };
  } catch (err) {
    const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    return {
      name,
      status: 'fail',
      message: `cannot reach ${forge.type}'s API at ${forge.apiUrl}: ${reason}`,
      fix: `check forges.${host}.apiUrl and that this machine reaches it`,
    };
  }
}

export function checkForges(config: Config): Promise<CheckResult>[] {
  const out: Promise<CheckResult>[] = [];
  for (const [host, forge] of Object.entries(config.forges)) {
    out.push(
      Promise.resolve(
        forge.webhookSecret && !forge.webhookSecret.empty
          ? { name: `forge:${host}`, status: 'pass', message: `forges.${host}.webhookSecret is set (${forge.type} webhooks go to /webhooks/${forge.type})` }
          : {
              name: `forge:${host}`,
              status: 'fail',
              message: `forges.${host}.webhookSecret is not set: every ${forge.type} webhook will be refused with 401`,
              fix: `set forges.${host}.webhookSecret and the same secret on the ${forge.type} webhook`,
            },
      ),
    );
    const repositories = Object.keys(config.repositories).flatMap((key) => {
      const found = forgeRepository(key, { [host]: forge });
      return found ? [[key, found.path] as const] : [];
    });
    if (!forge.token || forge.token.empty) {
      out.push(
        Promise.resolve({
          name: `forge:${host}:token`,
          status: 'skip',
          message: `forges.${host}.token is not set: no commit statuses, and repositories are cloned without credentials`,
        }),
      );
      continue;
    }
    for (const [key, path] of repositories) out.push(checkRepository(`forge:${key}`, host, forge, path));
  }
  return out;
}
