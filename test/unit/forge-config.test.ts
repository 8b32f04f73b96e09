import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { forgeCloneUrl, forgeGitCredentials, forgeRepository } from '../../src/core/forges.js';
import { statusRequest } from '../../src/core/forge-statuses.js';

// `forges:`, HOST/PATH repository keys and `notifications:` in autobuild.yml, as a user writes them.

const YAML = `
forges:
  gitlab.com: {type: gitlab, webhookSecret: \${GL_SECRET}, token: \${GL_TOKEN}}
  bitbucket.org: {type: bitbucket, webhookSecret: bb-secret, username: bot, token: app-password}
  codeberg.org: {type: forgejo, webhookSecret: cb-secret, apiUrl: "https://codeberg.org/api/v1"}
notifications:
  - {url: "https://hooks.slack.com/services/T0/B0/xyz", format: slack, events: [failed]}
repositories:
  octo-org/app: {image: ghcr.io/octo-org/app}
  gitlab.com/group/sub/app: {image: registry.example.com/gl/app}
  bitbucket.org/team/app:
    image: registry.example.com/bb/app
    notifications: [{url: "https://example.com/hook", secret: \${HOOK_SECRET}}]
  codeberg.org/someone/app: {image: registry.example.com/cb/app}
`;

const env = { GL_SECRET: 'gl-secret', GL_TOKEN: 'glpat-0123456789', HOOK_SECRET: 'hook-secret' };

describe('forges and notifications configuration', () => {
  const config = parseConfig(YAML, env, 'autobuild.yml');

  it('reads each forge with its default API URL; forgejo is read as gitea', () => {
    expect(config.forges['gitlab.com']).toMatchObject({ type: 'gitlab', apiUrl: 'https://gitlab.com/api/v4', statuses: true });
    expect(config.forges['bitbucket.org']).toMatchObject({ type: 'bitbucket', apiUrl: 'https://api.bitbucket.org/2.0', username: 'bot' });
    expect(config.forges['codeberg.org']).toMatchObject({ type: 'gitea', apiUrl: 'https://codeberg.org/api/v1' });
    expect(config.forges['gitlab.com']!.token!.reveal()).toBe('glpat-0123456789');
    // Secrets print as *** wherever the configuration is shown.
    expect(JSON.stringify(config.forges)).not.toMatch(/gl-secret|glpat|app-password|bb-secret/);
  });

  it('resolves HOST/PATH keys to their forge, and owner/name keys to GitHub', () => {
    expect(forgeRepository('gitlab.com/group/sub/app', config.forges)).toMatchObject({ host: 'gitlab.com', path: 'group/sub/app' });
    expect(forgeRepository('octo-org/app', config.forges)).toBeUndefined();
    expect(forgeCloneUrl({ host: 'gitlab.com', path: 'group/sub/app' })).toBe('https://gitlab.com/group/sub/app.git');
  });

  it('git credentials: GitLab oauth2 + token, Bitbucket user + app password, none without a token', () => {
    expect(forgeGitCredentials(config.forges['gitlab.com']!)).toMatchObject({ username: 'oauth2' });
    expect(forgeGitCredentials(config.forges['bitbucket.org']!)!.username).toBe('bot');
    expect(forgeGitCredentials(config.forges['codeberg.org']!)).toBeUndefined();
  });

  it('keeps notification targets, their secrets apart from the repository config', () => {
    expect(config.notifications).toEqual([{ id: 'notifications[0]', url: 'https://hooks.slack.com/services/T0/B0/xyz', events: ['failed'], format: 'slack' }]);
    const [own] = config.repositoryNotifications['bitbucket.org/team/app']!;
    expect(own).toMatchObject({
      id: 'repositories.bitbucket.org/team/app.notifications[0]',
      format: 'json',
      events: ['queued', 'started', 'succeeded', 'failed', 'canceled'],
    });
    expect(own!.secret!.reveal()).toBe('hook-secret');
    expect(JSON.stringify(config.repositories)).not.toMatch(/hook-secret/);
  });

  it.each([
    [
      'a host key whose host is not under forges',
      'repositories:\n  gitlab.example.com/a/b: {image: x/y}\n',
      /repositories\.gitlab\.example\.com\/a\/b: names host gitlab\.example\.com, which is not under forges:/,
    ],
    [
      'a Bitbucket key with a nested path',
      'forges: {bitbucket.org: {type: bitbucket}}\nrepositories:\n  bitbucket.org/a/b/c: {image: x/y}\n',
      /is not a bitbucket repository/,
    ],
    ['a GitLab key with no project', 'forges: {gitlab.com: {type: gitlab}}\nrepositories:\n  gitlab.com/group: {image: x/y}\n', /is not a gitlab repository/],
    ['an unknown forge type', 'forges: {git.example.com: {type: gogs}}\n', /forges\.git\.example\.com\.type: must be one of gitlab, bitbucket, gitea, forgejo/],
    ['a forge keyed by URL', 'forges: {"https://gitlab.com": {type: gitlab}}\n', /must be a host name/],
    [
      'an unknown notification event',
      'notifications: [{url: "https://x.example/h", events: [pushed]}]\n',
      /notifications\[0\]\.events\[0\]: must be one of queued, started, succeeded, failed, canceled/,
    ],
  ])('%s is a one-line error naming the key', (_name, yaml, message) => {
    const run = () => parseConfig(yaml, {}, 'autobuild.yml');
    expect(run).toThrow(UserError);
    expect(run).toThrow(message);
  });
});

describe('build status requests per forge', () => {
  const input = {
    path: 'group/sub/app',
    sha: 'a'.repeat(40),
    context: 'autobuild/registry.example.com/gl/app',
    targetUrl: 'http://ab/#/builds/1',
    description: 'queued',
  };
  it.each([
    [
      'gitlab',
      'https://gitlab.com/api/v4',
      'pending',
      'https://gitlab.com/api/v4/projects/group%2Fsub%2Fapp/statuses/' + 'a'.repeat(40),
      { state: 'pending', name: input.context },
    ],
    ['gitlab', 'https://gitlab.com/api/v4', 'failure', 'https://gitlab.com/api/v4/projects/group%2Fsub%2Fapp/statuses/' + 'a'.repeat(40), { state: 'failed' }],
    [
      'bitbucket',
      'https://api.bitbucket.org/2.0',
      'success',
      `https://api.bitbucket.org/2.0/repositories/group/sub/app/commit/${'a'.repeat(40)}/statuses/build`,
      { state: 'SUCCESSFUL', name: input.context, url: input.targetUrl },
    ],
    [
      'bitbucket',
      'https://api.bitbucket.org/2.0',
      'pending',
      `https://api.bitbucket.org/2.0/repositories/group/sub/app/commit/${'a'.repeat(40)}/statuses/build`,
      { state: 'INPROGRESS' },
    ],
    [
      'gitea',
      'https://git.example.com/api/v1/',
      'error',
      `https://git.example.com/api/v1/repos/group/sub/app/statuses/${'a'.repeat(40)}`,
      { state: 'error', context: input.context },
    ],
  ] as const)('%s %s %s', (type, apiUrl, state, url, body) => {
    const req = statusRequest(type, { ...input, apiUrl, state });
    expect(req.url).toBe(url);
    expect(req.body).toMatchObject(body);
  });

  it('a Bitbucket status key stays within 40 characters and differs per image', () => {
    const a = statusRequest('bitbucket', { ...input, apiUrl: 'https://x', state: 'pending' }).body.key!;
    const b = statusRequest('bitbucket', { ...input, context: 'autobuild/registry.example.com/gl/other', apiUrl: 'https://x', state: 'pending' }).body.key!;
    expect(a.length).toBeLessThanOrEqual(40);
    expect(a).not.toBe(b);
  });
});
