import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { inheritedEnv } from './process.js';
import type { SandboxWorkspace } from './sandbox.js';

// Docker Hub's build hooks (https://docs.docker.com/docker-hub/repos/manage/builds/advanced/):
// scripts in `hooks/` next to the Dockerfile, run at their step with the variables Docker Hub
// sets. Values (branch names, commit messages) go in the environment only, never into a command
// line, so a commit message like `$(rm -rf /)` stays text. A hook is code from the repository,
// not ours: it runs in the build's sandbox (adapters/sandbox.ts), never beside the service.

const HOOK_NAMES = ['post_checkout', 'pre_build', 'build', 'post_build', 'pre_test', 'test', 'post_test', 'pre_push', 'push', 'post_push'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** The variables Docker Hub gives hooks. */
export interface HookVariables {
  SOURCE_BRANCH: string;
  SOURCE_COMMIT: string;
  COMMIT_MSG: string;
  DOCKER_REPO: string;
  DOCKERFILE_PATH: string;
  DOCKER_TAG: string;
  IMAGE_NAME: string;
  /** `linux/amd64,linux/arm64` when the build asks for platforms (as buildx's --platform). */
  PLATFORMS?: string;
}

export interface HookContext {
  /** Directory holding the Dockerfile; hooks live in its `hooks/` subdirectory. */
  dockerfileDir: string;
  /** Working directory of the hook: the build context, as on Docker Hub. */
  contextDir: string;
  variables: HookVariables;
  /** The builder's hook variables (DOCKER_CONFIG, REGISTRY_AUTH_FILE) and the build's `env`; the workspace's win. */
  env: Record<string, string | undefined>;
  /** Where hooks run: opened on the first hook the repository has, shared by the build's hooks. */
  workspace: () => Promise<SandboxWorkspace>;
  secrets?: Iterable<Secret | string | undefined>;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/** The path of a hook when the repository has one. */
export async function findHook(dockerfileDir: string, name: HookName): Promise<string | undefined> {
  const file = join(dockerfileDir, 'hooks', name);
  try {
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a hook if the repository has it; returns whether it ran. A failing hook fails the build. */
export async function runHook(name: HookName, ctx: HookContext): Promise<boolean> {
  const file = await findHook(ctx.dockerfileDir, name);
  if (!file) return false;
  const executable = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
  // Docker Hub runs hooks that were committed without the executable bit too.
  const [cmd, args] = executable ? [file, []] : ['/bin/sh', [file]];
  try {
    const workspace = await ctx.workspace();
    await workspace.run(cmd, args, {
      // Only PATH and the locale of ours: the workspace gives HOME, TMPDIR, DOCKER_HOST, DOCKER_CONFIG.
      env: { ...hookBaseEnv(), ...ctx.env, ...ctx.variables, BUILD_PATH: ctx.contextDir },
      cwd: ctx.contextDir,
      secrets: ctx.secrets,
      signal: ctx.signal,
      onLine: ctx.onLine,
      what: `hook hooks/${name}`,
      hint: `fix hooks/${name} next to the Dockerfile (it ran with SOURCE_BRANCH, DOCKER_TAG, IMAGE_NAME, ... set)`,
    });
  } catch (err) {
    if (err instanceof BuildError) throw err;
    throw new BuildError(`hook hooks/${name} could not run: ${String(err)}`, { cause: err });
  }
  return true;
}

/** What a hook inherits from the service's environment: how to find programs and the locale. */
function hookBaseEnv(): Record<string, string | undefined> {
  const { PATH, LANG, LC_ALL, TZ } = inheritedEnv();
  return { PATH, LANG, LC_ALL, TZ };
}
