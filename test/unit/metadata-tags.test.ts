import { describe, expect, it } from 'vitest';
import { parseFlavor } from '../../src/core/metadata-flavor.js';
import { evaluateTags, parseTags } from '../../src/core/metadata-tags.js';
import type { BuildableEvent } from '../../src/core/types.js';
import { buildable, pullRequestEvent, pushEvent } from '../fixtures/events.js';
import { SHA } from '../support/webhook-payloads.js';

const tagPush = (name: string) => buildable(pushEvent({ ref: `refs/tags/${name}` }));
const branchPush = (name: string) => buildable(pushEvent({ ref: `refs/heads/${name}` }));
const lines = (...l: string[]) => l.join('\n');

// The docker/metadata-action README's semver example (without type=schedule).
const README_SEMVER = lines(
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=semver,pattern={{major}}',
  'type=sha',
);

interface Row {
  name: string;
  event: BuildableEvent;
  tags: string;
  flavor?: string;
  /** Tags in metadata-action's own output order. */
  expected: string[];
}

describe('the same lines give the same tags as docker/metadata-action', () => {
  const rows: Row[] = [
    { name: 'README semver: a push to master', event: branchPush('master'), tags: README_SEMVER, expected: ['master', 'sha-6113728'] },
    { name: 'README semver: a release tag', event: tagPush('v1.2.3'), tags: README_SEMVER, expected: ['1.2.3', '1.2', '1', 'sha-6113728', 'latest'] },
    {
      name: 'README semver: a prerelease gives only its version',
      event: tagPush('v2.0.8-beta.67'),
      tags: README_SEMVER,
      expected: ['2.0.8-beta.67', 'sha-6113728'],
    },
    { name: 'README semver: a pull request', event: buildable(pullRequestEvent({ number: 2 })), tags: README_SEMVER, expected: ['pr-2', 'sha-ec26c3e'] },
    {
      name: 'semver {{major}} of a 0.x release is 0',
      event: tagPush('v0.1.2'),
      tags: lines('type=semver,pattern={{major}}.{{minor}}', 'type=semver,pattern={{major}}'),
      expected: ['0.1', '0', 'latest'],
    },
    { name: 'semver {{raw}} keeps the v', event: tagPush('v1.1.1'), tags: 'type=semver,pattern={{raw}}', expected: ['v1.1.1', 'latest'] },
    {
      name: 'semver {{raw}} of a prerelease keeps it as written',
      event: tagPush('v2.0.8-beta.67'),
      tags: 'type=semver,pattern={{raw}}',
      expected: ['v2.0.8-beta.67'],
    },
    {
      name: 'semver {{major}}.{{minor}}.{{patch}}',
      event: tagPush('v1.2.3+build'),
      tags: 'type=semver,pattern={{major}}.{{minor}}.{{patch}}',
      expected: ['1.2.3', 'latest'],
    },
    {
      name: 'semver value= works on a branch push',
      event: branchPush('master'),
      tags: 'type=semver,pattern={{version}},value=v1.0.0',
      expected: ['1.0.0', 'latest'],
    },
    { name: 'semver of a tag that is not a version gives nothing', event: tagPush('release'), tags: 'type=semver,pattern={{version}}', expected: [] },
    { name: 'semver on a branch gives nothing', event: branchPush('master'), tags: 'type=semver,pattern={{version}}', expected: [] },
    { name: 'ref event=tag gives the tag name and latest', event: tagPush('v1.1.1'), tags: 'type=ref,event=tag', expected: ['v1.1.1', 'latest'] },
    { name: 'ref event=branch sanitising is left to the plan', event: branchPush('feature/a'), tags: 'type=ref,event=branch', expected: ['feature/a'] },
    { name: 'edge on the default branch', event: branchPush('master'), tags: 'type=edge', expected: ['edge'] },
    { name: 'edge with branch= on that branch', event: branchPush('dev'), tags: 'type=edge,branch=dev', expected: ['edge'] },
    { name: 'edge with branch= on another branch gives nothing', event: branchPush('master'), tags: 'type=edge,branch=dev', expected: [] },
    { name: 'sha short with the default prefix', event: branchPush('master'), tags: 'type=sha', expected: ['sha-6113728'] },
    { name: 'sha format=long', event: branchPush('master'), tags: 'type=sha,format=long', expected: [`sha-${SHA}`] },
    { name: 'sha with an empty prefix', event: branchPush('master'), tags: 'type=sha,prefix=', expected: ['6113728'] },
    { name: 'sha with a {{branch}} prefix', event: branchPush('dev'), tags: 'type=sha,prefix={{branch}}-', expected: ['dev-6113728'] },
    { name: 'raw value=', event: branchPush('master'), tags: 'type=raw,value=foo', expected: ['foo'] },
    { name: 'a bare line is a raw value', event: branchPush('master'), tags: 'my-tag', expected: ['my-tag'] },
    { name: 'raw with expressions', event: branchPush('dev'), tags: 'type=raw,value={{branch}}-{{sha}}', expected: ['dev-6113728'] },
    { name: 'raw disabled with enable=false', event: branchPush('master'), tags: lines('type=raw,value=a', 'type=raw,value=b,enable=false'), expected: ['a'] },
    {
      name: 'latest only on the default branch',
      event: branchPush('master'),
      tags: 'type=raw,value=latest,enable={{is_default_branch}}',
      expected: ['latest'],
    },
    { name: 'no latest on another branch', event: branchPush('dev'), tags: 'type=raw,value=latest,enable={{is_default_branch}}', expected: [] },
    { name: 'is_not_default_branch', event: branchPush('dev'), tags: 'type=raw,value=dev-build,enable={{is_not_default_branch}}', expected: ['dev-build'] },
    {
      name: 'a higher priority line gives the main tag and decides latest',
      event: tagPush('v1.2.3'),
      tags: lines('type=semver,pattern={{version}}', 'type=raw,value=first,priority=1000'),
      expected: ['first', '1.2.3'],
    },
    {
      name: 'duplicate values appear once',
      event: tagPush('v1.2.3'),
      tags: lines('type=semver,pattern={{version}}', 'type=raw,value=1.2.3'),
      expected: ['1.2.3', 'latest'],
    },
    {
      name: 'a line prefix and suffix',
      event: tagPush('v1.2.3'),
      tags: 'type=semver,pattern={{version}},prefix=app-,suffix=-slim',
      expected: ['app-1.2.3-slim', 'latest'],
    },
    { name: 'comments and blank lines are ignored', event: branchPush('master'), tags: '# ours\n\ntype=raw,value=x\n', expected: ['x'] },
    { name: 'pull request base_ref', event: buildable(pullRequestEvent({ number: 2 })), tags: 'type=raw,value=into-{{base_ref}}', expected: ['into-master'] },
    { name: 'an empty value with a prefix still gives the prefix', event: tagPush('v1.2.3'), tags: 'type=raw,value={{branch}},prefix=x-', expected: ['x-'] },
    {
      name: 'an empty value with a prefix takes part in the latest decision',
      event: tagPush('v1.2.3'),
      tags: lines('type=raw,value={{branch}},prefix=x-,priority=1000', 'type=semver,pattern={{version}}'),
      expected: ['x-', '1.2.3'],
    },
    { name: 'an empty value with no prefix gives nothing', event: tagPush('v1.2.3'), tags: 'type=raw,value={{branch}}', expected: [] },
    {
      name: 'base_ref of a tag push is the branch it was pushed from',
      event: buildable(pushEvent({ ref: 'refs/tags/v1.2.3', baseRef: 'refs/heads/main' })),
      tags: 'type=raw,value={{base_ref}}-x',
      expected: ['main-x'],
    },
    { name: 'a trailing comma empties value=', event: branchPush('master'), tags: 'type=raw,value=foo,', expected: [] },
    { name: 'a trailing comma on a type without value= changes nothing', event: branchPush('master'), tags: 'type=sha,', expected: ['sha-6113728'] },
    { name: 'an empty field between two is a value= too', event: branchPush('master'), tags: 'type=raw,,prefix=p-', expected: ['p-'] },
    { name: 'an upper-case V is not a version for type=semver', event: tagPush('V1.2.3'), tags: 'type=semver,pattern={{version}}', expected: [] },
    { name: 'a lower-case v is', event: tagPush('v1.2.3'), tags: 'type=semver,pattern={{version}}', expected: ['1.2.3', 'latest'] },
    {
      name: 'semver match= picks the version out of the tag',
      event: tagPush('app/v2.1.0'),
      tags: 'type=semver,pattern={{major}}.{{minor}},"match=v(\\d.\\d.\\d)$"',
      expected: ['2.1', 'latest'],
    },
  ];
  it.each(rows)('$name', ({ event, tags, flavor, expected }) => {
    expect(evaluateTags(parseTags(tags), event, parseFlavor(flavor ?? '')).tags.map((t) => t.tag)).toEqual(expected);
  });
});

describe('flavor', () => {
  const rows: Row[] = [
    {
      name: 'latest=false drops latest from a release',
      event: tagPush('v1.2.3'),
      tags: 'type=semver,pattern={{version}}',
      flavor: 'latest=false',
      expected: ['1.2.3'],
    },
    {
      name: 'latest=true adds latest to a branch',
      event: branchPush('dev'),
      tags: 'type=ref,event=branch',
      flavor: 'latest=true',
      expected: ['dev', 'latest'],
    },
    {
      name: 'prefix and suffix go on every tag but latest',
      event: tagPush('v1.1.1'),
      tags: 'type=ref,event=tag',
      flavor: 'latest=true\nprefix=foo-\nsuffix=-bar',
      expected: ['foo-v1.1.1-bar', 'latest'],
    },
    {
      name: 'onlatest=true puts them on latest too',
      event: tagPush('v1.1.1'),
      tags: 'type=ref,event=tag',
      flavor: 'prefix=foo-,onlatest=true\nsuffix=-bar,onlatest=true',
      expected: ['foo-v1.1.1-bar', 'foo-latest-bar'],
    },
    { name: 'a line prefix wins over the flavor prefix', event: branchPush('master'), tags: 'type=sha', flavor: 'prefix=foo-', expected: ['sha-6113728'] },
  ];
  it.each(rows)('$name', ({ event, tags, flavor, expected }) => {
    expect(evaluateTags(parseTags(tags), event, parseFlavor(flavor ?? '')).tags.map((t) => t.tag)).toEqual(expected);
  });
});

describe('what kind each tag is, for the push order and the registry check', () => {
  it('semver lines say which versions a tag covers', () => {
    const result = evaluateTags(parseTags(README_SEMVER), tagPush('v1.2.3'), parseFlavor(''));
    expect(result.version).toBe('1.2.3');
    expect(result.tags).toEqual([
      { tag: '1.2.3', kind: 'immutable', version: '1.2.3' },
      { tag: '1.2', kind: 'moving', version: '1.2.3', scope: 'minor' },
      { tag: '1', kind: 'moving', version: '1.2.3', scope: 'major' },
      { tag: 'sha-6113728', kind: 'immutable', prefix: 'sha-' },
      { tag: 'latest', kind: 'latest', version: '1.2.3', scope: 'all' },
    ]);
  });

  it('branch tags move with every push', () => {
    const result = evaluateTags(parseTags('type=ref,event=branch\ntype=edge'), branchPush('master'), parseFlavor(''));
    expect(result.tags).toEqual([
      { tag: 'edge', kind: 'moving' },
      { tag: 'master', kind: 'moving' },
    ]);
  });
});

describe('bad lines are user errors naming the line', () => {
  const rows: { name: string; tags?: string; flavor?: string; error: string }[] = [
    { name: 'unknown type', tags: 'type=foo', error: 'tags line "type=foo": unknown type "foo" — use type=semver, ref, sha, raw, edge or match' },
    {
      name: 'unknown attribute',
      tags: 'type=sha,colour=red',
      error: 'tags line "type=sha,colour=red": unknown attribute "colour" for type=sha — use format, enable, priority, prefix, suffix',
    },
    {
      name: 'bad ref event',
      tags: 'type=ref,event=push',
      error: 'tags line "type=ref,event=push": event=push is not branch, tag or pr — write event=branch, event=tag or event=pr',
    },
    { name: 'missing ref event', tags: 'type=ref', error: 'tags line "type=ref": event= is missing — write event=branch, event=tag or event=pr' },
    { name: 'semver without pattern', tags: 'type=semver', error: 'tags line "type=semver": pattern= is missing — add e.g. pattern={{version}}' },
    {
      name: 'bad sha format',
      tags: 'type=sha,format=medium',
      error: 'tags line "type=sha,format=medium": format=medium is not short or long — write format=short or format=long',
    },
    {
      name: 'bad priority',
      tags: 'type=raw,value=a,priority=high',
      error: 'tags line "type=raw,value=a,priority=high": priority=high is not a number — write e.g. priority=500',
    },
    {
      name: 'schedule is not supported',
      tags: 'type=schedule',
      error: 'tags line "type=schedule": type=schedule is not supported by autobuild — use type=semver, ref, sha, raw, edge or match',
    },
    {
      name: 'enable that is not a boolean',
      tags: 'type=raw,value=a,enable=maybe',
      error: 'tags line "type=raw,value=a,enable=maybe": enable=maybe is not true or false — write enable=true, enable=false or enable={{is_default_branch}}',
    },
    {
      name: 'an unknown expression',
      tags: "type=raw,value={{date 'YYYYMMDD'}}",
      error:
        "tags line \"type=raw,value={{date 'YYYYMMDD'}}\": {{date 'YYYYMMDD'}} is not an expression autobuild knows — use one of {{branch}}, {{tag}}, {{sha}}, {{base_ref}}, {{is_default_branch}}, {{is_not_default_branch}}",
    },
    {
      name: 'unknown flavor entry',
      flavor: 'colour=red',
      error: 'flavor line "colour=red": unknown entry "colour" — use latest=, prefix=, suffix= or onlatest=',
    },
    {
      name: 'bad flavor latest',
      flavor: 'latest=maybe',
      error: 'flavor line "latest=maybe": latest=maybe is not auto, true or false — write latest=auto, latest=true or latest=false',
    },
    {
      name: 'flavor entry without =',
      flavor: 'latest',
      error: 'flavor line "latest": "latest" is not key=value — write latest=auto|true|false, prefix=TEXT or suffix=TEXT',
    },
    {
      name: 'a stray comma in a flavor line',
      flavor: 'latest=false,',
      error: 'flavor line "latest=false,": has an empty entry (a stray comma?) — write latest=auto|true|false, prefix=TEXT or suffix=TEXT',
    },
  ];
  it.each(rows)('$name', ({ tags, flavor, error }) => {
    expect(() => evaluateTags(parseTags(tags ?? ''), branchPush('master'), parseFlavor(flavor ?? ''))).toThrow(error);
  });
});
