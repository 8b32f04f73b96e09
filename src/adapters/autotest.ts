import { randomBytes } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { untrustedComposeProblems } from '../core/compose-policy.js';
import { BuildError, TestsFailedError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import type { ComposeTool } from './compose.js';
import { run } from './process.js';

// Docker Hub's Autotest (https://docs.docker.com/docker-hub/repos/manage/builds/automated-testing/):
// `docker-compose.test.yml` and any other `*.test.yml` next to the Dockerfile each define a
// service `sut`; its exit code decides. Each file runs as a compose project of its own, named
// uniquely for this build, and is always torn down (`down -v`), also after a cancel or timeout.
// The image under test is the one just built: a service whose `build:` is the build's own
// context and Dockerfile finds that image already under the name compose gives it, so compose
// starts it instead of building it again. Other `build:` services are built by compose.

/** sut lines kept for the end of the log when a test fails. */
const FAILURE_LINES = 60;
/** Tearing down must not hang a worker forever, and must run even when the build was aborted. */
const DOWN_TIMEOUT_MS = 120_000;

/** `docker-compose.test.yml` first, then every other `*.test.yml` in name order. */
export async function findTestFiles(dockerfileDir: string): Promise<string[]> {
  const names = await readdir(dockerfileDir).catch(() => [] as string[]);
  const tests = names
    .filter((n) => n.endsWith('.test.yml'))
    .sort((a, b) => {
      if (a === 'docker-compose.test.yml') return -1;
      if (b === 'docker-compose.test.yml') return 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
  return tests.map((n) => join(dockerfileDir, n));
}

export interface AutotestOptions {
  files: string[];
  compose: ComposeTool;
  /** The build's context and Dockerfile: `build:` services naming them get the built image. */
  contextDir: string;
  dockerfile: string;
  /** The just-built image in the compose tool's engine: its id, and IMAGE_NAME. */
  image: { id: string; name: string };
  /** DOCKER_HOST, DOCKER_CONFIG, Docker Hub's variables and the build's `env`. */
  env: Record<string, string | undefined>;
  secrets: Iterable<Secret | string | undefined>;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
  /** Set for untrusted code (a fork's pull request): the checkout, which no path may leave. */
  untrustedRoot?: string;
}

/** A unique compose project name (compose v1 and v2 both accept [a-z0-9_-]). */
function projectName(): string {
  return `autobuild_${randomBytes(6).toString('hex')}`;
}

/** Runs every test file; throws TestsFailedError naming the first whose sut failed. */
export async function runAutotest(opts: AutotestOptions): Promise<void> {
  for (const file of opts.files) await runTestFile(file, opts);
}

async function runTestFile(file: string, opts: AutotestOptions): Promise<void> {
  const name = basename(file);
  const project = projectName();
  const { doc, services } = await readServices(file);
  if (opts.untrustedRoot !== undefined) {
    const problems = untrustedComposeProblems(doc, name, await canonical(resolve(file, '..')), await canonical(opts.untrustedRoot));
    if (problems.length > 0) {
      throw new BuildError(
        `${problems[0]} — a fork's pull request is tested without access to the host; remove it from the test file, or test forks with autotest: internal (not at all)`,
        { tail: problems },
      );
    }
  }
  if (!services.has('sut')) {
    throw new TestsFailedError(`${name} has no service named sut`, { tail: [`add a service "sut" to ${name}: its exit code decides whether the tests pass`] });
  }
  const compose = (args: string[]) => [...opts.compose.argv.slice(1), '-p', project, '-f', file, ...args];
  const [tool] = opts.compose.argv as [string];
  const common = { env: opts.env, cwd: resolve(file, '..'), secrets: opts.secrets };
  const created: string[] = [];
  const sutLines: string[] = [];
  try {
    created.push(...(await offerBuiltImage(services, file, project, opts)));
    opts.onLine?.(`autotest: ${name}: running service sut (project ${project})`);
    await run(tool, compose(['run', '--rm', '-T', 'sut']), {
      ...common,
      signal: opts.signal,
      onLine: (line) => {
        sutLines.push(line);
        if (sutLines.length > FAILURE_LINES) sutLines.shift();
        opts.onLine?.(line);
      },
      what: `autotest ${name}`,
    });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    if (!(err instanceof BuildError)) throw err;
    const code = /exit code (\d+)/.exec(err.message)?.[1];
    throw new TestsFailedError(`tests failed: sut in ${name} ${code ? `exited with code ${code}` : `could not run (${err.message})`}`, {
      tail: sutLines,
      cause: err,
    });
  } finally {
    // No build signal here: a canceled or timed-out build still leaves nothing running.
    await run(tool, compose(['down', '-v', '--rmi', 'local', '--remove-orphans']), {
      ...common,
      signal: AbortSignal.timeout(DOWN_TIMEOUT_MS),
      onLine: opts.onLine,
      what: `autotest ${name}: tear down`,
    }).catch((err: unknown) => opts.onLine?.(`autotest: ${name}: tear down failed: ${err instanceof Error ? err.message : String(err)}`));
    for (const tag of created) {
      await run(opts.compose.engine, ['rmi', tag], { ...common, signal: AbortSignal.timeout(DOWN_TIMEOUT_MS) }).catch(() => undefined);
    }
  }
}

interface ServiceBuild {
  context: string;
  dockerfile?: string;
  /** args or target: another image than ours, so compose builds it. */
  custom: boolean;
}
interface Service {
  image?: string;
  build?: ServiceBuild;
}

/** The file's services with what matters here; a file that is no compose file is a test failure. */
async function readServices(file: string): Promise<{ doc: unknown; services: Map<string, Service> }> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TestsFailedError(`${basename(file)} is not valid YAML`, { tail: [err instanceof Error ? err.message.split('\n')[0]! : String(err)] });
  }
  const root = isRecord(doc) ? doc : {};
  // Compose file format 1 has the services at the top level.
  const raw = isRecord(root['services']) ? root['services'] : 'version' in root ? {} : root;
  const services = new Map<string, Service>();
  for (const [name, value] of Object.entries(raw)) {
    if (!isRecord(value)) continue;
    const service: Service = {};
    if (typeof value['image'] === 'string') service.image = value['image'];
    const build = value['build'];
    if (typeof build === 'string') service.build = { context: build, custom: false };
    else if (isRecord(build) && typeof build['context'] === 'string') {
      service.build = {
        context: build['context'],
        ...(typeof build['dockerfile'] === 'string' ? { dockerfile: build['dockerfile'] } : {}),
        custom: build['args'] !== undefined || build['target'] !== undefined,
      };
    }
    services.set(name, service);
  }
  return { doc, services };
}

/**
 * Tags the built image under the name compose will look for, for every service whose `build:`
 * is this build's context and Dockerfile; returns the names it created (removed afterwards).
 */
async function offerBuiltImage(services: Map<string, Service>, file: string, project: string, opts: AutotestOptions): Promise<string[]> {
  const ours = { context: await canonical(opts.contextDir), dockerfile: await canonical(opts.dockerfile) };
  const dir = resolve(file, '..');
  const created: string[] = [];
  for (const [name, service] of services) {
    const build = service.build;
    // `${VAR}` in a context is compose's to resolve; such a service is built by compose.
    if (!build || build.custom || build.context.includes('$')) continue;
    const context = await canonical(resolve(dir, build.context));
    const dockerfile = build.dockerfile ?? 'Dockerfile';
    if (context !== ours.context || (await canonical(isAbsolute(dockerfile) ? dockerfile : resolve(context, dockerfile))) !== ours.dockerfile) continue;
    const names = service.image && !service.image.includes('$') ? [service.image] : opts.compose.serviceImages(project, name);
    for (const target of names) {
      // A name that already exists (IMAGE_NAME itself, say) is left alone and never removed.
      if (target === opts.image.name || (await exists(opts.compose.engine, target, opts.env))) continue;
      await run(opts.compose.engine, ['tag', opts.image.id, target], {
        env: opts.env,
        secrets: opts.secrets,
        signal: opts.signal,
        what: `autotest: tag the built image as ${target}`,
      });
      created.push(target);
    }
    opts.onLine?.(`autotest: service ${name} uses the built image ${opts.image.name}`);
  }
  return created;
}

async function exists(engine: string, image: string, env: Record<string, string | undefined>): Promise<boolean> {
  try {
    await run(engine, ['image', 'inspect', '--format', '{{.Id}}', image], { env });
    return true;
  } catch {
    return false;
  }
}

async function canonical(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
