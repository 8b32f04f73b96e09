import { BuildError, TestsFailedError } from '../core/errors.js';
import type { AutotestDecision } from '../core/autotest.js';
import { findTestFiles, runAutotest } from '../adapters/autotest.js';
import { BuildahBuilder } from '../adapters/builders/buildah.js';
import type { Builder, RunContext } from '../adapters/builders/builder.js';
import { dockerCompose, dockerEngineAnswers, type ComposeTool } from '../adapters/compose.js';
import { findHook, type HookContext, type HookName } from '../adapters/hooks.js';
import { inheritedEnv, run } from '../adapters/process.js';

// The pipeline's test phase, between the build and any push: Docker Hub's hooks/pre_test, then
// hooks/test or else every `*.test.yml`'s sut, then hooks/post_test. A failure here is a
// TestsFailedError, so nothing is pushed and the commit status reads "tests failed".

export interface TestStepOptions {
  decision: AutotestDecision;
  builder: Builder;
  /** The built image: its id, and its local name (IMAGE_NAME). */
  image: { id: string; name: string };
  /** How many platforms were built: the tests run one image, so only a single-platform build. */
  platforms: number;
  contextDir: string;
  dockerfile: string;
  dockerfileDir: string;
  hooks: HookContext;
  /** Runs a hook when the build may run hooks at all (trusted); returns whether it ran. */
  runHook: (name: HookName) => Promise<boolean>;
  /** An untrusted build's test files may not reach into the host (core/compose-policy.ts). */
  trusted: boolean;
  /** The checkout (or the directory built). */
  root: string;
  workDir: string;
  ctx: RunContext;
  /** Runs a named step with the log's started/finished events. */
  step: <T>(name: 'test' | `hook:${string}`, fn: () => Promise<T>, quietWhenFalse?: boolean) => Promise<T>;
}

export async function testStep(opts: TestStepOptions): Promise<void> {
  const files = await findTestFiles(opts.dockerfileDir);
  const testHook = opts.trusted ? await findHook(opts.dockerfileDir, 'test') : undefined;
  if (files.length === 0 && !testHook) return;
  if (!opts.decision.run) {
    opts.ctx.onLine?.(`autotest: ${opts.decision.reason}`);
    return;
  }
  const hook = (name: 'pre_test' | 'post_test') => opts.step(`hook:${name}`, () => opts.runHook(name), true);
  await hook('pre_test');
  await opts.step('test', async () => {
    if (testHook) {
      try {
        await opts.runHook('test');
      } catch (err) {
        if (opts.ctx.signal?.aborted || !(err instanceof BuildError)) throw err;
        throw new TestsFailedError(`tests failed: ${err.message}`, { tail: err.tail, cause: err });
      }
      return;
    }
    if (opts.platforms > 1) {
      throw new BuildError(
        `autotest: the *.test.yml files test one image, but this build made ${opts.platforms} platforms — build one platform where tests run, or skip the tests (autotest, --no-test, test: false)`,
      );
    }
    const engine = await testEngine(opts);
    try {
      await runAutotest({
        files,
        compose: engine.compose,
        contextDir: opts.contextDir,
        dockerfile: opts.dockerfile,
        image: engine.image,
        env: { ...inheritedEnv(['DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'DOCKER_CONTEXT']), ...opts.hooks.env, ...opts.hooks.variables },
        secrets: opts.ctx.secrets,
        signal: opts.ctx.signal,
        onLine: opts.ctx.onLine,
        ...(opts.trusted ? {} : { untrustedRoot: opts.root }),
      });
    } finally {
      await engine.dispose();
    }
  });
  await hook('post_test');
}

/**
 * The compose tool that can run the built image: docker's with the docker builder; with buildah
 * the docker engine at DOCKER_HOST, the image copied into it for the test.
 */
async function testEngine(opts: TestStepOptions): Promise<{ compose: ComposeTool; image: { id: string; name: string }; dispose: () => Promise<void> }> {
  const env = { ...inheritedEnv(), ...opts.hooks.env };
  const none = async () => {};
  if (!(opts.builder instanceof BuildahBuilder)) {
    const compose = await dockerCompose(env);
    if (!compose) {
      throw new BuildError(
        'autotest: this build has *.test.yml files but neither `docker compose` nor `docker-compose` is installed — install Docker Compose on the worker, or skip the tests (autotest, --no-test, test: false)',
      );
    }
    return { compose, image: opts.image, dispose: none };
  }
  const docker = (await dockerEngineAnswers(env)) ? await dockerCompose(env) : undefined;
  if (docker) {
    await opts.builder.copyToDocker(opts.image.id, opts.image.name, opts.workDir, opts.ctx);
    // In the docker engine the copy has an id of its own; its name is the same.
    const image = { id: opts.image.name, name: opts.image.name };
    // The copy is the tests', not the build's result: it leaves the engine with them.
    const dispose = () =>
      run('docker', ['rmi', image.name], { env, signal: AbortSignal.timeout(60_000) }).then(
        () => undefined,
        () => undefined,
      );
    return { compose: docker, image, dispose };
  }
  throw new BuildError(
    'autotest: builder buildah cannot run the *.test.yml files: no docker engine with Docker Compose answers at DOCKER_HOST — start a docker engine (set DOCKER_HOST) and install Docker Compose on the worker, or skip the tests (autotest, --no-test, test: false)',
  );
}
