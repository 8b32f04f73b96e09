import { describe, expect, it } from 'vitest';
import { bitbucketEvents } from '../../src/core/bitbucket-events.js';
import { UserError } from '../../src/core/errors.js';
import { giteaEvents } from '../../src/core/gitea-events.js';
import { gitlabEvents } from '../../src/core/gitlab-events.js';
import { plan } from '../../src/core/plan.js';
import type { RepositoryConfig, SourceEvent } from '../../src/core/types.js';
import { forgePayload } from '../fixtures/forges/index.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

// Each forge's documented payloads -> the SourceEvents planning sees. Rows change a fixture only
// where the behaviour needs it; the expectation is what a user would see built.

// `sha: undefined` in a row says the event names no commit (a deletion).
type Row = { name: string; events: () => SourceEvent[]; expect: (Partial<SourceEvent> & { sha?: string })[] };

const ZERO = '0000000000000000000000000000000000000000';

const rows: Row[] = [
  {
    name: 'GitLab push to a branch: HOST/path repository, checkout_sha, files when all commits are listed',
    events: () => {
      const p = forgePayload('gitlab-push');
      p.total_commits_count = 2;
      return gitlabEvents('Push Hook', p, 'gitlab.example.com');
    },
    expect: [
      {
        name: 'Push Hook',
        kind: 'push',
        forge: 'gitlab',
        repository: 'gitlab.example.com/mike/diaspora',
        ref: 'refs/heads/master',
        refType: 'branch',
        refName: 'master',
        sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        defaultBranch: 'master',
        deleted: false,
        trusted: true,
        commitMessage: 'fixed readme',
        pusher: 'jsmith',
        cloneUrl: 'http://example.com/mike/diaspora.git',
        changedFiles: ['CHANGELOG', 'app/controller/application.rb'],
      },
    ],
  },
  {
    name: 'GitLab push listing fewer commits than total_commits_count: changed files unknown',
    events: () => gitlabEvents('Push Hook', forgePayload('gitlab-push'), 'gitlab.com'),
    expect: [{ changedFiles: undefined, sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7' }],
  },
  {
    name: 'GitLab tag push of a subgroup project keeps the subgroups in the name',
    events: () => {
      const p = forgePayload('gitlab-tag-push');
      p.project.path_with_namespace = 'group/sub/app';
      return gitlabEvents('Tag Push Hook', p, 'gitlab.com');
    },
    expect: [
      {
        kind: 'push',
        repository: 'gitlab.com/group/sub/app',
        ref: 'refs/tags/v1.0.0',
        refType: 'tag',
        refName: 'v1.0.0',
        sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
      },
    ],
  },
  {
    name: 'GitLab annotated tag: the commit (checkout_sha) is built, not the tag object (after)',
    events: () => {
      const p = forgePayload('gitlab-tag-push');
      p.after = 'ffffffffffffffffffffffffffffffffffffffff';
      return gitlabEvents('Tag Push Hook', p, 'gitlab.com');
    },
    expect: [{ sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7' }],
  },
  {
    name: 'GitLab tag deleted: after is all zeros, checkout_sha null',
    events: () => {
      const p = forgePayload('gitlab-tag-push');
      Object.assign(p, { before: p.after, after: ZERO, checkout_sha: null });
      return gitlabEvents('Tag Push Hook', p, 'gitlab.com');
    },
    expect: [{ kind: 'push', deleted: true, sha: undefined }],
  },
  {
    name: 'GitLab merge request opened in the same project: trusted, pr number is the iid',
    events: () => gitlabEvents('Merge Request Hook', forgePayload('gitlab-merge-request'), 'gitlab.com'),
    expect: [
      {
        kind: 'pull_request',
        repository: 'gitlab.com/gitlabhq/gitlab-test',
        prNumber: 1,
        refName: 'ms-viewport',
        baseRef: 'master',
        sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        trusted: true,
        ref: 'refs/merge-requests/1/head',
        commitMessage: 'MS-Viewport',
      },
    ],
  },
  {
    name: 'GitLab merge request from a fork (source_project_id differs) is untrusted',
    events: () => {
      const p = forgePayload('gitlab-merge-request');
      p.object_attributes.source_project_id = 99;
      return gitlabEvents('Merge Request Hook', p, 'gitlab.com');
    },
    expect: [{ kind: 'pull_request', trusted: false }],
  },
  {
    name: 'GitLab merge request update with new commits (oldrev) builds; a title edit does not',
    events: () => {
      const withCommits = forgePayload('gitlab-merge-request');
      Object.assign(withCommits.object_attributes, { action: 'update', oldrev: '95790bf891e76fee5e1747ab589903a6a1f80f22' });
      const titleOnly = forgePayload('gitlab-merge-request');
      titleOnly.object_attributes.action = 'update';
      return [...gitlabEvents('Merge Request Hook', withCommits, 'gitlab.com'), ...gitlabEvents('Merge Request Hook', titleOnly, 'gitlab.com')];
    },
    expect: [
      { kind: 'pull_request', action: 'update' },
      { kind: 'other', action: 'update without new commits' },
    ],
  },
  {
    name: 'GitLab merge request merged or closed builds nothing',
    events: () => {
      const p = forgePayload('gitlab-merge-request');
      p.object_attributes.action = 'merge';
      return gitlabEvents('Merge Request Hook', p, 'gitlab.com');
    },
    expect: [{ kind: 'other', action: 'merge' }],
  },
  {
    name: 'Bitbucket push of one tag: one event, full commit hash',
    events: () => bitbucketEvents('repo:push', forgePayload('bitbucket-push-tag'), 'bitbucket.org'),
    expect: [
      {
        name: 'repo:push',
        kind: 'push',
        forge: 'bitbucket',
        repository: 'bitbucket.org/cloudbeers/temp',
        ref: 'refs/tags/test',
        refType: 'tag',
        refName: 'test',
        sha: 'fee1dcdb330d1318502f303ccd4792531c28dc8e',
        deleted: false,
        cloneUrl: 'https://bitbucket.org/cloudbeers/temp.git',
      },
    ],
  },
  {
    name: 'Bitbucket push with a branch and a tag: one event each, in order',
    events: () => bitbucketEvents('repo:push', forgePayload('bitbucket-push-branch-and-tag'), 'bitbucket.org'),
    expect: [
      { ref: 'refs/heads/master', refType: 'branch', sha: '325d37697849f4b1fe42cb19c20134af08e03a82', commitMessage: 'typo' },
      { ref: 'refs/tags/test', refType: 'tag', sha: 'fee1dcdb330d1318502f303ccd4792531c28dc8e' },
    ],
  },
  {
    name: 'Bitbucket branch deleted: new is null, the name comes from old',
    events: () => {
      const p = forgePayload('bitbucket-push-branch-and-tag');
      p.push.changes = [{ ...p.push.changes[0], new: null, closed: true }];
      return bitbucketEvents('repo:push', p, 'bitbucket.org');
    },
    expect: [{ kind: 'push', ref: 'refs/heads/master', deleted: true, sha: undefined }],
  },
  {
    name: 'Bitbucket pull request from a fork: untrusted, abbreviated head commit kept for the receiver to expand',
    events: () => bitbucketEvents('pullrequest:created', forgePayload('bitbucket-pullrequest-created-fork'), 'bitbucket.org'),
    expect: [
      {
        kind: 'pull_request',
        action: 'created',
        prNumber: 3,
        refName: 'master',
        baseRef: 'master',
        sha: '1c48041a96db',
        trusted: false,
        commitMessage: 'Forking for PR',
      },
    ],
  },
  {
    name: 'Bitbucket pull request within the repository is not a fork',
    events: () => {
      const p = forgePayload('bitbucket-pullrequest-created-fork');
      p.pullrequest.source.repository = p.pullrequest.destination.repository;
      p.pullrequest.source.branch.name = 'feature/x';
      return bitbucketEvents('pullrequest:updated', p, 'bitbucket.org');
    },
    expect: [{ kind: 'pull_request', action: 'updated', refName: 'feature/x', trusted: true }],
  },
  {
    name: 'Bitbucket pullrequest:fulfilled builds nothing',
    events: () => bitbucketEvents('pullrequest:fulfilled', forgePayload('bitbucket-pullrequest-created-fork'), 'bitbucket.org'),
    expect: [{ kind: 'other', name: 'pullrequest:fulfilled' }],
  },
  {
    name: 'Gitea push: GitHub-format payload, HOST/owner/name repository, pusher login',
    events: () => giteaEvents('push', forgePayload('gitea-push'), 'git.example.com'),
    expect: [
      {
        kind: 'push',
        forge: 'gitea',
        repository: 'git.example.com/gitea/webhooks',
        ref: 'refs/heads/develop',
        refType: 'branch',
        sha: 'bffeb74224043ba2feb48d137756c8a9331c449a',
        defaultBranch: 'main',
        pusher: 'gitea',
        deleted: false,
      },
    ],
  },
  {
    name: 'Gitea branch deleted: after is all zeros',
    events: () => {
      const p = forgePayload('gitea-push');
      Object.assign(p, { after: ZERO, commits: [] });
      return giteaEvents('push', p, 'git.example.com');
    },
    expect: [{ kind: 'push', deleted: true, sha: undefined }],
  },
  {
    name: 'Gitea pull request opened from the same repository',
    events: () => giteaEvents('pull_request', forgePayload('gitea-pull-request'), 'gitea.golang.org'),
    expect: [
      {
        kind: 'pull_request',
        repository: 'gitea.golang.org/gordon/hello-world',
        prNumber: 1,
        refName: 'feature/changes',
        baseRef: 'main',
        sha: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
        trusted: true,
        ref: 'refs/pull/1/head',
      },
    ],
  },
  {
    name: 'Gitea pull request from a fork (head repo_id differs), synchronized',
    events: () => {
      const p = forgePayload('gitea-pull-request');
      p.action = 'synchronized';
      p.pull_request.head.repo_id = 7;
      return giteaEvents('pull_request', p, 'gitea.golang.org');
    },
    expect: [{ kind: 'pull_request', action: 'synchronized', trusted: false }],
  },
  {
    name: 'Gitea pull request closed builds nothing',
    events: () => {
      const p = forgePayload('gitea-pull-request');
      p.action = 'closed';
      return giteaEvents('pull_request', p, 'gitea.golang.org');
    },
    expect: [{ kind: 'other', action: 'closed' }],
  },
];

describe('forge payloads -> SourceEvents', () => {
  it.each(rows)('$name', (row) => {
    const events = row.events();
    expect(events).toHaveLength(row.expect.length);
    row.expect.forEach((want, i) => {
      for (const [key, value] of Object.entries(want)) expect(events[i]![key as keyof SourceEvent], key).toEqual(value);
    });
  });

  it.each([
    [
      'GitLab push without ref',
      () => gitlabEvents('Push Hook', { ...forgePayload('gitlab-push'), ref: undefined }, 'gitlab.com'),
      /GitLab Push Hook payload has no "ref"/,
    ],
    [
      'GitLab merge request without last_commit',
      () => {
        const p = forgePayload('gitlab-merge-request');
        delete p.object_attributes.last_commit;
        return gitlabEvents('Merge Request Hook', p, 'gitlab.com');
      },
      /last_commit\.id/,
    ],
    [
      'Bitbucket push without changes',
      () => bitbucketEvents('repo:push', { ...forgePayload('bitbucket-push-tag'), push: {} }, 'bitbucket.org'),
      /push\.changes/,
    ],
    ['Gitea payload that is a list', () => giteaEvents('push', [], 'git.example.com'), /not a JSON object/],
    [
      'Gitea push whose ref holds ".."',
      () => giteaEvents('push', { ...forgePayload('gitea-push'), ref: 'refs/heads/a..b' }, 'git.example.com'),
      /^Gitea push payload ref .* — send the webhook body exactly as Gitea delivered it$/,
    ],
    [
      'Gitea push without a commit id',
      () => {
        const p = forgePayload('gitea-push');
        p.after = 'nothex';
        if (p.head_commit) p.head_commit.id = 'nothex';
        return giteaEvents('push', p, 'git.example.com');
      },
      /^Gitea push payload names commit "nothex", which is not a 40-hex git commit id — send the webhook body exactly as Gitea delivered it$/,
    ],
  ])('malformed: %s is a one-line UserError', (_name, run, message) => {
    expect(run).toThrow(UserError);
    expect(run).toThrow(message);
  });
});

describe('planning forge events against HOST/PATH repository keys', () => {
  const repo = (image: string): RepositoryConfig => repositoryConfig({ images: [image] });
  const repositories = {
    'gitlab.com/group/sub/app': repo('registry.example.com/gl/app'),
    'bitbucket.org/cloudbeers/temp': repo('registry.example.com/bb/temp'),
    'git.example.com/gitea/webhooks': repo('registry.example.com/gt/webhooks'),
    'gitea/webhooks': repo('registry.example.com/github/webhooks'),
  };

  it('a GitLab tag of a subgroup project plans the semver tags for its HOST/PATH key', () => {
    const p = forgePayload('gitlab-tag-push');
    p.project.path_with_namespace = 'group/sub/app';
    const [event] = gitlabEvents('Tag Push Hook', p, 'gitlab.com');
    const result = plan({ event: event!, repositories });
    expect(result.builds.map((b) => [b.repository, b.tags])).toEqual([['gitlab.com/group/sub/app', ['1.0.0', '1.0', '1', 'latest']]]);
  });

  it('a Bitbucket push with a branch and a tag plans the tag; the branch says why not', () => {
    const events = bitbucketEvents('repo:push', forgePayload('bitbucket-push-branch-and-tag'), 'bitbucket.org');
    const plans = events.map((event) => plan({ event, repositories }));
    expect(plans[1]!.builds[0]!.refs).toEqual(['registry.example.com/bb/temp:test']);
    expect(plans[0]!.skipped[0]!.reason).toMatch(/preset semver builds only the default branch/);
  });

  it('a Gitea repository is not confused with the GitHub repository of the same owner/name', () => {
    const [event] = giteaEvents('push', { ...forgePayload('gitea-push'), ref: 'refs/heads/main' }, 'git.example.com');
    expect(plan({ event: event!, repositories }).builds[0]!.images).toEqual(['registry.example.com/gt/webhooks']);
  });

  it('a forge repository that is not configured is skipped naming its HOST/PATH key', () => {
    const [event] = gitlabEvents('Push Hook', forgePayload('gitlab-push'), 'gitlab.com');
    expect(plan({ event: event!, repositories }).skipped[0]!.reason).toMatch(/repository gitlab\.com\/mike\/diaspora is not configured/);
  });
});
