import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { forgeEvents } from '../../src/core/forge-events.js';
import { plan } from '../../src/core/plan.js';
import type { ForgeType, RepositoryConfig } from '../../src/core/types.js';
import { forgePayload, type ForgeFixture } from '../fixtures/forges/index.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

// `autobuild plan --forge HOST --event NAME`: the forge's type (from autobuild.yml) and the event
// name (its X-Gitlab-Event / X-Event-Key / X-Gitea-Event header) pick the payload reader. Each
// row is a documented payload; the expectation is what planning then sees. The readers' own
// rows are in forge-events.test.ts; these say which reader a (type, name) pair reaches.

const HOST = 'forge.example.com';

/** The repository configured, so that what the plan says is about the event itself. */
const configured = (repository: string): Record<string, RepositoryConfig> => ({
  [repository]: repositoryConfig({ images: ['registry.example.com/app'] }),
});

type Row = { type: ForgeType; event: string; fixture: ForgeFixture; expected: { kind: string; repository: string; ref?: string; prNumber?: number }[] };

const routed: Row[] = [
  { type: 'gitlab', event: 'Push Hook', fixture: 'gitlab-push', expected: [{ kind: 'push', repository: `${HOST}/mike/diaspora`, ref: 'refs/heads/master' }] },
  {
    type: 'gitlab',
    event: 'Tag Push Hook',
    fixture: 'gitlab-tag-push',
    expected: [{ kind: 'push', repository: `${HOST}/jsmith/example`, ref: 'refs/tags/v1.0.0' }],
  },
  {
    type: 'gitlab',
    event: 'Merge Request Hook',
    fixture: 'gitlab-merge-request',
    expected: [{ kind: 'pull_request', repository: `${HOST}/gitlabhq/gitlab-test`, prNumber: 1 }],
  },
  {
    type: 'bitbucket',
    event: 'repo:push',
    fixture: 'bitbucket-push-branch-and-tag',
    expected: [
      { kind: 'push', repository: `${HOST}/cloudbeers/temp`, ref: 'refs/heads/master' },
      { kind: 'push', repository: `${HOST}/cloudbeers/temp`, ref: 'refs/tags/test' },
    ],
  },
  {
    type: 'bitbucket',
    event: 'pullrequest:created',
    fixture: 'bitbucket-pullrequest-created-fork',
    expected: [{ kind: 'pull_request', repository: `${HOST}/cloudbeers/temp`, prNumber: 3 }],
  },
  {
    type: 'bitbucket',
    event: 'pullrequest:updated',
    fixture: 'bitbucket-pullrequest-created-fork',
    expected: [{ kind: 'pull_request', repository: `${HOST}/cloudbeers/temp`, prNumber: 3 }],
  },
  { type: 'gitea', event: 'push', fixture: 'gitea-push', expected: [{ kind: 'push', repository: `${HOST}/gitea/webhooks`, ref: 'refs/heads/develop' }] },
  {
    type: 'gitea',
    event: 'pull_request',
    fixture: 'gitea-pull-request',
    expected: [{ kind: 'pull_request', repository: `${HOST}/gordon/hello-world`, prNumber: 1 }],
  },
];

describe('each forge and event name reaches its reader', () => {
  it.each(routed)('$type "$event" ($fixture)', ({ type, event, fixture, expected }) => {
    const events = forgeEvents(type, event, forgePayload(fixture), HOST);
    expect(
      events.map((e) => ({
        kind: e.kind,
        repository: e.repository,
        ...(e.kind === 'pull_request' ? { prNumber: e.prNumber } : e.kind === 'push' ? { ref: e.ref } : {}),
      })),
    ).toEqual(expected);
    for (const e of events) expect(e.forge).toBe(type);
  });
});

// An event a forge sends that autobuild does not build, or another forge's event name (the CLI's
// `--event` defaults to GitHub's "push"): one "other" event for that repository, which the plan
// skips naming the forge's own event names.
const GITLAB = 'only "Push Hook", "Tag Push Hook", "Merge Request Hook" are (the X-Gitlab-Event header)';
const BITBUCKET = 'only "repo:push", "pullrequest:created", "pullrequest:updated" are (the X-Event-Key header)';
const GITEA = 'only "push", "pull_request" are (the X-Gitea-Event header)';
const unknown: { type: ForgeType; event: string; fixture: ForgeFixture; repository: string; why: string; reason: string }[] = [
  {
    type: 'gitlab',
    event: 'Note Hook',
    fixture: 'gitlab-push',
    repository: `${HOST}/mike/diaspora`,
    why: 'a GitLab comment',
    reason: `GitLab event "Note Hook" is not built — ${GITLAB}`,
  },
  // Before the fix: 'push of "" is neither a branch nor a tag; nothing to build'.
  {
    type: 'gitlab',
    event: 'push',
    fixture: 'gitlab-push',
    repository: `${HOST}/mike/diaspora`,
    why: 'plan --forge without --event',
    reason: `GitLab event "push" is not built — ${GITLAB}`,
  },
  {
    type: 'gitlab',
    event: 'push hook',
    fixture: 'gitlab-push',
    repository: `${HOST}/mike/diaspora`,
    why: 'GitLab names events in title case',
    reason: `GitLab event "push hook" is not built — ${GITLAB}`,
  },
  {
    type: 'bitbucket',
    event: 'pullrequest:fulfilled',
    fixture: 'bitbucket-pullrequest-created-fork',
    repository: `${HOST}/cloudbeers/temp`,
    why: 'a merged Bitbucket pull request',
    reason: `Bitbucket event "pullrequest:fulfilled" is not built — ${BITBUCKET}`,
  },
  // Before the fix: 'push of "" is neither a branch nor a tag; nothing to build'.
  {
    type: 'bitbucket',
    event: 'push',
    fixture: 'bitbucket-push-tag',
    repository: `${HOST}/cloudbeers/temp`,
    why: 'plan --forge without --event',
    reason: `Bitbucket event "push" is not built — ${BITBUCKET}`,
  },
  // Before the fix: 'pull_request action "" is not built — only opened, reopened, synchronize are'.
  {
    type: 'bitbucket',
    event: 'pull_request',
    fixture: 'bitbucket-pullrequest-created-fork',
    repository: `${HOST}/cloudbeers/temp`,
    why: "GitHub's name sent to Bitbucket",
    reason: `Bitbucket event "pull_request" is not built — ${BITBUCKET}`,
  },
  {
    type: 'gitea',
    event: 'create',
    fixture: 'gitea-push',
    repository: `${HOST}/gitea/webhooks`,
    why: 'a Gitea branch creation',
    reason: `Gitea event "create" is not built — ${GITEA}`,
  },
  {
    type: 'gitea',
    event: 'Push Hook',
    fixture: 'gitea-push',
    repository: `${HOST}/gitea/webhooks`,
    why: "GitLab's name sent to Gitea",
    reason: `Gitea event "Push Hook" is not built — ${GITEA}`,
  },
];

describe('an event name a forge does not build is planned as nothing, saying which names it builds', () => {
  it.each(unknown)('$type "$event" ($why)', ({ type, event, fixture, repository, reason }) => {
    const events = forgeEvents(type, event, forgePayload(fixture), HOST);
    expect(events.map((e) => ({ kind: e.kind, name: e.name, repository: e.repository, trusted: e.trusted }))).toEqual([
      { kind: 'other', name: event, repository, trusted: false },
    ]);
    const result = plan({ event: events[0]!, repositories: configured(repository) });
    expect(result.builds).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual([reason]);
  });
});

// Events the forge's reader does read, that still bring nothing to build: said in the forge's
// words. Before the fix a closed GitLab merge request said 'event "Merge Request Hook" (action
// close) is not built — only push and pull_request are', and a closed Gitea pull request listed
// GitHub's actions (synchronize) rather than Gitea's.
const readNotBuilt: { name: string; type: ForgeType; event: string; payload: () => unknown; repository: string; reason: string }[] = [
  {
    name: 'a closed GitLab merge request',
    type: 'gitlab',
    event: 'Merge Request Hook',
    repository: `${HOST}/gitlabhq/gitlab-test`,
    payload: () => {
      const p = forgePayload('gitlab-merge-request');
      p.object_attributes.action = 'close';
      return p;
    },
    reason: 'GitLab merge request action "close" is not built — only a merge request opened, reopened or given new commits is',
  },
  {
    name: 'a GitLab merge request edited without new commits',
    type: 'gitlab',
    event: 'Merge Request Hook',
    repository: `${HOST}/gitlabhq/gitlab-test`,
    payload: () => {
      const p = forgePayload('gitlab-merge-request');
      p.object_attributes.action = 'update';
      return p;
    },
    reason: 'GitLab merge request action "update without new commits" is not built — only a merge request opened, reopened or given new commits is',
  },
  {
    name: 'a GitLab push of a ref that is neither a branch nor a tag',
    type: 'gitlab',
    event: 'Push Hook',
    repository: `${HOST}/mike/diaspora`,
    payload: () => ({ ...forgePayload('gitlab-push'), ref: 'refs/keep-around/da1560886d4f094c3e6c9ef40349f7d38b5d27d7' }),
    reason: 'GitLab Push Hook of "refs/keep-around/da1560886d4f094c3e6c9ef40349f7d38b5d27d7" is neither a branch nor a tag; nothing to build',
  },
  {
    name: 'a closed Gitea pull request',
    type: 'gitea',
    event: 'pull_request',
    repository: `${HOST}/gordon/hello-world`,
    payload: () => ({ ...forgePayload('gitea-pull-request'), action: 'closed' }),
    reason: 'Gitea pull request action "closed" is not built — only a pull request opened, reopened or given new commits is',
  },
  {
    name: 'a Bitbucket push of a Mercurial-era named branch',
    type: 'bitbucket',
    event: 'repo:push',
    repository: `${HOST}/cloudbeers/temp`,
    payload: () => {
      const p = forgePayload('bitbucket-push-tag');
      p.push.changes[0].new.type = 'named_branch';
      return p;
    },
    reason: 'Bitbucket repo:push (a named_branch change) of "test" is neither a branch nor a tag; nothing to build',
  },
];

describe('an event the forge sends that brings nothing to build says why in its own words', () => {
  it.each(readNotBuilt)('$name', ({ type, event, payload, repository, reason }) => {
    const events = forgeEvents(type, event, payload(), HOST);
    expect(events.map((e) => e.kind)).toEqual(['other']);
    const result = plan({ event: events[0]!, repositories: configured(repository) });
    expect(result.builds).toEqual([]);
    expect(result.skipped.map((s) => s.reason)).toEqual([reason]);
  });
});

describe('a payload that is not a JSON object is one line naming the forge', () => {
  it.each([
    { type: 'gitlab' as const, payload: [1], forge: 'GitLab' },
    { type: 'bitbucket' as const, payload: 'repo:push', forge: 'Bitbucket' },
    { type: 'gitea' as const, payload: null, forge: 'Gitea' },
  ])('$type', ({ type, payload, forge }) => {
    expect(() => forgeEvents(type, 'push', payload, HOST)).toThrow(UserError);
    expect(() => forgeEvents(type, 'push', payload, HOST)).toThrow(
      `${forge} push payload is not a JSON object — send the webhook body exactly as ${forge} delivered it`,
    );
  });
});
