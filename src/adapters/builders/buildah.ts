import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../../core/errors.js';
import { inheritedEnv, run } from '../process.js';
import { runInOwnPidNamespace } from '../sandbox.js';
import { isTransientPushFailure, type Builder, type BuildSpec, type PushTarget, type RunContext } from './builder.js';
import { buildArgv } from './docker.js';

// buildah needs no daemon: vfs storage and chroot isolation work as root in a plain container
// or CI box. Logins come from the build's auth file; insecure registries get --tls-verify=false.

const GLOBAL = ['--storage-driver', 'vfs'];

export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;
  readonly hookEnv: Record<string, string | undefined>;
  readonly #authFile: string;

  constructor(options: { authFile: string; dockerConfig: string }) {
    this.#authFile = options.authFile;
    this.hookEnv = { DOCKER_CONFIG: options.dockerConfig, REGISTRY_AUTH_FILE: options.authFile };
  }

  #env(): Record<string, string | undefined> {
    // CONTAINERS_STORAGE_CONF lets an operator (or a test) keep buildah's images elsewhere.
    return inheritedEnv(['CONTAINERS_STORAGE_CONF', 'REGISTRIES_CONFIG_PATH', 'BUILDAH_ISOLATION']);
  }

  async build(spec: BuildSpec, ctx: RunContext): Promise<{ imageId: string }> {
    const iidFile = join(spec.workDir, 'buildah.iid');
    // The Dockerfile's RUN steps run on this host under chroot isolation: not in our PID namespace.
    await runInOwnPidNamespace('buildah', [
      ...GLOBAL, 'bud', '--isolation', 'chroot', '--layers', '--iidfile', iidFile, '--file', spec.dockerfile,
      ...buildArgv('--build-arg', spec.buildArgs), ...buildArgv('--label', spec.labels),
      '--tag', spec.localName, spec.contextDir,
    ], { env: this.#env(), ...ctx, what: 'buildah bud', hint: 'the Dockerfile failed; see the last lines above' });
    return { imageId: withAlgorithm((await readFile(iidFile, 'utf8')).trim()) };
  }

  async imageId(name: string, ctx: RunContext): Promise<string> {
    const res = await run('buildah', [...GLOBAL, 'inspect', '--type', 'image', '--format', '{{.FromImageID}}', name], {
      env: this.#env(), ...ctx, onLine: undefined, what: `buildah inspect ${name}`,
      hint: 'a hooks/build must build the image named $IMAGE_NAME',
    });
    return withAlgorithm(res.stdout.trim());
  }

  async push(target: PushTarget, ctx: RunContext): Promise<{ digest: string }> {
    const digestFile = join(target.workDir, 'buildah.digest');
    await run('buildah', [
      ...GLOBAL, 'push', '--authfile', this.#authFile, ...(target.insecure ? ['--tls-verify=false'] : []),
      '--digestfile', digestFile, target.image, `docker://${target.ref}`,
    ], {
      env: this.#env(), ...ctx, what: `buildah push ${target.ref}`, transient: isTransientPushFailure,
      hint: 'check the registry is reachable and the credentials under registries.<host> may push',
    });
    const digest = (await readFile(digestFile, 'utf8')).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new BuildError(`buildah push ${target.ref} wrote no digest`);
    return { digest };
  }
}

function withAlgorithm(id: string): string {
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}
