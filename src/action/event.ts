// The workflow run's event as a SourceEvent, read the way docker/metadata-action reads it: the
// core's eventFromWorkflow does the reading, this module only gathers the run's context.
// The event file is read here rather than through @actions/github's `context`, which parses it
// while being imported: a broken file then crashed the step with a stack trace.
import { readFileSync } from 'node:fs';
import { eventFromWorkflow } from '../core/events.js';
import { UserError } from '../core/errors.js';
import type { SourceEvent } from '../core/types.js';

type Env = Record<string, string | undefined>;

/** The webhook payload the runner wrote to GITHUB_EVENT_PATH; {} when the variable is unset. */
function readPayload(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? (err as Error).message})`;
    throw new UserError(
      `GITHUB_EVENT_PATH ${path} ${why}`,
      'run autobuild as a step of a GitHub Actions workflow, whose runner writes the event file, or point GITHUB_EVENT_PATH at a webhook payload',
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `GITHUB_EVENT_PATH ${path} is not valid JSON (${(err as Error).message.split('\n')[0]})`,
      'point GITHUB_EVENT_PATH at the webhook payload as GitHub wrote it',
    );
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new UserError(`GITHUB_EVENT_PATH ${path} does not hold a JSON object`, 'point GITHUB_EVENT_PATH at the webhook payload as GitHub wrote it');
  }
  return payload as Record<string, unknown>;
}

export function readEvent(env: Env = process.env): SourceEvent {
  const name = env.GITHUB_EVENT_NAME;
  if (!name) {
    throw new UserError('GITHUB_EVENT_NAME is not set', 'run autobuild as a step of a GitHub Actions workflow');
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const hasPayload = Object.keys(payload).length > 0;
  if (!hasPayload && (!env.GITHUB_REF || !env.GITHUB_SHA)) {
    throw new UserError(`event "${name}" has no GITHUB_REF/GITHUB_SHA`, 'run the step in a workflow triggered by a push, pull_request or workflow_dispatch');
  }
  return eventFromWorkflow({
    name,
    ref: env.GITHUB_REF ?? '',
    sha: env.GITHUB_SHA ?? '',
    payload,
    ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
    prHeadSha: /^true$/i.test(env.DOCKER_METADATA_PR_HEAD_SHA ?? ''),
  });
}
