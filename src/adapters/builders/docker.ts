import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../../core/errors.js';
import { inheritedEnv, run } from '../process.js';
import { isTransientPushFailure, type Builder, type BuildSpec, type PushTarget, type RunContext } from './builder.js';

// The docker engine at DOCKER_HOST, with the build's private DOCKER_CONFIG for logins.
// Registries on 127.0.0.0/8 are plain HTTP to the daemon by default; other insecure registries
// must be listed in the daemon's `insecure-registries`.

export function buildArgv(flag: string, values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([k, v]) => [flag, `${k}=${v}`]);
}

export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  readonly hookEnv: Record<string, string | undefined>;

  constructor(options: { dockerConfig: string }) {
    this.hookEnv = { DOCKER_CONFIG: options.dockerConfig };
  }

  #env(): Record<string, string | undefined> {
    return { ...inheritedEnv(['DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_BUILDKIT', 'DOCKER_CONTEXT']), ...this.hookEnv };
  }

  async build(spec: BuildSpec, ctx: RunContext): Promise<{ imageId: string }> {
    const iidFile = join(spec.workDir, 'docker.iid');
    await run('docker', [
      'build', '--iidfile', iidFile, '--file', spec.dockerfile,
      ...buildArgv('--build-arg', spec.buildArgs), ...buildArgv('--label', spec.labels),
      '--tag', spec.localName, spec.contextDir,
    ], { env: this.#env(), ...ctx, what: 'docker build', hint: 'the Dockerfile failed; see the last lines above' });
    return { imageId: (await readFile(iidFile, 'utf8')).trim() };
  }

  async imageId(name: string, ctx: RunContext): Promise<string> {
    const res = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', name], {
      env: this.#env(), ...ctx, onLine: undefined, what: `docker image inspect ${name}`,
      hint: 'a hooks/build must build the image named $IMAGE_NAME',
    });
    return res.stdout.trim();
  }

  async push(target: PushTarget, ctx: RunContext): Promise<{ digest: string }> {
    const env = this.#env();
    if (!target.tagged) await run('docker', ['tag', target.image, target.ref], { env, ...ctx, what: `docker tag ${target.ref}` });
    const res = await run('docker', ['push', target.ref], {
      env, ...ctx, what: `docker push ${target.ref}`, transient: isTransientPushFailure,
      hint: 'check the registry is reachable and the credentials under registries.<host> may push',
    });
    // The last line reads "<tag>: digest: sha256:... size: N".
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(res.lines.join('\n'))?.[1];
    if (!digest) throw new BuildError(`docker push ${target.ref} did not report a digest`, { tail: res.lines.slice(-20) });
    return { digest };
  }
}
