// A job found in Redis is not trusted: the worker re-derives the build from its own
// configuration. Rows start from a real push payload planned with the real configuration, then
// change the queued job the way someone with write access to Redis could.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { plan } from '../../src/core/plan.js';
import { COMMIT_MESSAGE_MAX, resolveQueuedBuild, toQueuedBuild, type QueuedBuild } from '../../src/core/queued-build.js';
import { pullRequestEvent, pushEvent } from '../fixtures/events.js';
import { REPOSITORY, SHA } from '../support/webhook-payloads.js';

const env = { RELEASE_KEY: 'release-key-value-1234', NPM_TOKEN: 'npm-token-value-5678' };
const config = parseConfig(
  `
github: {apiUrl: https://api.github.com}
repositories:
  ${REPOSITORY}:
    image: registry.example.com/codertocat/hello
    buildArgs: {NPM_TOKEN: \${NPM_TOKEN}, MODE: production}
    labels: {team: octo}
    rules:
      - {sourceType: tag, source: "/^v.*/", tag: "{sourceref}", buildArgs: {RELEASE_KEY: \${RELEASE_KEY}}}
      - {sourceType: branch, source: docs, tag: docs, context: docs, dockerfile: Dockerfile.docs}
  octo-org/other:
    image: registry.example.com/octo/other
    cloneUrl: https://git.example.com/octo/other.git
`,
  env,
  'autobuild.yml',
);
const trust = { repositories: config.repositories, githubApiUrl: config.github.apiUrl };
const repo = config.repositories[REPOSITORY];

function queued(event = pushEvent({ ref: 'refs/heads/master', defaultBranch: 'master' }), index = 0): QueuedBuild {
  const build = plan({ event, repositories: config.repositories }).builds[index];
  if (!build) throw new Error('the plan has no build');
  return JSON.parse(JSON.stringify(toQueuedBuild(build, repo)));
}

describe('the queued form of a planned build', () => {
  it('carries build-arg names, never their values', () => {
    const job = queued(pushEvent({ ref: 'refs/tags/v1.2.3' }), 1);
    expect(job.buildArgs).toEqual(['MODE', 'NPM_TOKEN', 'RELEASE_KEY']);
    expect(job.rule).toBe(0);
    const text = JSON.stringify(job);
    for (const value of Object.values(env)) expect(text).not.toContain(value);
    expect(text).not.toContain('production');
  });

  it('keeps only the first few KB of a 10 MB commit message', () => {
    const build = {
      ...plan({ event: pushEvent({ ref: 'refs/heads/master', defaultBranch: 'master' }), repositories: config.repositories }).builds[0]!,
      commitMessage: 'x'.repeat(10_000_000),
    };
    const job = toQueuedBuild(build, repo);
    expect(job.commitMessage!.length).toBeLessThanOrEqual(COMMIT_MESSAGE_MAX);
    expect(job.commitMessage).toMatch(/cut: 10000000 characters/);
  });
});

describe('the worker re-derives a queued build from its own configuration', () => {
  it('a job autobuild queued comes back with the configured values', () => {
    const build = resolveQueuedBuild(queued(pushEvent({ ref: 'refs/tags/v1.2.3' }), 1), trust);
    expect(build.buildArgs).toEqual({ NPM_TOKEN: 'npm-token-value-5678', MODE: 'production', RELEASE_KEY: 'release-key-value-1234' });
    expect(build.images).toEqual(['registry.example.com/codertocat/hello']);
    expect(build.cloneUrl).toBe('https://github.com/Codertocat/Hello-World.git');
    expect(build.labels).toEqual({ team: 'octo' });
    expect(build.push).toBe(true);
  });

  it('a rule with its own context and Dockerfile is found again by its index', () => {
    const build = resolveQueuedBuild(queued(pushEvent({ ref: 'refs/heads/docs' })), trust);
    expect(build).toMatchObject({ context: 'docs', dockerfile: 'Dockerfile.docs', tags: ['docs'] });
  });

  it('a job that does not say it is trusted is not (no login, no hooks, no push)', () => {
    const { trusted: _trusted, ...job } = queued();
    expect(resolveQueuedBuild(queued(), trust).trusted).toBe(true);
    expect(resolveQueuedBuild(job, trust).trusted).toBe(false);
  });

  it('a pull request never pushes, whatever the job says', () => {
    const job = { ...queued(pullRequestEvent({ number: 7 })), push: true };
    expect(resolveQueuedBuild(job, trust).push).toBe(false);
  });

  const refused: { name: string; change: (job: QueuedBuild) => unknown; message: RegExp }[] = [
    {
      name: 'an unconfigured repository with a foreign clone URL',
      change: (j) => ({ ...j, repository: 'evil/app', cloneUrl: 'https://evil.example.com/app.git' }),
      message: /repository "evil\/app" is not configured here/,
    },
    {
      name: 'a configured repository with a foreign clone URL',
      change: (j) => ({ ...j, cloneUrl: 'https://evil.example.com/hello.git' }),
      message: /clone URL "https:\/\/evil.example.com\/hello.git" is not the one configured for Codertocat\/Hello-World/,
    },
    {
      name: 'a repository with a configured cloneUrl, asked to clone another',
      change: (j) => ({ ...j, repository: 'octo-org/other', images: ['registry.example.com/octo/other'], cloneUrl: 'https://github.com/octo-org/other.git' }),
      message: /is not the one configured for octo-org\/other/,
    },
    {
      name: 'images that are not the configured ones',
      change: (j) => ({ ...j, images: ['registry.example.com/someone/else'] }),
      message: /images .* are not the ones configured/,
    },
    { name: 'a context that is not the configured one', change: (j) => ({ ...j, context: '../..' }), message: /context "..\/.." is not the configured "."/ },
    {
      name: 'a Dockerfile that is not the configured one',
      change: (j) => ({ ...j, dockerfile: '/etc/passwd' }),
      message: /dockerfile "\/etc\/passwd" is not the configured "Dockerfile"/,
    },
    {
      name: 'build args the configuration does not have',
      change: (j) => ({ ...j, buildArgs: ['MODE', 'NPM_TOKEN', 'RELEASE_KEY'] }),
      message: /build args are not the configured ones/,
    },
    {
      name: "a rule's settings for a ref the rule does not build",
      change: (j) => ({ ...j, rule: 0, buildArgs: ['MODE', 'NPM_TOKEN', 'RELEASE_KEY'] }),
      message: /rules\[0\] .* did not match/,
    },
    { name: 'a rule that does not exist', change: (j) => ({ ...j, rule: 9 }), message: /rules\[9\] does not exist/ },
    { name: 'a tag that is not a tag name', change: (j) => ({ ...j, tags: ['edge', 'a b'] }), message: /tags are missing or not valid/ },
    {
      name: 'a ref that is not a branch, tag or pull request',
      change: (j) => ({ ...j, ref: 'refs/remotes/x' }),
      message: /is not a branch, tag or pull request/,
    },
    { name: 'a short commit sha', change: (j) => ({ ...j, sha: SHA.slice(0, 7) }), message: /is not a full commit sha/ },
    { name: 'no build at all', change: () => 'rm -rf /', message: /the job carries no build/ },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}`, () => {
      let error: unknown;
      try {
        resolveQueuedBuild(row.change(queued()), trust);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/^refused a queued build: /);
      expect((error as Error).message).toMatch(row.message);
      expect((error as Error).message).not.toContain('\n');
    });
  }
});
