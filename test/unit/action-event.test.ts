import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEvent } from '../../src/action/event.js';
import { UserError } from '../../src/core/errors.js';
import { example, pushPayload } from '../support/webhook-payloads.js';

// The Action's view of its workflow run: GITHUB_EVENT_NAME, the event file the runner wrote at
// GITHUB_EVENT_PATH (real @octokit/webhooks-examples payloads here), GITHUB_REF and GITHUB_SHA.
// Rows say which ref and commit the Action then builds, or the one line it stops with.

const dir = mkdtempSync(join(tmpdir(), 'autobuild-action-event-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** The event file as the runner writes it. */
function eventFile(content: unknown): string {
  const file = join(dir, `event-${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const PUSH_SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const PR_HEAD = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
/** The merge commit actions/checkout checks out for a pull request (GITHUB_SHA). */
const MERGE = '9e4f0a3c5b6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f';
const RUN_SHA = 'b'.repeat(40);

type Env = Record<string, string | undefined>;
type Row = { name: string; env: () => Env; expected: Record<string, unknown> };

const rows: Row[] = [
  {
    name: 'a branch push: the ref and commit of the payload',
    env: () => ({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile(pushPayload({ ref: 'refs/heads/master' })),
      GITHUB_REF: 'refs/heads/master',
      GITHUB_SHA: PUSH_SHA,
    }),
    expected: {
      kind: 'push',
      ref: 'refs/heads/master',
      refType: 'branch',
      refName: 'master',
      sha: PUSH_SHA,
      repository: 'Codertocat/Hello-World',
      trusted: true,
    },
  },
  {
    name: 'a tag push',
    env: () => ({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile(example('push', (p) => p.ref === 'refs/tags/simple-tag' && !p.deleted)),
      GITHUB_REF: 'refs/tags/simple-tag',
      GITHUB_SHA: PUSH_SHA,
    }),
    expected: { kind: 'push', ref: 'refs/tags/simple-tag', refType: 'tag', refName: 'simple-tag', sha: PUSH_SHA },
  },
  {
    name: 'a deleted branch: nothing to build, said as a deletion',
    env: () => ({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile(pushPayload({ ref: 'refs/heads/gone', deleted: true })),
      GITHUB_REF: 'refs/heads/gone',
      GITHUB_SHA: '0'.repeat(40),
    }),
    expected: { kind: 'push', refName: 'gone', deleted: true },
  },
  {
    name: 'a pull request builds the merge commit checked out (GITHUB_SHA), as metadata-action tags it',
    env: () => ({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(example('pull_request', (p) => p.action === 'opened')),
      GITHUB_REF: 'refs/pull/2/merge',
      GITHUB_SHA: MERGE,
    }),
    expected: { kind: 'pull_request', ref: 'refs/pull/2/merge', refType: 'pr', prNumber: 2, refName: 'changes', baseRef: 'master', sha: MERGE, trusted: true },
  },
  {
    name: 'DOCKER_METADATA_PR_HEAD_SHA=true: the head commit instead',
    env: () => ({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(example('pull_request', (p) => p.action === 'opened')),
      GITHUB_REF: 'refs/pull/2/merge',
      GITHUB_SHA: MERGE,
      DOCKER_METADATA_PR_HEAD_SHA: 'true',
    }),
    expected: { kind: 'pull_request', prNumber: 2, sha: PR_HEAD },
  },
  {
    name: 'DOCKER_METADATA_PR_HEAD_SHA in capitals counts too',
    env: () => ({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(example('pull_request', (p) => p.action === 'opened')),
      GITHUB_REF: 'refs/pull/2/merge',
      GITHUB_SHA: MERGE,
      DOCKER_METADATA_PR_HEAD_SHA: 'TRUE',
    }),
    expected: { sha: PR_HEAD },
  },
  {
    name: 'pull_request_target reads like pull_request',
    env: () => ({
      GITHUB_EVENT_NAME: 'pull_request_target',
      GITHUB_EVENT_PATH: eventFile(example('pull_request', (p) => p.action === 'opened')),
      GITHUB_REF: 'refs/heads/master',
      GITHUB_SHA: MERGE,
    }),
    expected: { kind: 'pull_request', name: 'pull_request_target', prNumber: 2, sha: MERGE },
  },
  {
    name: 'a closed pull request is not built',
    env: () => ({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(example('pull_request', (p) => p.action === 'closed')),
      GITHUB_REF: 'refs/pull/2/merge',
      GITHUB_SHA: MERGE,
    }),
    expected: { kind: 'other', action: 'closed' },
  },
  {
    name: 'a pull request from a fork is not trusted',
    env: () => {
      const p = example('pull_request', (e) => e.action === 'opened');
      p.pull_request.head.repo.full_name = 'mallory/Hello-World';
      return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventFile(p), GITHUB_REF: 'refs/pull/2/merge', GITHUB_SHA: MERGE };
    },
    expected: { kind: 'pull_request', trusted: false },
  },
  {
    name: 'a release plans like a push of its tag (GITHUB_REF / GITHUB_SHA)',
    env: () => ({
      GITHUB_EVENT_NAME: 'release',
      GITHUB_EVENT_PATH: eventFile(example('release', (p) => p.action === 'published')),
      GITHUB_REF: 'refs/tags/0.0.1',
      GITHUB_SHA: RUN_SHA,
    }),
    expected: { kind: 'push', name: 'release', ref: 'refs/tags/0.0.1', refType: 'tag', refName: '0.0.1', sha: RUN_SHA, repository: 'Codertocat/Hello-World' },
  },
  {
    name: 'a workflow_dispatch plans like a push of the branch it ran on',
    env: () => ({
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_EVENT_PATH: eventFile(example('workflow_dispatch', () => true)),
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: RUN_SHA,
    }),
    expected: { kind: 'push', name: 'workflow_dispatch', refType: 'branch', refName: 'main', sha: RUN_SHA },
  },
  {
    name: 'no event file (a schedule run): GITHUB_REF and GITHUB_SHA, and GITHUB_REPOSITORY',
    env: () => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: RUN_SHA, GITHUB_REPOSITORY: 'octo-org/app' }),
    expected: { kind: 'push', name: 'schedule', refName: 'main', sha: RUN_SHA, repository: 'octo-org/app' },
  },
  {
    name: 'an event file holding {}: the same',
    env: () => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_EVENT_PATH: eventFile({}), GITHUB_REF: 'refs/tags/v2.0.0', GITHUB_SHA: RUN_SHA }),
    expected: { kind: 'push', refType: 'tag', refName: 'v2.0.0', sha: RUN_SHA },
  },
  {
    name: 'GITHUB_SHA in capitals is read as the commit',
    env: () => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: RUN_SHA.toUpperCase() }),
    expected: { sha: RUN_SHA },
  },
];

describe('which ref and commit the Action builds', () => {
  it.each(rows)('$name', ({ env, expected }) => {
    expect(readEvent(env())).toMatchObject(expected);
  });
});

describe('a run it cannot read stops with one line', () => {
  const missing = join(dir, 'no-such-event.json');
  const folder = join(dir, 'a-directory');
  mkdirSync(folder);
  it.each([
    {
      name: 'GITHUB_EVENT_NAME unset (not in a workflow)',
      env: (): Env => ({}),
      message: 'GITHUB_EVENT_NAME is not set — run autobuild as a step of a GitHub Actions workflow',
    },
    {
      name: 'the event file does not exist',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: missing }),
      message: `GITHUB_EVENT_PATH ${missing} does not exist — run autobuild as a step of a GitHub Actions workflow, whose runner writes the event file, or point GITHUB_EVENT_PATH at a webhook payload`,
    },
    {
      name: 'the event file is a directory',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: folder }),
      message: new RegExp(`^GITHUB_EVENT_PATH ${folder} is a directory — `),
    },
    {
      name: 'the event file is not JSON',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile('{"ref": "refs/heads/main",') }),
      message: /^GITHUB_EVENT_PATH \S+ is not valid JSON \(.+\) — point GITHUB_EVENT_PATH at the webhook payload as GitHub wrote it$/,
    },
    {
      name: 'the event file is empty',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile('') }),
      message: /^GITHUB_EVENT_PATH \S+ is not valid JSON /,
    },
    {
      name: 'the event file holds a list',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile([pushPayload({ ref: 'refs/heads/main' })]) }),
      message: /^GITHUB_EVENT_PATH \S+ does not hold a JSON object — /,
    },
    {
      name: 'the event file holds null',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventFile('null') }),
      message: /^GITHUB_EVENT_PATH \S+ does not hold a JSON object — /,
    },
    {
      name: 'no event file and no GITHUB_REF',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_SHA: RUN_SHA }),
      message: 'event "schedule" has no GITHUB_REF/GITHUB_SHA — run the step in a workflow triggered by a push, pull_request or workflow_dispatch',
    },
    {
      name: 'no event file and no GITHUB_SHA',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main' }),
      message: /^event "schedule" has no GITHUB_REF\/GITHUB_SHA — /,
    },
    {
      name: 'a GITHUB_SHA that is not a commit id',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: 'main' }),
      message: /^invalid commit sha "main" — /,
    },
    {
      name: 'a GITHUB_REF that is not a full ref',
      env: (): Env => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'main', GITHUB_SHA: RUN_SHA }),
      message: /^unsupported ref "main" — give a full ref/,
    },
    {
      name: 'a pull_request event file without its pull request number',
      env: (): Env => {
        const p = example('pull_request', (e) => e.action === 'opened');
        delete p.number;
        delete p.pull_request.number;
        return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventFile(p), GITHUB_REF: 'refs/pull/2/merge', GITHUB_SHA: MERGE };
      },
      message: /^pull_request payload has no "number" — /,
    },
  ])('$name', ({ env, message }) => {
    let err: unknown;
    try {
      readEvent(env());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const text = (err as Error).message;
    expect(text).not.toContain('\n');
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });
});
