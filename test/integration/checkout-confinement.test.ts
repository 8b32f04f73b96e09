// A repository's Dockerfile and context are its own files: a symlink committed in the
// repository that points out of the checkout is refused before the engine reads anything.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { runBuild } from '../../src/pipeline/pipeline.js';
import type { PlannedBuild } from '../../src/core/types.js';
import { rejection } from '../support/expect-failure.js';
import { makeFixtureRepo, tempDir, type Fixture } from '../support/engines.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
let fixture: Fixture;
let workRoot: string;
let sha: string;

beforeAll(() => {
  fixture = makeFixtureRepo();
  workRoot = tempDir('confine');
  symlinkSync('/etc/passwd', join(fixture.dir, 'Dockerfile.host'));
  mkdirSync(join(fixture.dir, 'sub'));
  symlinkSync('/etc', join(fixture.dir, 'sub', 'ctx'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: fixture.dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('add', '-A');
  git('commit', '-q', '-m', 'links out of the checkout');
  sha = git('rev-parse', 'HEAD');
});

afterAll(() => {
  fixture?.cleanup();
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
});

function build(over: Partial<PlannedBuild>): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: 'refs/heads/main',
    sha,
    images: ['127.0.0.1:5999/octo/app'],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags: ['edge'],
    refs: ['127.0.0.1:5999/octo/app:edge'],
    push: false,
    trusted: true,
    tagInfo: [{ tag: 'edge', kind: 'moving' }],
    ...over,
  };
}

describe('a checkout whose Dockerfile or context leads outside it', () => {
  const rows = [
    {
      name: 'a Dockerfile that is a symlink to /etc/passwd',
      over: { dockerfile: 'Dockerfile.host' },
      message: /^the Dockerfile Dockerfile.host leads outside the repository's checkout \(to \/etc\/passwd\)/,
    },
    {
      name: 'a context that is a symlink to /etc',
      over: { context: 'sub/ctx', dockerfile: 'passwd' },
      message: /^the context sub\/ctx leads outside the repository's checkout \(to \/etc\)/,
    },
  ];
  for (const row of rows) {
    it(`refuses ${row.name}, showing nothing of the host file`, async () => {
      const log = collectingSink();
      const err = await rejection(
        runBuild({ build: build(row.over), source: { cloneUrl: fixture.url, sha }, workRoot, builder: 'docker', registries: {}, log }),
      );
      expect(err.message).toMatch(row.message);
      expect(err.message).not.toContain('\n');
      expect(log.lines.join('\n')).not.toMatch(/root:x:0:0/);
    });
  }
});
