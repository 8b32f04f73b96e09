import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { describeIssue, fail, keyPath, type Problem, type VariableUse } from '../../src/core/config-problems.js';
import { configSchema } from '../../src/core/config-schema.js';
import { UserError } from '../../src/core/errors.js';

// How a wrong autobuild.yml is worded: the key path, the problem (with "did you mean" for a
// typo), the fix, and never a secret's value. Issues come from the real schema.

describe('keyPath: where in autobuild.yml', () => {
  it.each([
    { path: [], expected: '(top level)' },
    { path: ['server', 'port'], expected: 'server.port' },
    { path: ['repositories', 'octo-org/app', 'rules', 0, 'source'], expected: 'repositories.octo-org/app.rules[0].source' },
    { path: ['registries', 'ghcr.io', 'password'], expected: 'registries.ghcr.io.password' },
    { path: ['repositories', 'o/app', 'webhooks', 2], expected: 'repositories.o/app.webhooks[2]' },
    { path: [0], expected: '[0]' },
    { path: [1, 'source'], expected: '[1].source' },
  ])('$expected', ({ path, expected }) => {
    expect(keyPath(path)).toBe(expected);
  });
});

const noVariables = (): VariableUse => ({ paths: new Map(), values: new Set() });

/** The problems the real schema's issues become for `data`. */
function problems(data: unknown, used: VariableUse = noVariables()): { at: string; problem: string; hint?: string }[] {
  const result = configSchema.safeParse(data);
  expect(result.success, 'the row must be an invalid configuration').toBe(false);
  const issues = (result as { error: z.ZodError }).error.issues;
  return issues
    .flatMap((issue) => describeIssue(issue, data, used))
    .map((p) => ({ at: keyPath(p.path), problem: p.problem, ...(p.hint ? { hint: p.hint } : {}) }));
}

const TOP_KEYS =
  'allowed here: server, redis, dataDir, webhookSecret, apiToken, builder, concurrency, timeoutMinutes, baseImagePollMinutes, github, registries, forges, notifications, repositories, mirrors';
const repo = (extra: Record<string, unknown>) => ({ repositories: { 'o/app': { image: 'ghcr.io/o/app', ...extra } } });

describe('describeIssue: an unknown key, with "did you mean" when one is close', () => {
  it.each([
    { name: 'a typo at the top', data: { sever: {} }, expected: { at: 'sever', problem: 'unknown key', hint: `did you mean "server"? (${TOP_KEYS})` } },
    {
      name: 'a different case',
      data: { REPOSITORIES: {} },
      expected: { at: 'REPOSITORIES', problem: 'unknown key', hint: `did you mean "repositories"? (${TOP_KEYS})` },
    },
    {
      name: 'an abbreviation of 3+ letters',
      data: { repo: {} },
      expected: { at: 'repo', problem: 'unknown key', hint: `did you mean "repositories"? (${TOP_KEYS})` },
    },
    {
      name: 'nothing close: the allowed keys',
      data: { xyz: 1 },
      expected: { at: 'xyz', problem: 'unknown key', hint: `remove it or fix its spelling; ${TOP_KEYS}` },
    },
    {
      name: 'swapped letters under server',
      data: { server: { prot: 1 } },
      expected: { at: 'server.prot', problem: 'unknown key', hint: 'did you mean "port"? (allowed here: host, port, publicUrl)' },
    },
    {
      name: "inside a rule: the rule's keys",
      data: repo({ rules: [{ sourceType: 'branch', source: 'main', tag: 'x', dockerfil: 'a' }] }),
      expected: {
        at: 'repositories.o/app.rules[0].dockerfil',
        problem: 'unknown key',
        hint: 'did you mean "dockerfile"? (allowed here: sourceType, source, tag, dockerfile, context, buildArgs, autobuild, platforms, target)',
      },
    },
  ])('$name', ({ data, expected }) => {
    expect(problems(data)).toEqual([expected]);
  });
});

describe('describeIssue: a wrong value says what is expected and what was written', () => {
  it.each([
    {
      name: 'text for a number',
      data: { server: { port: 'abc' } },
      expected: { at: 'server.port', problem: 'must be a number (got text "abc")', hint: 'write a number here' },
    },
    {
      name: 'a number out of range',
      data: { server: { port: 70000 } },
      expected: { at: 'server.port', problem: 'must be at most 65535 (got number 70000)', hint: 'give a smaller value' },
    },
    {
      name: 'below the minimum',
      data: { concurrency: 0 },
      expected: { at: 'concurrency', problem: 'must be at least 1 (got number 0)', hint: 'give a larger value' },
    },
    {
      name: 'a choice not offered',
      data: { builder: 'podman' },
      expected: { at: 'builder', problem: 'must be one of docker, buildah (got text "podman")', hint: 'write one of docker | buildah' },
    },
    {
      name: 'yes for true/false',
      data: { github: { statuses: 'yes' } },
      expected: { at: 'github.statuses', problem: 'must be true or false (got text "yes")', hint: 'write true or false here' },
    },
    {
      name: 'a list for a mapping',
      data: { server: [] },
      expected: { at: 'server', problem: 'must be a mapping (key: value) (got a list)', hint: 'write a mapping (key: value) here' },
    },
    { name: 'an empty text', data: { dataDir: '' }, expected: { at: 'dataDir', problem: 'must not be empty', hint: 'write a value' } },
    {
      name: 'a missing required key',
      data: { repositories: { 'o/app': {} } },
      expected: { at: 'repositories.o/app.image', problem: 'is required', hint: 'add it' },
    },
    {
      name: 'an empty image list',
      data: repo({ image: [] }),
      expected: { at: 'repositories.o/app.image', problem: 'must list at least 1 item', hint: 'add an item' },
    },
    {
      name: 'a webhook that is not a URL',
      data: repo({ webhooks: ['not a url'] }),
      expected: {
        at: 'repositories.o/app.webhooks[0]',
        problem: 'must be a valid URL (got text "not a url")',
        hint: 'write a full URL, e.g. https://example.com/hook',
      },
    },
    {
      name: 'a long text is cut in the message',
      data: { builder: 'b'.repeat(60) },
      expected: { at: 'builder', problem: `must be one of docker, buildah (got text "${'b'.repeat(40)}...")`, hint: 'write one of docker | buildah' },
    },
  ])('$name', ({ data, expected }) => {
    expect(problems(data)).toEqual([expected]);
  });
});

describe('describeIssue never echoes a secret or a value from the environment', () => {
  it.each([
    { name: 'the API token', data: { apiToken: 12345678901234567890 }, expected: { at: 'apiToken', problem: 'must be text', hint: 'write text here' } },
    {
      name: 'a registry password',
      data: { registries: { 'ghcr.io': { password: 987654321 } } },
      expected: { at: 'registries.ghcr.io.password', problem: 'must be text', hint: 'write text here' },
    },
    {
      name: "a repository's trigger token",
      data: repo({ triggerToken: ['hunter2-token'] }),
      expected: { at: 'repositories.o/app.triggerToken', problem: 'must be text', hint: 'write text here' },
    },
  ])('$name: the type only', ({ data, expected }) => {
    expect(problems(data)).toEqual([expected]);
  });

  it('a value that came from ${VAR} is named by its variable, not shown', () => {
    const used: VariableUse = { paths: new Map([['server.port', ['APP_PORT']]]), values: new Set(['s3cr3t-port']) };
    expect(problems({ server: { port: 's3cr3t-port' } }, used)).toEqual([
      { at: 'server.port', problem: 'must be a number (got the value of ${APP_PORT})', hint: 'write a number here' },
    ]);
  });

  it('two variables in one value are both named', () => {
    const used: VariableUse = { paths: new Map([['builder', ['A', 'B']]]), values: new Set(['dock', 'erx']) };
    expect(problems({ builder: 'dockerx' }, used)[0]!.problem).toBe('must be one of docker, buildah (got the value of ${A}, ${B})');
  });
});

describe('fail: the one line a user reads', () => {
  const port: Problem = { path: ['server', 'port'], problem: 'must be a number (got text "abc")', hint: 'write a number here' };
  const builder: Problem = { path: ['builder'], problem: 'must be one of docker, buildah', hint: 'write one of docker | buildah' };

  function lineOf(run: () => never): string {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }

  it.each([
    {
      name: 'one problem: file, key path, problem, fix',
      problems: [port],
      masked: [],
      line: 'autobuild.yml: server.port: must be a number (got text "abc") — write a number here',
    },
    {
      name: 'two problems: the first, and how many more',
      problems: [port, builder],
      masked: [],
      line: 'autobuild.yml: server.port: must be a number (got text "abc") — write a number here (and 1 more problem)',
    },
    {
      name: 'three problems',
      problems: [port, builder, builder],
      masked: [],
      line: 'autobuild.yml: server.port: must be a number (got text "abc") — write a number here (and 2 more problems)',
    },
    {
      name: 'a problem without a hint',
      problems: [{ path: ['redis'], problem: 'is not a Redis URL' }],
      masked: [],
      line: 'autobuild.yml: redis: is not a Redis URL',
    },
    {
      name: 'a value from the environment inside the problem is masked',
      problems: [
        {
          path: ['repositories', 'o/app', 'cloneUrl'],
          problem: 'https://bot:tok-1234567890@git.example.com is not a clone URL',
          hint: 'write https://HOST/PATH',
        },
      ],
      masked: ['tok-1234567890'],
      line: 'autobuild.yml: repositories.o/app.cloneUrl: https://bot:***@git.example.com is not a clone URL — write https://HOST/PATH',
    },
    {
      name: 'and inside the hint',
      problems: [{ path: ['registries', 'ghcr.io'], problem: 'login refused', hint: 'check the password pa55-word-here' }],
      masked: ['pa55-word-here'],
      line: 'autobuild.yml: registries.ghcr.io: login refused — check the password ***',
    },
    {
      name: 'URL-encoded too',
      problems: [{ path: ['github', 'apiUrl'], problem: 'https://x/?t=a%2Fb%3Dc-secret is not reachable' }],
      masked: ['a/b=c-secret'],
      line: 'autobuild.yml: github.apiUrl: https://x/?t=*** is not reachable',
    },
  ])('$name', ({ problems: list, masked, line }) => {
    expect(lineOf(() => fail('autobuild.yml', list, masked))).toBe(line);
  });

  it('without a problem it is a bug (Error), not a user error', () => {
    expect(() => fail('autobuild.yml', [])).toThrow(Error);
    expect(() => fail('autobuild.yml', [])).not.toThrow(UserError);
  });
});
