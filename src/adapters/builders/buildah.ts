import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheSpec } from '../../core/build-settings.js';
import { BuildError } from '../../core/errors.js';
import { parseReference } from '../../core/references.js';
import { inheritedEnv, run } from '../process.js';
import { runInOwnPidNamespace } from '../sandbox.js';
import { buildArgPassing, isTransientPushFailure, type Builder, type BuildSpec, type BuiltImage, type PushTarget, type RunContext } from './builder.js';
import { buildArgv } from './docker.js';

// buildah needs no daemon: vfs storage and chroot isolation work as root in a plain container
// or CI box. Logins come from the build's auth file; insecure registries get --tls-verify=false.
// Several platforms build into one local manifest list, pushed once with `manifest push --all`.

const GLOBAL = ['--storage-driver', 'vfs'];

export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;
  readonly hookEnv: Record<string, string | undefined>;
  readonly #authFile: string;
  #registriesConf: string | undefined;

  constructor(options: { authFile: string; dockerConfig: string }) {
    this.#authFile = options.authFile;
    this.hookEnv = { DOCKER_CONFIG: options.dockerConfig, REGISTRY_AUTH_FILE: options.authFile };
  }

  #env(): Record<string, string | undefined> {
    // CONTAINERS_STORAGE_CONF lets an operator (or a test) keep buildah's images elsewhere.
    const env = inheritedEnv(['CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF', 'REGISTRIES_CONFIG_PATH', 'BUILDAH_ISOLATION']);
    return this.#registriesConf ? { ...env, CONTAINERS_REGISTRIES_CONF: this.#registriesConf } : env;
  }

  async build(spec: BuildSpec, ctx: RunContext): Promise<BuiltImage> {
    this.#registriesConf = spec.registriesConf;
    const iidFile = join(spec.workDir, 'buildah.iid');
    const platforms = spec.platforms ?? [];
    if (platforms.length > 0) {
      // --manifest adds to a list of that name if one is left over; start from an empty one.
      await run('buildah', [...GLOBAL, 'manifest', 'rm', spec.localName], { env: this.#env(), ...ctx, onLine: undefined }).catch(() => undefined);
    }
    const engineEnv = this.#env();
    const args = buildArgPassing(spec.buildArgs, engineEnv);
    // The Dockerfile's RUN steps run on this host under chroot isolation: not in our PID namespace.
    const built = await runInOwnPidNamespace(
      'buildah',
      [
        ...GLOBAL,
        'bud',
        '--isolation',
        'chroot',
        ...(layers(spec) ? ['--layers'] : []),
        '--authfile',
        this.#authFile,
        // With several platforms there is no single image id to write; it is read from the output.
        ...(platforms.length > 0 ? [] : ['--iidfile', iidFile]),
        '--file',
        spec.dockerfile,
        ...args.argv,
        ...buildArgv('--label', spec.labels),
        ...(spec.target ? ['--target', spec.target] : []),
        ...(spec.pull ? ['--pull=always'] : []),
        ...(spec.noCache ? ['--no-cache'] : []),
        ...cacheArgv('--cache-from', spec.cacheFrom),
        ...cacheArgv('--cache-to', spec.cacheTo),
        ...(spec.secrets ?? []).flatMap((s) => ['--secret', `id=${s.id},src=${s.file}`]),
        ...(platforms.length > 0 ? ['--platform', platforms.join(','), '--manifest', spec.localName] : ['--tag', spec.localName]),
        spec.contextDir,
      ],
      { env: { ...args.env, ...engineEnv }, ...ctx, what: 'buildah bud', hint: 'the Dockerfile failed; see the last lines above' },
    );
    if (platforms.length === 0) return { imageId: withAlgorithm((await readFile(iidFile, 'utf8')).trim()) };
    // No iidfile with several platforms: buildah prints each image's id as it commits it; the
    // last one stands for the build (as docker's first platform does).
    const ids = built.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[0-9a-f]{64}$/.test(l));
    if (ids.length === 0) throw new BuildError('buildah bud printed no image id', { tail: built.lines.slice(-10) });
    const imageId = withAlgorithm(ids.at(-1)!);
    return { imageId, platforms: platforms.map((platform) => ({ platform, image: spec.localName })) };
  }

  async imageId(name: string, ctx: RunContext): Promise<string> {
    const res = await run('buildah', [...GLOBAL, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', name], {
      env: this.#env(),
      ...ctx,
      onLine: undefined,
      what: `buildah inspect ${name}`,
      hint: 'a hooks/build must build the image named $IMAGE_NAME',
    });
    return withAlgorithm(res.stdout.trim());
  }

  /**
   * Copies the built image into the docker engine at DOCKER_HOST under `name`, so Autotest can
   * run it with docker compose (through an archive: it needs no access to the engine's socket).
   */
  async copyToDocker(image: string, name: string, workDir: string, ctx: RunContext): Promise<void> {
    const archive = join(workDir, 'autotest-image.tar');
    try {
      await run('buildah', [...GLOBAL, 'push', image, `docker-archive:${archive}:${name}`], {
        env: this.#env(),
        ...ctx,
        what: `buildah push ${name} to an archive for the tests`,
      });
      await run('docker', ['load', '--input', archive], {
        env: inheritedEnv(['DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_CONTEXT']),
        ...ctx,
        what: `docker load ${name} for the tests`,
      });
    } finally {
      await rm(archive, { force: true });
    }
  }

  async push(target: PushTarget, ctx: RunContext): Promise<{ digest: string }> {
    const digestFile = join(target.workDir, 'buildah.digest');
    const command = target.platforms ? ['manifest', 'push', '--all'] : ['push'];
    await writeFile(digestFile, '');
    const res = await run(
      'buildah',
      [
        ...GLOBAL,
        ...command,
        '--authfile',
        this.#authFile,
        ...(target.insecure ? ['--tls-verify=false'] : []),
        '--digestfile',
        digestFile,
        target.image,
        `docker://${target.ref}`,
      ],
      {
        env: this.#env(),
        ...ctx,
        what: `buildah ${command.join(' ')} ${target.ref}`,
        transient: isTransientPushFailure,
        hint: 'check the registry is reachable and the credentials under registries.<host> may push',
      },
    );
    const digest = (await readFile(digestFile, 'utf8')).trim();
    // `manifest push` can end with status 0 but no digest when the registry failed the last
    // upload (buildah 1.28); that is a failed push worth trying again.
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new BuildError(`buildah ${command.join(' ')} ${target.ref} wrote no digest`, { tail: res.lines.slice(-20), transient: true });
    return { digest };
  }
}

/**
 * buildah before 1.29 keys its layer cache without the platform: a step whose parent is the same
 * for every platform (anything `FROM scratch`) is taken from another platform's cache, and the
 * index ends up with one platform. So multi-platform builds keep no local layer cache unless a
 * registry cache is asked for (which needs it).
 */
function layers(spec: BuildSpec): boolean {
  if ((spec.platforms ?? []).length === 0) return true;
  return (spec.cacheFrom ?? []).length > 0 || (spec.cacheTo ?? []).length > 0;
}

/**
 * buildah keeps its layer cache as images in a repository, one tag per cache key, so a cache
 * ref's tag names a repository of its own (`app:buildcache` -> `app-buildcache`) instead of
 * filling the image's repository with hash tags.
 */
function buildahCacheRepository(ref: string): string {
  const r = parseReference(ref);
  return r.tag ? `${r.name}-${r.tag}` : r.name;
}

function cacheArgv(flag: string, specs: CacheSpec[] | undefined): string[] {
  return (specs ?? []).flatMap((c) => (c.ref ? [flag, buildahCacheRepository(c.ref)] : []));
}

function withAlgorithm(id: string): string {
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}
