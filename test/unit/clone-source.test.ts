import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { Secret } from '../../src/core/secret.js';
import { cloneSource } from '../../src/service/clone-source.js';

// Where the worker clones from and with which credentials: decided from its own configuration,
// the forge's token only for that forge's host over https.

const config = parseConfig(
  `
github: {token: ghs-token}
forges:
  gitlab.com: {type: gitlab, token: glpat-token}
  bitbucket.org: {type: bitbucket, username: bot, token: app-password}
  git.example.com: {type: gitea}
repositories:
  octo-org/app: {image: ghcr.io/octo-org/app}
  gitlab.com/group/sub/app: {image: x/gl}
  bitbucket.org/team/app: {image: x/bb}
  git.example.com/owner/app: {image: x/gt}
  gitlab.com/group/mirror: {image: x/m, cloneUrl: "https://mirror.example.com/group/app.git"}
`,
  {},
  'autobuild.yml',
);

const source = (key: string, payloadUrl?: string) => cloneSource(config, key, config.repositories[key], payloadUrl);
const auth = (s: ReturnType<typeof source>) =>
  s.token === undefined ? undefined : s.token instanceof Secret ? ['token', s.token.reveal()] : [s.token.username, s.token.password.reveal()];

describe('clone source and credentials', () => {
  it.each([
    [
      'a GitLab repository: https://HOST/PATH.git, oauth2 + token',
      'gitlab.com/group/sub/app',
      'https://evil.example.com/x.git',
      'https://gitlab.com/group/sub/app.git',
      ['oauth2', 'glpat-token'],
    ],
    [
      'a Bitbucket repository: the account and its app password',
      'bitbucket.org/team/app',
      undefined,
      'https://bitbucket.org/team/app.git',
      ['bot', 'app-password'],
    ],
    ['a Gitea repository without a token clones anonymously', 'git.example.com/owner/app', undefined, 'https://git.example.com/owner/app.git', undefined],
    ['a cloneUrl on another host never gets the forge token', 'gitlab.com/group/mirror', undefined, 'https://mirror.example.com/group/app.git', undefined],
    [
      'a GitHub repository keeps the payload URL and the GitHub token',
      'octo-org/app',
      'https://github.com/octo-org/app.git',
      'https://github.com/octo-org/app.git',
      ['token', 'ghs-token'],
    ],
  ])('%s', (_name, key, payloadUrl, url, credentials) => {
    const s = source(key, payloadUrl);
    expect(s.cloneUrl).toBe(url);
    expect(auth(s)).toEqual(credentials);
  });
});
