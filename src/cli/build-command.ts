import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { RegistryAuth } from '../adapters/registry-client.js';
import type { BuildResult } from '../pipeline/pipeline.js';
import { parseCacheSpec, parsePlatforms, parseSecretFlag, withSettings, type BuildSettings } from '../core/build-settings.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { eventFromRef } from '../core/events.js';
import { isValidTag, parseImageName } from '../core/references.js';
import { Secret } from '../core/secret.js';
import type { PlannedBuild, RepositoryConfig, Skip } from '../core/types.js';

// `autobuild build [DIR]`: build a directory once and push every tag separately, the same
// pipeline the service and the Action run. Tags come from --tag, or else from the rules applied
// to --ref exactly as `autobuild plan` would, against the tags already in the registry.

interface BuildFlags {
  image?: string[];
  ref?: string;
  sha?: string;
  tag: string[];
  config?: string;
  buildArg: string[];
  file?: string;
  builder?: 'docker' | 'buildah';
  push: boolean;
  test: boolean;
  env: string[];
  json?: boolean;
  defaultBranch: string;
  quiet?: boolean;
  platform: string[];
  cacheFrom: string[];
  cacheTo: string[];
  secret: string[];
  target?: string;
  pull?: boolean;
  cache: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildCommand(): Command {
  return new Command('build')
    .description('build DIR once, tag it and push every tag separately (latest last)')
    .argument('[dir]', 'build context (the repository checkout; default .)')
    .option('--image <name...>', 'images to push to (several after one --image, repeated, or comma-separated)')
    .option('--ref <ref>', "git ref the tags are decided from: refs/tags/v1.2.3, refs/heads/main (default: DIR's checked-out branch)")
    .option('--sha <sha>', "commit being built (default: DIR's HEAD)")
    .option('--tag <tag>', 'push exactly this tag instead of the rules; repeat for several', collect, [])
    .option('--config <file>', 'autobuild.yml (default ./autobuild.yml if present, else $AUTOBUILD_CONFIG)')
    .option('--build-arg <key=value>', 'build argument; repeat for several', collect, [])
    .option('--file <path>', "Dockerfile, relative to DIR (default: the config's, else Dockerfile)")
    .addOption(new Option('--builder <name>', "docker or buildah (default: the config's builder)").choices(['docker', 'buildah']))
    .option('--no-push', 'build and tag only')
    .option('--platform <list>', 'build for these platforms (linux/amd64,linux/arm64) and push one image index; repeatable', collect, [])
    .option('--cache-from <spec>', 'layer cache to use: type=registry,ref=IMAGE:TAG; repeatable', collect, [])
    .option('--cache-to <spec>', 'layer cache to write: type=registry,ref=IMAGE:TAG[,mode=max]; repeatable', collect, [])
    .option('--secret <spec>', 'build secret for RUN --mount=type=secret: id=ID,env=VAR or id=ID,src=FILE; repeatable', collect, [])
    .option('--target <stage>', 'the Dockerfile stage to build')
    .option('--pull', 'always fetch the newest base images')
    .option('--no-cache', 'build without the layer cache')
    .option('--no-test', 'skip Autotest (the sut service of *.test.yml next to the Dockerfile)')
    .option(
      '--env <key=value>',
      "build environment variable for hooks and tests (Docker Hub's); KEY alone takes it from this environment; repeat for several",
      collect,
      [],
    )
    .option('--default-branch <name>', 'the branch that gets `edge` (semver preset)', 'main')
    .option('--quiet', "show steps and pushes only, not the tools' output")
    .option('--json', 'print {"images","tags","refs","digest","imageId","pushed"} on stdout')
    .addHelpText(
      'after',
      '\nCredentials come from registries.<host> in autobuild.yml, or from AUTOBUILD_REGISTRY_USERNAME and\nAUTOBUILD_REGISTRY_PASSWORD for registries the config does not list.',
    )
    .action(async (dirArg: string | undefined, flags: BuildFlags) => {
      const [{ loadConfig }, { runBuild }, { stderrSink }] = await Promise.all([
        import('../adapters/config-file.js'),
        import('../pipeline/pipeline.js'),
        import('../adapters/log-sink.js'),
      ]);
      const config = await loadConfig(flags.config);
      const { images, dir } = await imagesAndDir(flags.image ?? [], dirArg);
      const contextDir = resolve(dir);
      const buildArgs = parseBuildArgs(flags.buildArg);
      const settings = settingsFromFlags(flags);
      const secrets = await secretsFromFlags(flags.secret);
      const envFlags = parseEnv(flags.env);
      const registries = registriesFrom(config, images);
      // What waits on the disk, git or the registry runs side by side; git only for what the
      // flags do not say, and the registry's tags only when rules decide the tags.
      const existingTags = flags.tag.length > 0 ? undefined : listExistingTags(images, registries);
      const [isDir, git] = await Promise.all([
        stat(contextDir).then(
          (s) => s.isDirectory(),
          () => false,
        ),
        gitFacts(contextDir, { ref: flags.ref === undefined, sha: flags.sha === undefined }),
      ]);
      if (!isDir) throw new UserError(`build directory ${dir} does not exist`, 'give the directory holding the Dockerfile (default .)');
      const sha = (flags.sha ?? git.sha ?? '').toLowerCase();
      const ref = flags.ref ?? git.ref;

      const { builds, skipped } =
        existingTags === undefined
          ? {
              builds: [
                withSettings(
                  await explicitBuild(flags, images, ref ?? 'refs/heads/local', sha, buildArgs, configuredRepository(config, images)?.[1]),
                  settings,
                ),
              ],
              skipped: [] as Skip[],
            }
          : await plannedBuilds(flags, config, images, ref, sha, buildArgs, existingTags, settings);
      const repository = configuredRepository(config, images);
      const repositoryKey = repository?.[0];
      const buildSecrets = { ...(repositoryKey ? config.buildSecrets[repositoryKey] : {}), ...secrets };
      // The configured repository's `env` and `autotest` apply; --env adds to (and overrides) `env`.
      const env: Record<string, Secret> = { ...(repositoryKey ? config.buildEnv[repositoryKey] : {}), ...envFlags };
      for (const build of builds) {
        const file = resolve(contextDir, build.context, build.dockerfile);
        if (
          !(await stat(file).then(
            (s) => s.isFile(),
            () => false,
          ))
        ) {
          throw new UserError(
            `no Dockerfile at ${file}`,
            flags.file ? 'check --file (relative to DIR)' : 'run in the directory holding the Dockerfile, or give DIR or --file',
          );
        }
      }
      const log = stderrSink(!flags.quiet);
      if (builds.length === 0) {
        for (const s of skipped) process.stderr.write(`skipped: ${s.reason}\n`);
        process.stderr.write('nothing to build\n');
        if (flags.json) process.stdout.write(`${JSON.stringify({ images, tags: [], refs: [], digest: '', imageId: '', pushed: [], held: [], skipped })}\n`);
        return;
      }

      const controller = new AbortController();
      const stop = (signal: NodeJS.Signals) => {
        process.stderr.write(`\n${signal}: stopping the build\n`);
        controller.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const results: BuildResult[] = [];
      try {
        for (const build of builds) {
          results.push(
            await runBuild({
              // runBuild makes (and removes) a private directory of its own under workRoot.
              build: { ...build, push: build.push && flags.push },
              source: { dir: contextDir },
              workRoot: tmpdir(),
              builder: flags.builder ?? config.builder,
              registries,
              log,
              signal: controller.signal,
              now: new Date(),
              secrets: buildSecrets,
              mirrors: config.mirrors,
              env,
              autotest: { ...(repository?.[1].autotest ? { mode: repository[1].autotest } : {}), disabled: !flags.test },
            }),
          );
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      for (const r of results) {
        process.stderr.write(r.pushed.length ? `pushed ${r.pushed.length} refs at ${r.digest}\n` : `built ${r.imageId} (not pushed)\n`);
      }
      if (flags.json) {
        const [first, ...rest] = results;
        process.stdout.write(`${JSON.stringify(rest.length ? { ...first, builds: results } : first)}\n`);
      }
    });
}

/**
 * The images, checked, and the build directory. `--image` takes several names, so in
 * `build --image ghcr.io/o/app .` the `.` lands among them: a value that is no image name but is
 * a directory is taken as DIR when DIR was not given.
 */
async function imagesAndDir(values: string[], dirArg: string | undefined): Promise<{ images: string[]; dir: string }> {
  // Loaded here, not at the top: `--help` loads only the command definitions (DESIGN.md).
  const { imageName } = await import('../core/plan-inputs.js');
  let dir = dirArg;
  const images: string[] = [];
  for (const value of values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean)) {
    try {
      // Read as autobuild.yml and the Action read it: `Octo/App` is octo/app.
      const name = imageName(value);
      if (!images.includes(name)) images.push(name);
    } catch (err) {
      const isDir = await stat(value).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (dir !== undefined || !isDir) throw err;
      dir = value;
    }
  }
  if (images.length === 0) throw new UserError('no image given', 'add --image NAME, e.g. --image ghcr.io/octo/app');
  return { images, dir: dir ?? '.' };
}

/** The build options the flags give (each overrides the config's). */
function settingsFromFlags(flags: BuildFlags): BuildSettings {
  const out: BuildSettings = {};
  if (flags.platform.length > 0) out.platforms = parsePlatforms(flags.platform, '--platform');
  for (const c of flags.cacheFrom) parseCacheSpec(c, '--cache-from');
  for (const c of flags.cacheTo) parseCacheSpec(c, '--cache-to');
  if (flags.cacheFrom.length > 0) out.cacheFrom = flags.cacheFrom;
  if (flags.cacheTo.length > 0) out.cacheTo = flags.cacheTo;
  if (flags.target) out.target = flags.target;
  if (flags.pull) out.pull = true;
  if (!flags.cache) out.noCache = true;
  return out;
}

/** `--secret id=ID,env=VAR|src=FILE`: values read here, kept as Secret from then on. */
async function secretsFromFlags(values: string[]): Promise<Record<string, Secret>> {
  const out: Record<string, Secret> = {};
  for (const text of values) {
    const source = parseSecretFlag(text);
    if ('env' in source) {
      const value = process.env[source.env];
      if (value === undefined)
        throw new UserError(
          `--secret id=${source.id}: environment variable ${source.env} is not set`,
          `export ${source.env}, or use --secret id=${source.id},src=FILE`,
        );
      out[source.id] = new Secret(value);
    } else {
      const value = await readFile(source.src, 'utf8').catch(() => {
        throw new UserError(`--secret id=${source.id}: cannot read ${source.src}`, 'give a readable file with src=');
      });
      out[source.id] = new Secret(value);
    }
  }
  return out;
}

/** The configured repository whose images include one of `images`, if any. */
function configuredRepository(config: Config, images: string[]): [string, RepositoryConfig] | undefined {
  const wanted = new Set(images.map((i) => parseImageName(i).name));
  return Object.entries(config.repositories).find(([, repo]) => repo.images.some((i) => wanted.has(parseImageName(i).name)));
}

/** `--tag` given: exactly those tags, in the order given except that `latest` goes last. */
async function explicitBuild(
  flags: BuildFlags,
  images: string[],
  ref: string,
  sha: string,
  buildArgs: Record<string, string>,
  repo?: RepositoryConfig,
): Promise<PlannedBuild> {
  for (const tag of flags.tag) {
    if (!isValidTag(tag))
      throw new UserError(`--tag ${JSON.stringify(tag)} is not a valid tag`, 'use letters, digits, _ . - (at most 128, not starting with . or -)');
  }
  // Loaded here, not at the top: semver would otherwise load with `--help`.
  const { orderTags, tagKinds } = await import('../core/semver-tags.js');
  const tagInfo = orderTags(tagKinds(flags.tag));
  const tags = tagInfo.map((t) => t.tag);
  return {
    repository: '',
    ref,
    sha,
    images,
    context: '.',
    dockerfile: flags.file ?? 'Dockerfile',
    buildArgs,
    labels: {},
    // The person running the CLI chose DIR: their own code, trusted like a push.
    tags,
    refs: tags.flatMap((t) => images.map((i) => `${i}:${t}`)),
    push: true,
    trusted: true,
    tagInfo,
    ...(repo ? withSettings({}, repo) : {}),
  };
}

/** No `--tag`: the same plan() as `autobuild plan`, for the configured repository listing the image. */
async function plannedBuilds(
  flags: BuildFlags,
  config: Config,
  images: string[],
  ref: string | undefined,
  sha: string,
  buildArgs: Record<string, string>,
  existingTags: Promise<string[]>,
  settings: BuildSettings,
): Promise<{ builds: PlannedBuild[]; skipped: Skip[] }> {
  if (!ref) throw new UserError('no tags to push: neither --tag nor --ref given, and DIR is not on a git branch', 'add --tag T, or --ref refs/tags/v1.2.3');
  if (!sha) throw new UserError('no commit: --sha not given and DIR is not a git checkout', 'add --sha <40-hex commit>');
  const { repositoryConfig } = await import('../core/plan-inputs.js');
  const [repository, base] = configuredRepository(config, images) ?? ['local/build', repositoryConfig({ images })];
  const repoConfig: RepositoryConfig = {
    ...base,
    images,
    dockerfile: flags.file ?? base.dockerfile,
    // The CLI builds DIR itself, which is the context.
    context: '.',
    buildArgs: { ...base.buildArgs, ...buildArgs },
  };
  const event = eventFromRef({ ref, sha, repository, defaultBranch: flags.defaultBranch });
  const { plan } = await import('../core/plan.js');
  const existing = await existingTags;
  const result = plan({ event, repositories: { [repository]: repoConfig }, existingTags: [...existing] });
  return { builds: result.builds.map((b) => withSettings(b, settings)), skipped: result.skipped };
}

/** `--build-arg K=V` values. */
function parseBuildArgs(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UserError(`--build-arg ${JSON.stringify(v)} has no KEY=VALUE form`, 'write --build-arg NAME=value');
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/**
 * `--env KEY=VALUE`, or `--env KEY` for the value of KEY in this environment (as `docker run -e`).
 * Values may be secrets, so an error names only the key.
 */
function parseEnv(values: string[]): Record<string, Secret> {
  const out: Record<string, Secret> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq === -1 ? v : v.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UserError(
        `--env ${JSON.stringify(name)} is not a variable name`,
        'write --env NAME=value (NAME: letters, digits and _, not starting with a digit)',
      );
    }
    const value = eq === -1 ? process.env[name] : v.slice(eq + 1);
    if (value === undefined) throw new UserError(`--env ${name}: ${name} is not set in this environment`, `write --env ${name}=value, or export ${name}`);
    out[name] = new Secret(value);
  }
  return out;
}

/**
 * The config's registries, plus AUTOBUILD_REGISTRY_USERNAME/PASSWORD for image registries the
 * config does not list: handy in CI, where a secret arrives as an environment variable.
 */
export function registriesFrom(config: Config, images: string[]): Record<string, RegistryAuth> {
  const registries: Record<string, RegistryAuth> = { ...config.registries };
  const username = process.env.AUTOBUILD_REGISTRY_USERNAME;
  const password = process.env.AUTOBUILD_REGISTRY_PASSWORD;
  if (username && password) {
    for (const image of images) {
      const host = parseImageName(image).domain;
      if (!registries[host]?.username) registries[host] = { ...registries[host], username, password: new Secret(password) };
    }
  }
  return registries;
}

/** The tags every image already has in its registry; an image that cannot be read counts as none. */
async function listExistingTags(images: string[], registries: Record<string, RegistryAuth>): Promise<string[]> {
  const { readExistingTags } = await import('../adapters/existing-tags.js');
  return readExistingTags(images, registries, (image, why) =>
    process.stderr.write(`warning: could not list the tags of ${image}, planning as if it had none: ${why}\n`),
  );
}

/** DIR's checked-out branch and commit, when it is a git checkout; git runs only for what is `wanted`. */
async function gitFacts(dir: string, wanted: { ref: boolean; sha: boolean }): Promise<{ ref?: string; sha?: string }> {
  if (!wanted.ref && !wanted.sha) return {};
  const { inheritedEnv, run } = await import('../adapters/process.js');
  const git = async (args: string[]) => {
    try {
      return (await run('git', args, { env: inheritedEnv(), cwd: dir })).stdout.trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const [ref, sha] = await Promise.all([
    wanted.ref ? git(['symbolic-ref', '-q', 'HEAD']) : undefined,
    wanted.sha ? git(['rev-parse', '--verify', '-q', 'HEAD']) : undefined,
  ]);
  return { ...(ref ? { ref } : {}), ...(sha ? { sha } : {}) };
}
