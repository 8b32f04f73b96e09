// The Action's main step: read inputs and the event, plan with the same core as the service,
// log in, build once and push every tag (latest last), then set outputs and the job summary.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { readExistingTags } from '../adapters/existing-tags.js';
import { enableLinearRegExp } from '../adapters/regex-engine.js';
import type { RegistryAuth } from '../adapters/registry-client.js';
import { runBuild } from '../pipeline/pipeline.js';
import { BuildError, isUserError } from '../core/errors.js';
import { plan } from '../core/plan.js';
import { repositoryConfig } from '../core/plan-inputs.js';
import { maskSecrets } from '../core/secret.js';
import type { Plan, PlannedBuild, RepositoryConfig } from '../core/types.js';
import { readEvent } from './event.js';
import { readInputs, type ActionInputs } from './inputs.js';
import { actionsLogSink } from './log.js';
import { login, loginHost } from './login.js';
import { actionOutputs, setOutputs } from './outputs.js';
import { writeSummary, type BuildOutcome } from './summary.js';

async function main(): Promise<void> {
  enableLinearRegExp();
  const inputs = readInputs();
  const event = readEvent();
  const repository = event.repository ?? process.env.GITHUB_REPOSITORY ?? 'workflow/repository';
  const registries = registryAuth(inputs);
  for (const notice of inputs.notices) core.notice(notice);

  // Logging in first turns a wrong password into an early, clear failure rather than a plan
  // made without the registry's tags.
  let dockerConfig: string | undefined;
  if (inputs.username && inputs.password) {
    const { username, password } = inputs;
    dockerConfig = await core.group('Registry login', async () => (await login({ ...inputs, username, password })).dir);
  }
  const existingTags = await core.group('Tags already in the registry', async () => {
    const tags = await readExistingTags(inputs.images, registries, (image, why) =>
      core.warning(`could not list the tags of ${image}, planning as if it had none: ${why}`),
    );
    core.info(tags.length > 0 ? tags.join(' ') : '(none)');
    return tags;
  });
  const thePlan = await core.group('Plan', async () => {
    const p = plan({ event: { ...event, repository }, repositories: { [repository]: inputsRepository(inputs) }, existingTags });
    logPlan(p);
    return p;
  });
  // An explicit `push` input wins; otherwise the plan's choice (no push on pull_request).
  const builds: PlannedBuild[] = thePlan.builds.map((b) => ({ ...b, push: inputs.push ?? b.push }));

  const outcomes: BuildOutcome[] = builds.map((build) => ({ build }));
  const workRoot = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'autobuild-work-'));
  try {
    for (const outcome of outcomes) {
      const log = actionsLogSink();
      try {
        outcome.result = await runBuild({
          build: outcome.build,
          source: { dir: process.env.GITHUB_WORKSPACE || process.cwd() },
          workRoot,
          builder: inputs.builder,
          registries,
          dockerConfig,
          log,
          now: new Date(),
          secrets: inputs.secrets,
          // The runner is GitHub's sandbox, so a fork's pull request is tested too (without logins).
          autotest: { mode: 'external', disabled: !inputs.test },
          passEnv: workflowEnv(),
        });
      } finally {
        log.finish();
      }
    }
  } finally {
    // A summary that cannot be written must not hide the build's own result or error.
    await writeSummary(thePlan, outcomes, existingTags).catch((err: unknown) => core.warning(`job summary not written: ${String(err)}`));
    await rm(workRoot, { recursive: true, force: true });
  }
  setOutputs(actionOutputs(outcomes.flatMap((o) => (o.result ? [{ build: o.build, result: o.result }] : []))));
  if (builds.length === 0) core.notice(`nothing to build: ${thePlan.skipped.map((s) => s.reason).join('; ') || 'no tags for this event'}`);
}

/**
 * The step's environment for hooks and tests, as Docker Hub's build environment variables: the
 * workflow's `env:` and the runner's GITHUB_* facts, but never the inputs (the password is one)
 * or the runner's own ACTIONS_* tokens.
 */
function workflowEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('INPUT_') && !k.startsWith('ACTIONS_')) out[k] = v;
  }
  return out;
}

/** The inputs as the one configured repository of this workflow run. */
function inputsRepository(inputs: ActionInputs): RepositoryConfig {
  return repositoryConfig({
    images: inputs.images,
    preset: inputs.preset,
    rules: inputs.rules,
    tags: inputs.tags,
    flavor: inputs.flavor,
    dockerfile: inputs.file,
    context: inputs.context,
    buildArgs: inputs.buildArgs,
    labels: inputs.labels,
    ...inputs.settings,
  });
}

/** Credentials for reading tags and for the pipeline's push-time checks, by registry host. */
function registryAuth(inputs: ActionInputs): Record<string, RegistryAuth> {
  if (!inputs.username || !inputs.password) return {};
  return { [loginHost(inputs.registry, inputs.images)]: { username: inputs.username, password: inputs.password } };
}

function logPlan(p: Plan): void {
  for (const b of p.builds) {
    core.info(`${b.ref} at ${b.sha}: ${b.tags.join(', ') || '(no tags)'}${b.push ? '' : ' (not pushed)'}`);
    for (const ref of b.refs) core.info(`  ${ref}`);
  }
  for (const s of p.skipped) core.info(`skipped: ${s.reason}`);
}

/** One clear line for the run's annotation; a build's last output lines go to the log above it. */
function fail(err: unknown, secrets: string[]): void {
  const mask = (s: string) => maskSecrets(s, secrets);
  if (err instanceof BuildError && err.tail.length > 0) {
    core.startGroup('Last lines of the failed step');
    for (const line of err.tail) core.info(mask(line));
    core.endGroup();
  } else if (!isUserError(err) && !(err instanceof BuildError) && err instanceof Error && err.stack) {
    // Not a user's mistake: the stack helps whoever reports it.
    core.info(mask(err.stack));
  }
  // The annotation is often all a reader sees: name the tool's own last words along with ours.
  const last = err instanceof BuildError ? err.tail.filter((l) => l.trim() !== '').at(-1) : undefined;
  const message = err instanceof Error ? err.message : String(err);
  core.setFailed(mask(last && !message.includes(last) ? `${message} (last output: ${last.trim()})` : message));
}

main().catch((err: unknown) => fail(err, [process.env['INPUT_PASSWORD'] ?? '', ...secretInputValues()]));

/** The `secrets` input's values, masked in a failure even when reading the inputs failed. */
function secretInputValues(): string[] {
  return (process.env['INPUT_SECRETS'] ?? '')
    .split(/\r?\n/)
    .map((l) => l.slice(l.indexOf('=') + 1))
    .filter((v) => v.length >= 4);
}
