import type { CacheSpec } from '../../core/build-settings.js';
import { BuildError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';

// One interface over the engines that build and push images, so the pipeline reads the same
// for docker and buildah: build once, then push the one image under each reference.

export interface BuildSpec {
  contextDir: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** Local name given to the built image (Docker Hub's IMAGE_NAME). */
  localName: string;
  /** Private temp space of this build (iid and digest files). */
  workDir: string;
  /** Set (even with one entry): build one image per platform for one image index. */
  platforms?: string[];
  target?: string;
  pull?: boolean;
  noCache?: boolean;
  cacheFrom?: CacheSpec[];
  cacheTo?: CacheSpec[];
  /** Build secrets, each in a private file (mode 0600) the pipeline writes and removes. */
  secrets?: { id: string; file: string }[];
  /** A registries.conf for buildah's pulls (mirrors, plain-HTTP hosts); docker ignores it. */
  registriesConf?: string;
}

export interface BuiltImage {
  /** The image id (`sha256:...`); for several platforms, the first platform's. */
  imageId: string;
  /** One local image per platform (docker), or the local manifest list's platforms (buildah). */
  platforms?: { platform: string; image: string }[];
  /** Registry refs the pipeline pushes the built image to as a cache (docker's inline cache). */
  cacheRefs?: string[];
}

export interface PushTarget {
  /** Local image (id or name) to push. */
  image: string;
  /** Full destination reference `domain/path:tag`. */
  ref: string;
  /** Plain HTTP / no TLS verification (loopback or `insecure: true`). */
  insecure: boolean;
  workDir: string;
  /** Push an image index of these platform images (`image` is then the local list name). */
  platforms?: { platform: string; image: string }[];
}

export interface RunContext {
  secrets: Iterable<Secret | string | undefined>;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

export interface Builder {
  readonly name: 'docker' | 'buildah';
  /** Environment for hooks so `docker build`/`docker push` in them use the same engine and logins. */
  readonly hookEnv: Record<string, string | undefined>;
  /** Builds the image once (once per platform); returns its id (`sha256:...`). */
  build(spec: BuildSpec, ctx: RunContext): Promise<BuiltImage>;
  /** The id of a local image, e.g. the one a `hooks/build` produced. */
  imageId(name: string, ctx: RunContext): Promise<string>;
  /** Pushes one reference; returns the manifest digest the registry stored. */
  push(target: PushTarget, ctx: RunContext): Promise<{ digest: string }>;
}

/** Whether a failed push's output looks like something that may pass when tried again. */
export function isTransientPushFailure(tail: string[]): boolean {
  const text = tail.join('\n');
  if (/unauthorized|denied|authentication required|forbidden|\b40[13]\b/i.test(text)) return false;
  return /\b50[0-9]\b|service unavailable|bad gateway|gateway timeout|timeout|timed out|connection (refused|reset)|EOF|no such host|TLS handshake/i.test(text);
}

/**
 * Build args reach the engine as `--build-arg NAME` with the value in the child's environment
 * (docker and buildah both read it from there), so a value never shows in argv, `ps` or the
 * command line quoted in an error. A name the engine itself reads from its environment (PATH,
 * DOCKER_CONFIG, ...) cannot travel that way and is refused rather than put on the command line.
 */
export function buildArgPassing(args: Record<string, string>, engineEnv: Record<string, string | undefined>): { argv: string[]; env: Record<string, string> } {
  const argv: string[] = [];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) {
    if (Object.hasOwn(engineEnv, name) && engineEnv[name] !== value) {
      throw new BuildError(`build arg ${name} has the name of a variable the build engine itself uses — rename it in buildArgs (and in the Dockerfile's ARG)`);
    }
    argv.push('--build-arg', name);
    env[name] = value;
  }
  return { argv, env };
}
