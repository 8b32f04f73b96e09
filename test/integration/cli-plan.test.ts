import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgePayload } from '../fixtures/forges/index.js';
import { example as payload, tagPushPayload as tagPush } from '../support/webhook-payloads.js';

// Runs the built binary as a user would: real payloads in, exit code and output checked.

const root = resolve(import.meta.dirname, '../..');
const bin = join(root, 'bin/autobuild.js');
const work = mkdtempSync(join(tmpdir(), 'autobuild-cli-plan-'));

function file(name: string, content: string | object): string {
  const path = join(work, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const IMAGE = '127.0.0.1:5000/octo/app';
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const config = file('autobuild.yml', `repositories:\n  Codertocat/Hello-World:\n    image: ${IMAGE}\n`);

function run(args: string[], input?: string) {
  const { AUTOBUILD_CONFIG: _drop, ...env } = process.env;
  return execa('node', [bin, ...args], { cwd: work, env, extendEnv: false, reject: false, ...(input !== undefined ? { input } : {}) });
}

/** A user error: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
function expectUserError(result: Awaited<ReturnType<typeof run>>, text: RegExp) {
  expect(result.exitCode).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(text);
  expect(result.stderr).not.toMatch(/\n\s+at |Error:/);
}

beforeAll(() => {
  // test/support/global-setup.ts compiled the tree the binary runs, once for every file.
  if (!existsSync(join(root, 'build/src/cli/main.js'))) throw new Error('build/src/cli/main.js missing: run npm run build');
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('autobuild plan', () => {
  it('--help lists the commands', async () => {
    const r = await run(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\s+plan \[options\]/m);
  });

  it('plan --help lists every flag of the contract', async () => {
    const r = await run(['plan', '--help']);
    expect(r.exitCode).toBe(0);
    for (const flag of ['--payload', '--event', '--ref', '--sha', '--config', '--existing-tags', '--json']) expect(r.stdout).toContain(flag);
  });

  const rows: {
    name: string;
    args: () => string[];
    input?: () => string;
    builds: { tags: string[]; sha?: string; push?: boolean; ref?: string }[];
    skipped?: RegExp;
  }[] = [
    {
      name: 'a tag push v1.2.3 gives 1.2.3, 1.2, 1 and latest',
      args: () => ['--payload', file('tag.json', tagPush('v1.2.3'))],
      builds: [{ tags: ['1.2.3', '1.2', '1', 'latest'], sha: SHA, push: true, ref: 'refs/tags/v1.2.3' }],
    },
    {
      name: 'the payload can come on stdin',
      args: () => ['--payload', '-'],
      input: () => JSON.stringify(tagPush('v2.0.0')),
      builds: [{ tags: ['2.0.0', '2.0', '2', 'latest'] }],
    },
    {
      name: 'an annotated tag builds the commit it points at',
      args: () => {
        const p = tagPush('v1.0.0');
        p.after = 'f'.repeat(40);
        p.head_commit.id = 'c'.repeat(40);
        return ['--payload', file('annotated.json', p)];
      },
      builds: [{ tags: ['1.0.0', '1.0', '1', 'latest'], sha: 'c'.repeat(40) }],
    },
    {
      name: 'a backport below an existing 2.0.0 moves 1.2 and 1 but not latest',
      args: () => ['--payload', file('backport.json', tagPush('v1.2.9')), '--existing-tags', file('existing.txt', '2.0.0\n\n1.2.3\n  \n')],
      builds: [{ tags: ['1.2.9', '1.2', '1'] }],
    },
    {
      name: 'a push to the default branch gives edge',
      args: () => [
        '--payload',
        file(
          'branch.json',
          payload('push', (p) => p.ref === 'refs/heads/master'),
        ),
      ],
      builds: [{ tags: ['edge'], ref: 'refs/heads/master' }],
    },
    {
      name: '--ref and --sha plan any event like a push of that ref',
      args: () => [
        '--event',
        'workflow_dispatch',
        '--ref',
        'refs/tags/v3.1.0',
        '--sha',
        'a'.repeat(40),
        '--payload',
        file('dispatch.json', { repository: payload('push').repository }),
      ],
      builds: [{ tags: ['3.1.0', '3.1', '3', 'latest'], sha: 'a'.repeat(40) }],
    },
    {
      name: 'a pull request is built as pr-<number> and not pushed',
      args: () => [
        '--event',
        'pull_request',
        '--payload',
        file(
          'pr.json',
          payload('pull_request', (p) => p.action === 'opened'),
        ),
      ],
      builds: [{ tags: ['pr-2'], push: false }],
    },
    {
      name: 'a deleted branch builds nothing and says so',
      args: () => ['--payload', file('deleted.json', { ...payload('push', (p) => p.deleted), ref: 'refs/heads/old' })],
      builds: [],
      skipped: /delete/i,
    },
    {
      name: 'a closed pull request builds nothing and names the action',
      args: () => [
        '--event',
        'pull_request',
        '--payload',
        file(
          'closed.json',
          payload('pull_request', (p) => p.action === 'closed'),
        ),
      ],
      builds: [],
      skipped: /closed/,
    },
    {
      name: 'a ping builds nothing',
      args: () => ['--event', 'ping', '--payload', file('ping.json', payload('ping'))],
      builds: [],
      skipped: /ping/,
    },
    {
      name: 'an unconfigured repository builds nothing and says how to add it',
      args: () => ['--payload', file('other-repo.json', { ...tagPush('v1.0.0'), repository: { ...payload('push').repository, full_name: 'someone/else' } })],
      builds: [],
      skipped: /someone\/else is not configured/,
    },
  ];

  it.each(rows)('$name', async ({ args, input, builds, skipped }) => {
    const r = await run(['plan', '--config', config, '--json', ...args()], input?.());
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { builds: Record<string, unknown>[]; skipped: { reason: string }[] };
    expect(out.builds).toHaveLength(builds.length);
    builds.forEach((want, i) => {
      const got = out.builds[i]!;
      expect(got['tags']).toEqual(want.tags);
      expect(got['refs']).toEqual(want.tags.map((t) => `${IMAGE}:${t}`));
      expect(got).toMatchObject({ repository: 'Codertocat/Hello-World', images: [IMAGE], context: '.', dockerfile: 'Dockerfile', buildArgs: {}, labels: {} });
      expect(got['sha']).toMatch(/^[0-9a-f]{40}$/);
      if (want.sha) expect(got['sha']).toBe(want.sha);
      if (want.ref) expect(got['ref']).toBe(want.ref);
      if (want.push !== undefined) expect(got['push']).toBe(want.push);
    });
    if (skipped) expect(out.skipped.map((s) => s.reason).join('\n')).toMatch(skipped);
  });

  it('without --json the summary goes to stderr and stdout stays empty', async () => {
    const r = await run(['plan', '--config', config, '--payload', file('tag2.json', tagPush('v1.2.3'))]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${IMAGE}:1.2.3`);
    expect(r.stderr).toContain(`${IMAGE}:latest`);
  });

  it('./autobuild.yml in the working directory is used without --config', async () => {
    const r = await run(['plan', '--json', '--payload', file('tag3.json', tagPush('v4.0.0'))]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).builds[0].tags).toEqual(['4.0.0', '4.0', '4', 'latest']);
  });

  const errors: { name: string; args: () => string[]; input?: string; message: RegExp }[] = [
    {
      name: 'a config with an unknown key',
      args: () => ['--config', file('bad.yml', 'repositories:\n  o/a:\n    imag: x\n'), '--payload', file('t.json', tagPush('v1.0.0'))],
      message: /bad\.yml: repositories\.o\/a\.imag: unknown key — did you mean "image"/,
    },
    {
      name: 'a config with a bad image name',
      args: () => ['--config', file('badimg.yml', 'repositories:\n  o/a: {image: "bad image"}\n'), '--payload', file('t.json', tagPush('v1.0.0'))],
      message: /repositories\.o\/a\.image: invalid image reference "bad image"/,
    },
    {
      name: 'a payload that is not JSON',
      args: () => ['--config', config, '--payload', file('notjson.json', '{"ref":')],
      message: /--payload .*notjson\.json: not valid JSON/,
    },
    {
      name: 'a JSON payload on stdin that is not JSON',
      args: () => ['--config', config, '--payload', '-'],
      input: 'hello',
      message: /--payload stdin: not valid JSON/,
    },
    {
      name: 'a push payload without ref',
      args: () => ['--config', config, '--payload', file('noref.json', { ...tagPush('v1.0.0'), ref: undefined })],
      message: /push payload has no "ref"/,
    },
    {
      name: 'a payload file that does not exist',
      args: () => ['--config', config, '--payload', join(work, 'missing.json')],
      message: /missing\.json: cannot read it: no such file/,
    },
    {
      name: 'a config file that does not exist',
      args: () => ['--config', 'nowhere.yml', '--payload', file('t.json', tagPush('v1.0.0'))],
      message: /cannot read config file nowhere\.yml/,
    },
    { name: 'a --ref that is not a full ref', args: () => ['--config', config, '--ref', 'main', '--sha', SHA], message: /unsupported ref "main"/ },
    { name: '--ref without --sha', args: () => ['--config', config, '--ref', 'refs/heads/main'], message: /--ref was given alone/ },
    { name: 'an unknown flag', args: () => ['--payload', 'x.json', '--bogus'], message: /unknown option '--bogus'/ },
    {
      name: 'an existing-tags file that does not exist',
      args: () => ['--config', config, '--payload', file('t.json', tagPush('v1.0.0')), '--existing-tags', 'none.txt'],
      message: /--existing-tags none\.txt: cannot read it/,
    },
  ];

  it.each(errors)('$name: exit 2 with one line', async ({ args, input, message }) => {
    expectUserError(await run(['plan', ...args()], input), message);
  });
});

describe('autobuild plan --forge HOST: a GitLab, Bitbucket or Gitea payload', () => {
  const forgeConfig = file(
    'forges.yml',
    [
      'forges:',
      '  gitlab.com: {type: gitlab}',
      '  bitbucket.org: {type: bitbucket}',
      'repositories:',
      '  gitlab.com/jsmith/example: {image: registry.example.com/js/example}',
      '  bitbucket.org/cloudbeers/temp:',
      '    image: registry.example.com/cb/temp',
      '    rules: [{sourceType: branch, source: master, tag: "{sourceref}"}]',
      '',
    ].join('\n'),
  );

  it('plans a GitLab Tag Push Hook for the HOST/PATH repository, as the receiver would', async () => {
    const r = await run([
      'plan',
      '--config',
      forgeConfig,
      '--forge',
      'gitlab.com',
      '--event',
      'Tag Push Hook',
      '--payload',
      file('gl-tag.json', forgePayload('gitlab-tag-push')),
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.builds.map((b: { repository: string; refs: string[] }) => [b.repository, b.refs])).toEqual([
      [
        'gitlab.com/jsmith/example',
        [
          'registry.example.com/js/example:1.0.0',
          'registry.example.com/js/example:1.0',
          'registry.example.com/js/example:1',
          'registry.example.com/js/example:latest',
        ],
      ],
    ]);
  });

  it('plans every change of a Bitbucket push: the branch and the tag', async () => {
    const r = await run([
      'plan',
      '--config',
      forgeConfig,
      '--forge',
      'bitbucket.org',
      '--event',
      'repo:push',
      '--payload',
      file('bb.json', forgePayload('bitbucket-push-branch-and-tag')),
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).builds.map((b: { ref: string; tags: string[] }) => [b.ref, b.tags])).toEqual([
      ['refs/heads/master', ['master']],
      ['refs/tags/test', ['test']],
    ]);
  });

  it('a Bitbucket pull request named by an abbreviated head commit is skipped, saying the service looks the commit up', async () => {
    // Before, plan printed a build of the 12-hex "sha" that no checkout could use.
    const r = await run([
      'plan',
      '--config',
      forgeConfig,
      '--forge',
      'bitbucket.org',
      '--event',
      'pullrequest:created',
      '--payload',
      file('bb-pr.json', forgePayload('bitbucket-pullrequest-created-fork')),
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.builds).toEqual([]);
    expect(out.skipped).toEqual([
      {
        reason:
          "Bitbucket names pull request #3's head commit only by 1c48041a96db, and autobuild plan asks no forge API; the service looks the full id up with forges.bitbucket.org.token",
        repository: 'bitbucket.org/cloudbeers/temp',
      },
    ]);
  });

  it('a host not under forges: is a one-line error naming the configured ones', async () => {
    const r = await run(['plan', '--config', forgeConfig, '--forge', 'gitea.example.com', '--payload', file('gt.json', forgePayload('gitea-push'))]);
    expectUserError(r, /--forge gitea\.example\.com: no such host under forges: in autobuild\.yml — give one of gitlab\.com, bitbucket\.org/);
  });
});

describe('autobuild build reads its inputs as autobuild.yml and the Action do', () => {
  it('--image Octo/App is octo/app, not an error', async () => {
    const r = await run(['build', join(work, 'no-such-dir'), '--image', 'Octo/App', '--tag', 'x']);
    expectUserError(r, /^autobuild: build directory .*no-such-dir does not exist/);
  });

  it('a registry that cannot be read plans as if it had no tags, with a warning', async () => {
    const dir = mkdtempSync(join(work, 'ctx-'));
    const r = await run(['build', dir, '--image', '127.0.0.1:9/octo/app', '--ref', 'refs/tags/v1.0.0', '--sha', SHA, '--no-push']);
    expect(r.stderr).toMatch(/warning: could not list the tags of 127\.0\.0\.1:9\/octo\/app, planning as if it had none/);
    // Planning went on to the build, which stops at the missing Dockerfile.
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no Dockerfile at .*Dockerfile/);
  });
});
