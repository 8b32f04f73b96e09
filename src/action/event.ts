// The workflow run's event as a SourceEvent, read the way docker/metadata-action reads it: the
// core's eventFromWorkflow does the reading, this module only gathers the run's context.
import { context } from '@actions/github';
import { eventFromWorkflow } from '../core/events.js';
import { UserError } from '../core/errors.js';
import type { SourceEvent } from '../core/types.js';

export function readEvent(): SourceEvent {
  const name = context.eventName;
  if (!name) {
    throw new UserError('GITHUB_EVENT_NAME is not set', 'run autobuild as a step of a GitHub Actions workflow');
  }
  const hasPayload = Object.keys(context.payload).length > 0;
  if (!hasPayload && (!context.ref || !context.sha)) {
    throw new UserError(`event "${name}" has no GITHUB_REF/GITHUB_SHA`, 'run the step in a workflow triggered by a push, pull_request or workflow_dispatch');
  }
  return eventFromWorkflow({
    name,
    ref: context.ref,
    sha: context.sha,
    payload: context.payload,
    ...(process.env.GITHUB_REPOSITORY ? { repository: process.env.GITHUB_REPOSITORY } : {}),
    prHeadSha: /^true$/i.test(process.env.DOCKER_METADATA_PR_HEAD_SHA ?? ''),
  });
}
