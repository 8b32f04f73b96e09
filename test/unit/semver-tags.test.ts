import { describe, expect, it } from 'vitest';
import { classifyTag, decideTags, orderTags, semverPresetTags, tagKinds } from '../../src/core/semver-tags.js';
import type { TagInfo } from '../../src/core/types.js';

describe('semver preset tags for a git tag', () => {
  const rows: { name: string; gitTag: string; tags: string[] | undefined }[] = [
    { name: 'a v-prefixed release gets the version, minor, major and latest', gitTag: 'v1.2.3', tags: ['1.2.3', '1.2', '1', 'latest'] },
    { name: 'a bare release is read the same way', gitTag: '1.2.3', tags: ['1.2.3', '1.2', '1', 'latest'] },
    { name: 'a 0.x release gets 0.1 and 0 too, as metadata-action', gitTag: 'v0.1.2', tags: ['0.1.2', '0.1', '0', 'latest'] },
    { name: 'a prerelease gets only its version', gitTag: 'v1.3.0-rc.1', tags: ['1.3.0-rc.1'] },
    { name: 'build metadata is dropped from the version', gitTag: 'v1.2.3+build.7', tags: ['1.2.3', '1.2', '1', 'latest'] },
    { name: 'a two-part name is not a version', gitTag: 'v1.2', tags: undefined },
    { name: 'a name that is not a version gives nothing here', gitTag: 'release-2024', tags: undefined },
  ];
  it.each(rows)('$name', ({ gitTag, tags }) => {
    expect(semverPresetTags(gitTag)?.map((t) => t.tag)).toEqual(tags);
  });
});

function release(version: string): TagInfo[] {
  const tags = semverPresetTags(version);
  if (!tags) throw new Error(`test row: ${version} is not a version`);
  return tags;
}

describe('decideTags: moving tags never go backward', () => {
  const rows: { name: string; tags: TagInfo[]; existing: string[]; keep: string[]; held: string[] }[] = [
    {
      name: 'first release moves everything',
      tags: release('v1.2.3'),
      existing: [],
      keep: ['1.2.3', '1.2', '1', 'latest'],
      held: [],
    },
    {
      name: 'backport after a newer major keeps 1.2 and 1 but not latest',
      tags: release('v1.2.9'),
      existing: ['1.2.8', '2.0.0', 'latest'],
      keep: ['1.2.9', '1.2', '1'],
      held: ['latest stays on 2.0.0: 1.2.9 is lower'],
    },
    {
      name: 'old patch after a newer minor of the same major holds 1 and latest',
      tags: release('v1.2.9'),
      existing: ['1.3.0'],
      keep: ['1.2.9', '1.2'],
      held: ['1 stays on 1.3.0: 1.2.9 is lower', 'latest stays on 1.3.0: 1.2.9 is lower'],
    },
    {
      name: '1.2.10 is higher than 1.2.9 (numbers, not text)',
      tags: release('v1.2.10'),
      existing: ['1.2.9'],
      keep: ['1.2.10', '1.2', '1', 'latest'],
      held: [],
    },
    {
      name: '1.2.9 is lower than 1.2.10 (numbers, not text)',
      tags: release('v1.2.9'),
      existing: ['1.2.10'],
      keep: ['1.2.9'],
      held: ['1.2 stays on 1.2.10: 1.2.9 is lower', '1 stays on 1.2.10: 1.2.9 is lower', 'latest stays on 1.2.10: 1.2.9 is lower'],
    },
    {
      name: 'rebuilding the same version keeps its moving tags',
      tags: release('v1.2.3'),
      existing: ['1.2.3', '1.2', '1', 'latest'],
      keep: ['1.2.3', '1.2', '1', 'latest'],
      held: [],
    },
    {
      name: 'a registry prerelease never blocks a release',
      tags: release('v1.2.3'),
      existing: ['2.0.0-rc.1', '1.2.4-beta'],
      keep: ['1.2.3', '1.2', '1', 'latest'],
      held: [],
    },
    {
      name: 'non-version registry tags are ignored',
      tags: release('v1.2.3'),
      existing: ['edge', 'main', 'sha-6113728', '9.9', '99'],
      keep: ['1.2.3', '1.2', '1', 'latest'],
      held: [],
    },
    {
      name: 'v-prefixed registry tags count as versions',
      tags: release('v1.2.3'),
      existing: ['v1.4.0'],
      keep: ['1.2.3', '1.2'],
      held: ['1 stays on v1.4.0: 1.2.3 is lower', 'latest stays on v1.4.0: 1.2.3 is lower'],
    },
    {
      name: 'a prerelease build only gets its immutable tag, which always goes',
      tags: release('v1.3.0-rc.1'),
      existing: ['9.0.0'],
      keep: ['1.3.0-rc.1'],
      held: [],
    },
    {
      name: 'a moving tag without a version always moves',
      tags: [
        { tag: 'edge', kind: 'moving' },
        { tag: 'latest', kind: 'latest' },
      ],
      existing: ['9.0.0'],
      keep: ['edge', 'latest'],
      held: [],
    },
    {
      name: 'prefix and suffix are stripped from registry tags of the same family only',
      tags: [{ tag: 'latest-alpine', kind: 'latest', version: '1.2.3', scope: 'all', suffix: '-alpine' }],
      existing: ['2.0.0', '1.5.0-alpine'],
      keep: [],
      held: ['latest-alpine stays on 1.5.0-alpine: 1.2.3 is lower'],
    },
    {
      name: 'a prefixed family is not blocked by unprefixed releases',
      tags: [{ tag: 'app-latest', kind: 'latest', version: '1.2.3', scope: 'all', prefix: 'app-' }],
      existing: ['2.0.0'],
      keep: ['app-latest'],
      held: [],
    },
  ];
  it.each(rows)('$name', ({ tags, existing, keep, held }) => {
    const decided = decideTags(tags, existing);
    expect(decided.keep.map((t) => t.tag)).toEqual(keep);
    expect(decided.held.map((h) => h.reason)).toEqual(held);
  });
});

describe('classifyTag: what kind a rule or metadata tag is', () => {
  const rows: { name: string; input: Parameters<typeof classifyTag>[0]; expected: TagInfo }[] = [
    {
      name: 'latest on a release moves only forward',
      input: { tag: 'latest', version: '1.2.3', fixed: true },
      expected: { tag: 'latest', kind: 'latest', version: '1.2.3', scope: 'all' },
    },
    {
      name: 'major.minor of the release is a moving tag of minor scope',
      input: { tag: 'v1.2', version: '1.2.3', fixed: true, prefix: 'v' },
      expected: { tag: 'v1.2', kind: 'moving', version: '1.2.3', scope: 'minor', prefix: 'v' },
    },
    {
      name: 'major of the release is a moving tag of major scope',
      input: { tag: '1', version: '1.2.3', fixed: true },
      expected: { tag: '1', kind: 'moving', version: '1.2.3', scope: 'major' },
    },
    {
      name: 'the git tag name itself is immutable',
      input: { tag: 'v1.2.3', version: '1.2.3', fixed: true },
      expected: { tag: 'v1.2.3', kind: 'immutable', version: '1.2.3' },
    },
    {
      name: 'a branch tag moves with every push',
      input: { tag: 'main', fixed: false },
      expected: { tag: 'main', kind: 'moving' },
    },
    {
      name: 'latest on a branch always moves',
      input: { tag: 'latest', fixed: false },
      expected: { tag: 'latest', kind: 'latest' },
    },
  ];
  it.each(rows)('$name', ({ input, expected }) => {
    expect(classifyTag(input)).toEqual(expected);
  });
});

describe('orderTags', () => {
  it('puts immutable first, moving next and latest last, keeping order within a kind', () => {
    const ordered = orderTags([
      { tag: 'latest', kind: 'latest' },
      { tag: 'edge', kind: 'moving' },
      { tag: 'sha-1', kind: 'immutable' },
      { tag: 'main', kind: 'moving' },
      { tag: 'v1', kind: 'immutable' },
    ]);
    expect(ordered.map((t) => t.tag)).toEqual(['sha-1', 'v1', 'edge', 'main', 'latest']);
  });
});

describe('tagKinds then orderTags (tags given by hand: --tag, or a build that carries no kinds)', () => {
  const rows: { name: string; tags: string[]; planned?: TagInfo[]; pushed: string[]; kinds: TagInfo['kind'][] }[] = [
    { name: '--tag latest --tag 1.0: latest goes last, 1.0 is immutable', tags: ['latest', '1.0'], pushed: ['1.0', 'latest'], kinds: ['immutable', 'latest'] },
    { name: 'a tag given twice is pushed once', tags: ['v1', 'latest', 'v1'], pushed: ['v1', 'latest'], kinds: ['immutable', 'latest'] },
    { name: 'without latest the order given stays', tags: ['b', 'a', 'c'], pushed: ['b', 'a', 'c'], kinds: ['immutable', 'immutable', 'immutable'] },
    { name: '"Latest" is an ordinary tag', tags: ['Latest', 'x'], pushed: ['Latest', 'x'], kinds: ['immutable', 'immutable'] },
    {
      name: 'kinds the plan gave win over the guess',
      tags: ['latest', '1.2', '1.2.3'],
      planned: [
        { tag: '1.2', kind: 'moving', version: '1.2.3', scope: 'minor' },
        { tag: '1.2.3', kind: 'immutable' },
      ],
      pushed: ['1.2.3', '1.2', 'latest'],
      kinds: ['immutable', 'moving', 'latest'],
    },
  ];
  it.each(rows)('$name', ({ tags, planned, pushed, kinds }) => {
    const ordered = orderTags(tagKinds(tags, planned));
    expect(ordered.map((t) => t.tag)).toEqual(pushed);
    expect(ordered.map((t) => t.kind)).toEqual(kinds);
  });
});
