// The workflow run's event as a SourceEvent. push and pull_request carry a full webhook payload
// the service reads the same way; every other trigger (workflow_dispatch, schedule, release, ...)
// is planned like a push of GITHUB_REF at GITHUB_SHA, as `autobuild plan --ref --sha` does.
import { context } from '@actions/github';
import { eventFromPayload, eventFromRef } from '../core/events.js';
import { UserError } from '../core/errors.js';
import type { SourceEvent } from '../core/types.js';

export function readEvent(): SourceEvent {
  const name = context.eventName;
  if (!name) {
    throw new UserError('GITHUB_EVENT_NAME is not set', 'run autobuild as a step of a GitHub Actions workflow');
  }
  const payload: unknown = context.payload;
  const hasPayload = Object.keys(context.payload).length > 0;
  if ((name === 'push' || name === 'pull_request') && hasPayload) {
    return eventFromPayload(name, payload);
  }
  if (!context.ref || !context.sha) {
    throw new UserError(`event "${name}" has no GITHUB_REF/GITHUB_SHA`, 'run the step in a workflow triggered by a push, pull_request or workflow_dispatch');
  }
  const repository = process.env.GITHUB_REPOSITORY || undefined;
  const repo = (context.payload.repository ?? undefined) as { default_branch?: unknown } | undefined;
  const defaultBranch = typeof repo?.default_branch === 'string' ? repo.default_branch : undefined;
  return eventFromRef({ name, ref: context.ref, sha: context.sha, repository, defaultBranch, payload: hasPayload ? payload : undefined });
}
