import { describe, expect, it } from 'vitest';
import { eventFromPayload, eventFromRef } from '../../src/core/events.js';
import { UserError } from '../../src/core/errors.js';
import type { SourceEvent } from '../../src/core/types.js';
import { livePush } from '../fixtures/events.js';
import { example as payload } from '../support/webhook-payloads.js';

type Payload = Record<string, any>;

const branchPush = () => payload('push', (p) => p.ref === 'refs/heads/master' && !p.deleted);
const tagPush = () => payload('push', (p) => p.ref.startsWith('refs/tags/') && !p.deleted);
const prPayload = (action: string) => payload('pull_request', (p) => p.action === action);
const commit = (i: number, files: Partial<Record<'added' | 'modified' | 'removed', string[]>>) => ({
  id: String(i).padStart(40, '0'),
  message: `commit ${i}`,
  added: [],
  modified: [],
  removed: [],
  ...files,
});

const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const TAG_OBJECT = 'ffffffffffffffffffffffffffffffffffffffff';
const COMMIT = 'cccccccccccccccccccccccccccccccccccccccc';

const rows: { name: string; event: string; payload: () => unknown; expected: Partial<SourceEvent> }[] = [
  {
    name: 'a push to a branch builds that branch at `after`',
    event: 'push',
    payload: branchPush,
    expected: {
      kind: 'push',
      ref: 'refs/heads/master',
      refType: 'branch',
      refName: 'master',
      sha: SHA,
      deleted: false,
      repository: 'Codertocat/Hello-World',
      defaultBranch: 'master',
      cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
      htmlUrl: 'https://github.com/Codertocat/Hello-World',
      pusher: 'Codertocat',
      commitMessage: 'Initial commit',
    },
  },
  {
    name: 'a lightweight tag push builds the tag',
    event: 'push',
    payload: tagPush,
    expected: { kind: 'push', ref: 'refs/tags/simple-tag', refType: 'tag', refName: 'simple-tag', sha: SHA, deleted: false },
  },
  {
    name: 'an annotated tag push builds the commit, not the tag object',
    event: 'push',
    payload: () => {
      const p = tagPush();
      p.after = TAG_OBJECT;
      p.head_commit.id = COMMIT;
      return p;
    },
    expected: { kind: 'push', refType: 'tag', sha: COMMIT },
  },
  {
    name: 'a push without head_commit falls back to `after`',
    event: 'push',
    payload: () => ({ ...branchPush(), head_commit: null }),
    expected: { kind: 'push', sha: SHA },
  },
  {
    name: 'a deleted branch is marked deleted',
    event: 'push',
    payload: () => {
      const p = payload('push', (x) => x.deleted === true);
      p.ref = 'refs/heads/feature/old';
      return p;
    },
    expected: { kind: 'push', refType: 'branch', refName: 'feature/old', deleted: true },
  },
  {
    name: 'a deleted tag is marked deleted',
    event: 'push',
    payload: () => payload('push', (x) => x.deleted === true),
    expected: { kind: 'push', refType: 'tag', deleted: true },
  },
  {
    name: 'a branch name with slashes is kept whole',
    event: 'push',
    payload: () => ({ ...branchPush(), ref: 'refs/heads/feature/login' }),
    expected: { refType: 'branch', refName: 'feature/login' },
  },
  {
    name: 'older payloads name the default branch master_branch',
    event: 'push',
    payload: () => {
      const p = branchPush();
      delete p.repository.default_branch;
      p.repository.master_branch = 'trunk';
      return p;
    },
    expected: { defaultBranch: 'trunk' },
  },
  {
    name: 'a push to refs/notes is not built',
    event: 'push',
    payload: () => ({ ...branchPush(), ref: 'refs/notes/commits' }),
    expected: { kind: 'other', ref: 'refs/notes/commits' },
  },
  {
    name: 'pull_request opened builds the PR head',
    event: 'pull_request',
    payload: () => prPayload('opened'),
    expected: {
      kind: 'pull_request',
      action: 'opened',
      ref: 'refs/pull/2/merge',
      refType: 'pr',
      prNumber: 2,
      refName: 'changes',
      baseRef: 'master',
      sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      repository: 'Codertocat/Hello-World',
    },
  },
  {
    name: 'pull_request synchronize builds the new head',
    event: 'pull_request',
    payload: () => prPayload('synchronize'),
    expected: { kind: 'pull_request', action: 'synchronize', prNumber: 2, refType: 'pr' },
  },
  {
    name: 'pull_request reopened builds',
    event: 'pull_request',
    payload: () => prPayload('reopened'),
    expected: { kind: 'pull_request', action: 'reopened' },
  },
  {
    name: 'pull_request closed is not built and keeps its action',
    event: 'pull_request',
    payload: () => prPayload('closed'),
    expected: { kind: 'other', action: 'closed', repository: 'Codertocat/Hello-World' },
  },
  {
    name: 'pull_request labeled is not built',
    event: 'pull_request',
    payload: () => prPayload('labeled'),
    expected: { kind: 'other', action: 'labeled' },
  },
  {
    name: 'ping is a ping',
    event: 'ping',
    payload: () => payload('ping'),
    expected: { name: 'ping', kind: 'ping', repository: 'Octocoders/Hello-World' },
  },
  {
    name: 'an organisation ping without repository is still a ping',
    event: 'ping',
    payload: () => payload('ping', (p) => !p.repository),
    expected: { name: 'ping', kind: 'ping' },
  },
  {
    name: 'issues events are not built',
    event: 'issues',
    payload: () => payload('issues', (p) => p.action === 'opened'),
    expected: { name: 'issues', kind: 'other', action: 'opened' },
  },
];

describe('eventFromPayload', () => {
  it.each(rows)('$name', ({ event, payload: make, expected }) => {
    expect(eventFromPayload(event, make())).toMatchObject({ name: event, ...expected });
  });

  it('a closed pull request has no commit to build', () => {
    const event = eventFromPayload('pull_request', prPayload('closed'));
    expect(event.kind).toBe('other');
    expect(event).not.toHaveProperty('sha');
  });
});

describe('trust: whose code the event asks to build (README "Security model")', () => {
  const fork = (edit: (p: Payload) => void) => () => {
    const p = prPayload('opened');
    edit(p);
    return p;
  };
  const trustRows: { name: string; event: string; payload: () => unknown; trusted: boolean }[] = [
    { name: 'a push to a branch is trusted (only writers can push)', event: 'push', payload: branchPush, trusted: true },
    { name: 'a tag push is trusted', event: 'push', payload: tagPush, trusted: true },
    { name: 'a pull request from a branch of the same repository is trusted', event: 'pull_request', payload: () => prPayload('opened'), trusted: true },
    {
      name: 'the same repository written in another case is still the same',
      event: 'pull_request',
      payload: fork((p) => {
        p.pull_request.head.repo.full_name = 'codertocat/hello-world';
      }),
      trusted: true,
    },
    {
      name: 'a pull request from a fork is untrusted',
      event: 'pull_request',
      payload: fork((p) => {
        p.pull_request.head.repo.full_name = 'mallory/Hello-World';
      }),
      trusted: false,
    },
    {
      name: 'a pull request whose fork was deleted (head.repo null) is untrusted',
      event: 'pull_request',
      payload: fork((p) => {
        p.pull_request.head.repo = null;
      }),
      trusted: false,
    },
    {
      name: 'a pull request without head.repo at all is untrusted',
      event: 'pull_request',
      payload: fork((p) => {
        delete p.pull_request.head.repo;
      }),
      trusted: false,
    },
    {
      name: 'a fork named like the base in the top-level repository field is still a fork',
      event: 'pull_request',
      payload: fork((p) => {
        p.pull_request.base.repo.full_name = 'Codertocat/Hello-World';
        p.pull_request.head.repo.full_name = 'Codertocat2/Hello-World';
      }),
      trusted: false,
    },
    { name: 'a ping builds nothing and is not trusted', event: 'ping', payload: () => payload('ping'), trusted: false },
  ];
  it.each(trustRows)('$name', ({ event, payload: make, trusted }) => {
    expect(eventFromPayload(event, make()).trusted).toBe(trusted);
  });

  const sha = 'a'.repeat(40);
  it.each([
    { name: 'a branch ref from a workflow is trusted', input: { ref: 'refs/heads/main', sha }, trusted: true },
    {
      name: 'a PR ref with no payload cannot be told apart from a fork: untrusted',
      input: { name: 'pull_request', ref: 'refs/pull/7/merge', sha },
      trusted: false,
    },
    {
      name: 'a PR ref with a same-repository payload is trusted',
      input: { name: 'pull_request', ref: 'refs/pull/2/merge', sha, payload: prPayload('opened') },
      trusted: true,
    },
    {
      name: 'a PR ref with a fork payload is untrusted',
      input: {
        name: 'pull_request',
        ref: 'refs/pull/2/merge',
        sha,
        payload: fork((p) => {
          p.pull_request.head.repo.full_name = 'mallory/x';
        })(),
      },
      trusted: false,
    },
  ])('eventFromRef: $name', ({ input, trusted }) => {
    expect(eventFromRef(input).trusted).toBe(trusted);
  });
});

describe('changed files of a push', () => {
  const withCommits = (commits: unknown) => ({ ...branchPush(), commits });
  const fileRows: { name: string; payload: () => unknown; expected: string[] | undefined }[] = [
    { name: 'the real payload lists the added file', payload: branchPush, expected: ['README.md'] },
    {
      name: 'the union of added, modified and removed over all commits',
      payload: () => withCommits([commit(1, { added: ['a'], modified: ['b'] }), commit(2, { removed: ['c'], modified: ['a'] })]),
      expected: ['a', 'b', 'c'],
    },
    {
      name: '20 commits may be truncated by GitHub, so files are unknown',
      payload: () => withCommits(Array.from({ length: 20 }, (_, i) => commit(i, { added: [`f${i}`] }))),
      expected: undefined,
    },
    {
      name: '19 commits are complete',
      payload: () => withCommits(Array.from({ length: 19 }, (_, i) => commit(i, { added: ['f'] }))),
      expected: ['f'],
    },
    { name: 'no commits list means unknown', payload: () => withCommits(undefined), expected: undefined },
    { name: 'an empty commits list (new tag) means unknown', payload: tagPush, expected: undefined },
    {
      name: 'a commit without file lists means unknown',
      payload: () => withCommits([{ id: SHA, message: 'x' }]),
      expected: undefined,
    },
  ];
  it.each(fileRows)('$name', ({ payload: make, expected }) => {
    expect(livePush(eventFromPayload('push', make())).changedFiles).toEqual(expected);
  });
});

describe('malformed payloads', () => {
  const bad: { name: string; event: string; payload: () => unknown; problem: RegExp }[] = [
    { name: 'a JSON array', event: 'push', payload: () => [], problem: /push payload is not a JSON object/ },
    { name: 'null', event: 'push', payload: () => null, problem: /not a JSON object/ },
    { name: 'a string', event: 'ping', payload: () => 'hello', problem: /ping payload is not a JSON object/ },
    {
      name: 'a push without ref',
      event: 'push',
      payload: () => {
        const p = branchPush();
        delete p.ref;
        return p;
      },
      problem: /push payload has no "ref"/,
    },
    {
      name: 'a push without repository',
      event: 'push',
      payload: () => ({ ...branchPush(), repository: undefined }),
      problem: /push payload has no "repository.full_name"/,
    },
    {
      name: 'a push without after or head_commit',
      event: 'push',
      payload: () => ({ ...branchPush(), after: undefined, head_commit: null }),
      problem: /push payload has no "after"/,
    },
    {
      name: 'a pull request without head sha',
      event: 'pull_request',
      payload: () => {
        const p = prPayload('opened');
        delete p.pull_request.head.sha;
        return p;
      },
      problem: /pull_request payload has no "pull_request.head.sha"/,
    },
    {
      name: 'a pull request without action',
      event: 'pull_request',
      payload: () => ({ ...prPayload('opened'), action: undefined }),
      problem: /pull_request payload has no "action"/,
    },
    {
      name: 'a push of a ref with a NUL byte',
      event: 'push',
      payload: () => ({ ...branchPush(), ref: 'refs/heads/ma\u0000ster' }),
      problem: /push payload ref "refs\/heads\/ma\\u0000ster" is not a valid git ref/,
    },
    {
      name: 'a push of a 200,000-character ref',
      event: 'push',
      payload: () => ({ ...branchPush(), ref: `refs/heads/${'a'.repeat(200_000)}` }),
      problem: /is not a valid git ref: it is 200011 characters long \(at most 1024\)/,
    },
    {
      name: 'a push of a ref with a space',
      event: 'push',
      payload: () => ({ ...branchPush(), ref: 'refs/heads/a b' }),
      problem: /not a valid git ref: it contains a space/,
    },
    { name: 'a push of a ref ending in .lock', event: 'push', payload: () => ({ ...branchPush(), ref: 'refs/heads/x.lock' }), problem: /ends with ".lock"/ },
    {
      name: 'a push naming a commit that is not hex',
      event: 'push',
      payload: () => ({ ...branchPush(), head_commit: { id: 'zz; rm -rf /' } }),
      problem: /push payload names commit "zz; rm -rf \/", which is not a 40-hex git commit id/,
    },
    {
      name: 'a pull request from a branch with a control character',
      event: 'pull_request',
      payload: () => {
        const p = prPayload('opened');
        p.pull_request.head.ref = 'fix\u0007';
        return p;
      },
      problem: /pull_request head.ref "fix\\u0007" is not a valid git ref/,
    },
  ];
  it.each(bad)('$name is a UserError naming the field', ({ event, payload: make, problem }) => {
    expect(() => eventFromPayload(event, make())).toThrow(UserError);
    expect(() => eventFromPayload(event, make())).toThrow(problem);
  });
});

describe('eventFromRef', () => {
  const sha = 'a'.repeat(40);
  const rowsFromRef: { name: string; input: Parameters<typeof eventFromRef>[0]; expected: Partial<SourceEvent> }[] = [
    {
      name: 'a branch ref plans like a push of it',
      input: { ref: 'refs/heads/main', sha },
      expected: { name: 'push', kind: 'push', refType: 'branch', refName: 'main', sha, deleted: false },
    },
    {
      name: 'a tag ref from a release event plans like a tag push',
      input: { name: 'release', ref: 'refs/tags/v1.2.3', sha },
      expected: { name: 'release', kind: 'push', refType: 'tag', refName: 'v1.2.3' },
    },
    {
      name: 'a workflow_dispatch on a branch plans like a push',
      input: { name: 'workflow_dispatch', ref: 'refs/heads/dev', sha, repository: 'o/a', defaultBranch: 'main' },
      expected: { kind: 'push', refName: 'dev', repository: 'o/a', defaultBranch: 'main' },
    },
    {
      name: 'a PR merge ref plans as that pull request',
      input: { name: 'pull_request', ref: 'refs/pull/7/merge', sha },
      expected: { kind: 'pull_request', refType: 'pr', prNumber: 7 },
    },
    {
      name: 'the payload gives repository, default branch, clone URL and message',
      input: { ref: 'refs/heads/master', sha, payload: branchPush() },
      expected: {
        repository: 'Codertocat/Hello-World',
        defaultBranch: 'master',
        cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        commitMessage: 'Initial commit',
        sha,
        changedFiles: ['README.md'],
      },
    },
    {
      name: 'explicit repository and default branch win over the payload',
      input: { ref: 'refs/heads/master', sha, repository: 'x/y', defaultBranch: 'dev', payload: branchPush() },
      expected: { repository: 'x/y', defaultBranch: 'dev' },
    },
    {
      name: 'a PR payload gives head and base branches',
      input: { name: 'pull_request', ref: 'refs/pull/2/merge', sha, payload: prPayload('opened') },
      expected: { kind: 'pull_request', refName: 'changes', baseRef: 'master', prNumber: 2 },
    },
    {
      name: 'an uppercase sha is accepted',
      input: { ref: 'refs/heads/main', sha: 'A'.repeat(40) },
      expected: { sha: 'a'.repeat(40) },
    },
  ];
  it.each(rowsFromRef)('$name', ({ input, expected }) => {
    expect(eventFromRef(input)).toMatchObject(expected);
  });

  it('files of a push of another ref are not used', () => {
    expect(livePush(eventFromRef({ ref: 'refs/heads/other', sha, payload: branchPush() })).changedFiles).toBeUndefined();
  });

  it.each([
    ['a short ref', { ref: 'main', sha }, /unsupported ref "main"/],
    ['a notes ref', { ref: 'refs/notes/x', sha }, /unsupported ref/],
    ['a short sha', { ref: 'refs/heads/main', sha: 'abc123' }, /invalid commit sha "abc123"/],
    ['a ref with a NUL byte', { ref: 'refs/heads/ma\u0000in', sha }, /unsupported ref "refs\/heads\/ma\\u0000in"/],
    ['a 200,000-character ref, quoted short', { ref: `refs/heads/${'b'.repeat(200_000)}`, sha }, /unsupported ref "refs\/heads\/b{69}"\.\.\./],
  ] as const)('rejects %s', (_name, input, problem) => {
    expect(() => eventFromRef(input)).toThrow(UserError);
    expect(() => eventFromRef(input)).toThrow(problem);
  });
});
