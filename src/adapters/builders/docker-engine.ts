import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { run } from '../process.js';

// Which way of building the docker engine offers here, found out rather than assumed. A `docker`
// client 23+ builds with BuildKit only through the buildx plugin; older clients (Debian's 20.10)
// have BuildKit built in behind DOCKER_BUILDKIT=1. So every `docker` on PATH is asked, in PATH
// order: one with buildx wins, then one with built-in BuildKit, else the classic builder.

type DockerBuildMode = 'buildx' | 'buildkit' | 'classic';

export interface DockerEngine {
  /** The client to build with (an absolute path when found on PATH). */
  binary: string;
  mode: DockerBuildMode;
  /** `host` when the daemon has no bridge network (dockerd --bridge=none): RUN steps need one. */
  network?: 'host';
  /** One line for the build log: what builds and why. */
  description: string;
}

const detected = new Map<string, Promise<DockerEngine>>();

/** Detected once per PATH and DOCKER_HOST for the life of the process. */
export function detectDockerEngine(env: Record<string, string | undefined>): Promise<DockerEngine> {
  const key = `${env.PATH ?? ''}\n${env.DOCKER_HOST ?? ''}\n${env.DOCKER_CONTEXT ?? ''}`;
  let found = detected.get(key);
  if (!found) {
    found = detect(env);
    detected.set(key, found);
    found.catch(() => detected.delete(key));
  }
  return found;
}

async function detect(env: Record<string, string | undefined>): Promise<DockerEngine> {
  const clients = await dockerClients(env.PATH ?? '');
  const ok = async (binary: string, args: string[], extra: Record<string, string> = {}) => {
    try {
      await run(binary, args, { env: { ...env, ...extra } });
      return true;
    } catch {
      return false;
    }
  };
  // Every question at once: each is a client start-up (tens of ms), paid by every `autobuild build`.
  const [bridge, buildx, builtIn] = await Promise.all([
    ok(clients[0] ?? 'docker', ['network', 'inspect', 'bridge']),
    Promise.all(clients.map((binary) => ok(binary, ['buildx', 'version']))),
    Promise.all(clients.map((binary) => ok(binary, ['build', '--help'], { DOCKER_BUILDKIT: '1' }))),
  ]);
  const network = bridge ? undefined : ('host' as const);
  const withNetwork = network ? { network } : {};
  const withBuildx = clients.find((_, i) => buildx[i]);
  if (withBuildx) return { binary: withBuildx, mode: 'buildx', ...withNetwork, description: `docker: BuildKit through buildx (${withBuildx})` };
  const withBuiltIn = clients.find((_, i) => builtIn[i]);
  if (withBuiltIn) {
    return { binary: withBuiltIn, mode: 'buildkit', ...withNetwork, description: `docker: BuildKit built into ${withBuiltIn} (DOCKER_BUILDKIT=1)` };
  }
  const binary = clients[0] ?? 'docker';
  return {
    binary,
    mode: 'classic',
    ...withNetwork,
    description: `docker: classic builder — no docker client here has buildx or built-in BuildKit (${clients.join(', ') || 'none on PATH'}); install the buildx plugin for BuildKit`,
  };
}

/** Every executable `docker` along PATH, first first, the same file only once. */
async function dockerClients(path: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const file = join(dir, 'docker');
    try {
      await access(file, constants.X_OK);
      const real = await realpath(file);
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(file);
    } catch {
      // not here
    }
  }
  return out;
}
