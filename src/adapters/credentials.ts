import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from '../core/secret.js';
import { isLoopbackDomain, parseImageName } from '../core/references.js';
import { inheritedEnv, run } from './process.js';
import { authFor, isInsecureRegistry, type RegistryAuth } from './registry-client.js';

// Registry logins live in a directory private to one build, never in the user's ~/.docker, so
// builds with different credentials cannot see each other's and nothing is left behind.
// We log in with `docker login --password-stdin` / `buildah login --password-stdin` rather than
// writing config.json ourselves: the tool checks the credentials before the build starts (a
// wrong password fails in a second, not after a ten-minute build) and the file format stays
// the tool's business. The password only ever travels on stdin.

export type BuilderName = 'docker' | 'buildah';

/** Docker Hub's credentials are stored under this key by every docker client. */
const DOCKER_HUB_LOGIN = 'https://index.docker.io/v1/';

export interface BuildCredentials {
  /** DOCKER_CONFIG for docker and hooks. */
  dockerConfig: string;
  /** `--authfile` for buildah (the docker config.json works there too). */
  authFile: string;
  /** Deletes the directory unless the caller owns it. */
  dispose(): Promise<void>;
}

function loginHost(host: string): string {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host) ? DOCKER_HUB_LOGIN : host;
}

/** Logs in to one registry, storing the credentials in `dir` (a DOCKER_CONFIG directory). */
export async function loginRegistry(
  dir: string,
  host: string,
  username: string,
  password: Secret,
  builder: BuilderName,
  options: { insecure?: boolean; signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const common = {
    input: password,
    signal: options.signal,
    onLine: options.onLine,
    what: `log in to ${host} as ${username}`,
    hint: `check registries.${host}.username and registries.${host}.password`,
    transient: (tail: string[]) => /timeout|connection refused|no such host|\b5\d\d\b|EOF/i.test(tail.join('\n')),
  };
  if (builder === 'docker') {
    await run('docker', ['login', loginHost(host), '--username', username, '--password-stdin'], {
      ...common,
      env: { ...inheritedEnv(), DOCKER_CONFIG: dir },
    });
    return;
  }
  // buildah reads and writes the same config.json format docker does.
  const insecure = (options.insecure ?? isLoopbackDomain(host)) ? ['--tls-verify=false'] : [];
  await run('buildah', ['login', '--authfile', join(dir, 'config.json'), ...insecure, '--username', username, '--password-stdin', loginHost(host)], {
    ...common,
    env: inheritedEnv(['CONTAINERS_STORAGE_CONF', 'REGISTRIES_CONFIG_PATH']),
  });
}

/**
 * The credentials for one build: logged in to every registry among `images` that has a username
 * and password configured. With `existing` (a DOCKER_CONFIG the caller already logged in, as the
 * GitHub Action does), that directory is used as is and left in place.
 */
export async function prepareCredentials(options: {
  workRoot: string;
  images: string[];
  registries: Record<string, RegistryAuth>;
  builder: BuilderName;
  existing?: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}): Promise<BuildCredentials> {
  if (options.existing) {
    return { dockerConfig: options.existing, authFile: join(options.existing, 'config.json'), dispose: async () => {} };
  }
  const dir = join(options.workRoot, 'docker-config');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // An explicit empty config: no credential helper from the machine's defaults gets involved.
  await writeFile(join(dir, 'config.json'), '{"auths":{}}\n', { mode: 0o600 });
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const hosts = new Set(options.images.map((i) => parseImageName(i).domain));
    for (const host of hosts) {
      const auth = authFor(options.registries, host);
      if (!auth.username || !auth.password || auth.password.empty) continue;
      await loginRegistry(dir, host, auth.username, auth.password, options.builder, {
        insecure: isInsecureRegistry(options.registries, host),
        signal: options.signal,
        onLine: options.onLine,
      });
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { dockerConfig: dir, authFile: join(dir, 'config.json'), dispose };
}
