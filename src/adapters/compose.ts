import { run } from './process.js';

// Which Compose this machine has, and how to call it: the `docker compose` v2 plugin when the
// docker client has it, the standalone `docker-compose` (v1, as Debian ships 1.29) otherwise.
// (podman-compose is not used: podman could not start containers on the machines this was
// built on, so that path could not be tested.)

export interface ComposeTool {
  /** argv before the compose arguments: ['docker', 'compose'] or ['docker-compose']. */
  argv: string[];
  /** How compose names the image of a service with `build:` and no `image:`. */
  serviceImages(project: string, service: string): string[];
  /** The engine the compose tool drives (its CLI tags and removes images). */
  engine: 'docker';
}

const DOCKER_V2: ComposeTool = {
  argv: ['docker', 'compose'],
  // v2 names it <project>-<service>; early v2 releases kept v1's underscore.
  serviceImages: (p, s) => [`${p}-${s}`, `${p}_${s}`],
  engine: 'docker',
};
const DOCKER_V1: ComposeTool = { argv: ['docker-compose'], serviceImages: (p, s) => [`${p}_${s}`], engine: 'docker' };

async function works(file: string, args: string[], env: Record<string, string | undefined>): Promise<boolean> {
  try {
    await run(file, args, { env, signal: AbortSignal.timeout(30_000) });
    return true;
  } catch {
    return false;
  }
}

/** The compose tool for a docker engine, or undefined when neither v2 nor v1 is installed. */
export async function dockerCompose(env: Record<string, string | undefined>): Promise<ComposeTool | undefined> {
  if (await works('docker', ['compose', 'version'], env)) return DOCKER_V2;
  if (await works('docker-compose', ['version'], env)) return DOCKER_V1;
  return undefined;
}

/** Whether the docker engine at DOCKER_HOST answers. */
export async function dockerEngineAnswers(env: Record<string, string | undefined>): Promise<boolean> {
  return works('docker', ['info', '--format', '{{.ServerVersion}}'], env);
}
