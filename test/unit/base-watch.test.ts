import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { baseChangeReason, watchSlot } from '../../src/service/base-watch.js';
import type { PlannedBuild } from '../../src/core/types.js';

// Which successful builds rebuild-on-base-change follows, and the words a rebuild carries.

const build = (over: Partial<PlannedBuild>): PlannedBuild => ({
  repository: 'octo-org/app',
  ref: 'refs/tags/v1.2.3',
  sha: 'a'.repeat(40),
  images: ['ghcr.io/octo-org/app'],
  context: '.',
  dockerfile: 'Dockerfile',
  buildArgs: {},
  labels: {},
  tags: ['1.2.3', 'latest'],
  refs: [],
  push: true,
  tagInfo: [],
  trusted: true,
  ...over,
});

describe('watchSlot', () => {
  it.each([
    ['the newest release (it pushed latest) fills the release slot', build({}), ['ghcr.io/octo-org/app:1.2.3', 'ghcr.io/octo-org/app:latest'], 'release'],
    ['an older release (latest held back) is not followed', build({}), ['ghcr.io/octo-org/app:1.2.3'], undefined],
    [
      'a build of the default branch follows its branch',
      build({ ref: 'refs/heads/main', tags: ['edge'], isDefaultBranch: true }),
      ['ghcr.io/octo-org/app:edge'],
      'refs/heads/main',
    ],
    ['a build of another branch is not followed', build({ ref: 'refs/heads/feature', tags: ['feature'] }), ['ghcr.io/octo-org/app:feature'], undefined],
    ['a pull request (pushes nothing) is not followed', build({ ref: 'refs/pull/7/merge', push: false }), [], undefined],
    ["a fork's build is not followed", build({ ref: 'refs/heads/main', trusted: false }), [], undefined],
  ] as const)('%s', (_name, b, pushed, slot) => {
    expect(watchSlot(b, [...pushed])).toBe(slot);
  });
});

describe('baseChangeReason', () => {
  it('reads as the contract words it', () => {
    expect(baseChangeReason('docker.io/library/alpine:3.20', 'sha256:aaa', 'sha256:bbb')).toBe(
      'base image docker.io/library/alpine:3.20 changed sha256:aaa -> sha256:bbb',
    );
  });
});

describe('autobuild.yml: rebuildOnBaseChange and baseImagePollMinutes', () => {
  const yaml = (extra: string) => `${extra}repositories:\n  octo-org/app:\n    image: ghcr.io/octo-org/app\n    rebuildOnBaseChange: true\n`;

  it('a repository opts in; the poll defaults to an hour', () => {
    const config = parseConfig(yaml(''), {}, 'autobuild.yml');
    expect(config.repositories['octo-org/app']!.rebuildOnBaseChange).toBe(true);
    expect(config.baseImagePollMinutes).toBe(60);
    expect(parseConfig(yaml('baseImagePollMinutes: 15\n'), {}, 'autobuild.yml').baseImagePollMinutes).toBe(15);
  });

  it('a poll of no minutes is refused, naming the key', () => {
    expect(() => parseConfig(yaml('baseImagePollMinutes: 0\n'), {}, 'autobuild.yml')).toThrow(/^autobuild\.yml: baseImagePollMinutes: /);
  });
});
