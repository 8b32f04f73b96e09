import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../../core/errors.js';
import { manifestList, DOCKER_MANIFEST_LIST } from '../../core/image-index.js';
import { inheritedEnv, run } from '../process.js';
import type { RegistryClient } from '../registry-client.js';
import { buildArgPassing, isTransientPushFailure, type Builder, type BuildSpec, type BuiltImage, type PushTarget, type RunContext } from './builder.js';
import { pushImageByDigest } from './docker-archive.js';
import { detectDockerEngine, type DockerEngine } from './docker-engine.js';

// The docker engine at DOCKER_HOST, with the build's private DOCKER_CONFIG for logins.
// Registries on 127.0.0.0/8 are plain HTTP to the daemon by default; other insecure registries
// must be listed in the daemon's `insecure-registries`.
// BuildKit (buildx, or the client's built-in one) builds one platform at a time; several
// platforms are pushed by digest and tied into one index through the registry client, as
// `docker buildx imagetools create` does. The classic builder is the named fallback.

export function buildArgv(flag: string, values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([k, v]) => [flag, `${k}=${v}`]);
}

const ENGINE_ENV = ['DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_BUILDKIT', 'DOCKER_CONTEXT'];

/**
 * Starts finding out how the docker engine builds (detectDockerEngine caches it per process)
 * before the build's DockerBuilder exists, so the questions run beside the checkout and the
 * logins. `dockerConfig`: a directory with no login in it, as the build's own starts out.
 */
export function prepareDockerEngine(dockerConfig: string): void {
  detectDockerEngine({ ...inheritedEnv(ENGINE_ENV), DOCKER_CONFIG: dockerConfig }).catch(() => undefined);
}

export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  readonly hookEnv: Record<string, string | undefined>;
  readonly #registry: RegistryClient | undefined;

  constructor(options: { dockerConfig: string; registry?: RegistryClient }) {
    this.hookEnv = { DOCKER_CONFIG: options.dockerConfig };
    this.#registry = options.registry;
  }

  #env(): Record<string, string | undefined> {
    return { ...inheritedEnv(ENGINE_ENV), ...this.hookEnv };
  }

  engine(): Promise<DockerEngine> {
    return detectDockerEngine(this.#env());
  }

  async build(spec: BuildSpec, ctx: RunContext): Promise<BuiltImage> {
    const engine = await this.engine();
    ctx.onLine?.(engine.description);
    refuseWithoutBuildKit(engine, spec);
    const platforms = spec.platforms ?? [];
    if (platforms.length === 0) {
      return { imageId: await this.#buildOne(engine, spec, spec.localName, undefined, ctx), ...cacheRefs(engine, spec) };
    }
    const images: { platform: string; image: string }[] = [];
    let imageId = '';
    for (const platform of platforms) {
      // The first platform keeps the plain local name, so hooks' `docker run $IMAGE_NAME` work.
      const image = images.length === 0 ? spec.localName : `${spec.localName}-${platform.replaceAll('/', '-')}`;
      ctx.onLine?.(`docker: building ${platform}`);
      const id = await this.#buildOne(engine, spec, image, platform, ctx);
      imageId ||= id;
      images.push({ platform, image });
    }
    return { imageId, platforms: images, ...cacheRefs(engine, spec) };
  }

  async #buildOne(engine: DockerEngine, spec: BuildSpec, tag: string, platform: string | undefined, ctx: RunContext): Promise<string> {
    const iidFile = join(spec.workDir, `docker-${platform?.replaceAll('/', '-') ?? 'image'}.iid`);
    const buildKit = engine.mode !== 'classic';
    const inlineCache = buildKit && (spec.cacheTo ?? []).length > 0;
    const engineEnv = this.#env();
    const args = buildArgPassing(spec.buildArgs, engineEnv);
    const argv = [
      ...(engine.mode === 'buildx' ? ['buildx', 'build', '--load'] : ['build']),
      ...(buildKit ? ['--progress', 'plain'] : []),
      '--iidfile',
      iidFile,
      '--file',
      spec.dockerfile,
      ...args.argv,
      ...buildArgv('--label', spec.labels),
      // BuildKit keeps cache metadata in the image itself; the pipeline pushes it to the cache ref.
      ...(inlineCache ? ['--build-arg', 'BUILDKIT_INLINE_CACHE=1'] : []),
      ...(spec.cacheFrom ?? []).flatMap((c) => (c.ref ? ['--cache-from', c.ref] : [])),
      ...(platform ? ['--platform', platform] : []),
      ...(spec.target ? ['--target', spec.target] : []),
      ...(spec.pull ? ['--pull'] : []),
      ...(spec.noCache ? ['--no-cache'] : []),
      ...(spec.secrets ?? []).flatMap((s) => ['--secret', `id=${s.id},src=${s.file}`]),
      ...(engine.network && buildKit ? ['--network', engine.network] : []),
      '--tag',
      tag,
      spec.contextDir,
    ];
    await run(engine.binary, argv, {
      env: { ...args.env, ...engineEnv, ...(engine.mode === 'buildkit' ? { DOCKER_BUILDKIT: '1' } : {}) },
      ...ctx,
      what: `docker build${platform ? ` (${platform})` : ''}`,
      hint: 'the Dockerfile failed; see the last lines above',
    });
    return (await readFile(iidFile, 'utf8')).trim();
  }

  async imageId(name: string, ctx: RunContext): Promise<string> {
    const res = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name], {
      env: this.#env(),
      ...ctx,
      onLine: undefined,
      what: `docker image inspect ${name}`,
      hint: 'a hooks/build must build the image named $IMAGE_NAME',
    });
    return res.stdout.trim();
  }

  /**
   * `docker push` sends whatever image the name points at when it runs. Another build on the same
   * engine (an older push of the same branch) may point the name at its own image at any moment,
   * so the name is pointed at this build's image id right before each push, and the push counts
   * only when docker then lists the digest among this image's own repo digests; otherwise it is
   * done again, a few times, and then fails rather than publish another build's image.
   */
  async push(target: PushTarget, ctx: RunContext): Promise<{ digest: string }> {
    if (target.platforms) return this.#pushIndex(target, ctx);
    const env = this.#env();
    const repository = target.ref.slice(0, target.ref.lastIndexOf(':'));
    for (let attempt = 1; ; attempt++) {
      await run('docker', ['tag', target.image, target.ref], { env, ...ctx, what: `docker tag ${target.ref}` });
      const res = await run('docker', ['push', target.ref], {
        env,
        ...ctx,
        what: `docker push ${target.ref}`,
        transient: isTransientPushFailure,
        hint: 'check the registry is reachable and the credentials under registries.<host> may push',
      });
      // The last line reads "<tag>: digest: sha256:... size: N".
      const digest = /digest: (sha256:[0-9a-f]{64})/.exec(res.lines.join('\n'))?.[1];
      if (!digest) throw new BuildError(`docker push ${target.ref} did not report a digest`, { tail: res.lines.slice(-20) });
      const own = await run('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', target.image], {
        env,
        ...ctx,
        onLine: undefined,
        what: `docker image inspect ${target.image}`,
      });
      if ((JSON.parse(own.stdout.trim() || '[]') as string[]).includes(`${repository}@${digest}`)) return { digest };
      ctx.onLine?.(`${target.ref} was pointed at another image while it was pushed (another build on this engine); pushing this build's image again`);
      if (attempt >= 3) {
        throw new BuildError(`docker pushed another image than this build's under ${target.ref}`, {
          hint: 'another build on the same engine kept retagging it; run builds of one image one at a time',
          transient: true,
        });
      }
    }
  }

  /** Each platform's image by digest, then the index under the ref. */
  async #pushIndex(target: PushTarget, ctx: RunContext): Promise<{ digest: string }> {
    const registry = this.#registry;
    if (!registry) throw new Error('DockerBuilder needs a registry client to push an image index');
    const destination = target.ref.slice(0, target.ref.lastIndexOf(':'));
    const children = [];
    for (const p of target.platforms ?? []) {
      const child = await pushImageByDigest({ image: p.image, destination, workDir: target.workDir, registry, env: this.#env(), ctx });
      ctx.onLine?.(`pushed ${p.platform} image ${destination}@${child.digest}`);
      children.push(child);
    }
    const digest = await registry.putManifest(target.ref, manifestList(children), DOCKER_MANIFEST_LIST);
    return { digest };
  }
}

/** What only BuildKit does, refused with one line when the engine has only the classic builder. */
function refuseWithoutBuildKit(engine: DockerEngine, spec: BuildSpec): void {
  if (engine.mode !== 'classic') return;
  const needs = [(spec.platforms?.length ?? 0) > 0 ? 'platforms' : '', (spec.secrets?.length ?? 0) > 0 ? 'build secrets' : ''].filter(Boolean);
  if (needs.length > 0) {
    throw new BuildError(`${needs.join(' and ')} need BuildKit, and ${engine.description.replace(/^docker: /, '')}`, {
      tail: ["use builder: buildah, or give the docker engine a client with BuildKit (the buildx plugin, or Debian's docker.io 20.10 client)"],
    });
  }
}

function cacheRefs(engine: DockerEngine, spec: BuildSpec): Pick<BuiltImage, 'cacheRefs'> {
  if (engine.mode === 'classic') return {};
  const refs = (spec.cacheTo ?? []).flatMap((c) => (c.ref ? [c.ref] : []));
  return refs.length > 0 ? { cacheRefs: refs } : {};
}
