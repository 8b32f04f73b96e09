import { describe, expect, it } from 'vitest';
import { applyRule, dockerhubPresetTags, targetsForDockerTag, type RuleSource, type RuleTarget } from '../../src/core/dockerhub-rules.js';
import { UserError } from '../../src/core/errors.js';
import type { BuildRule } from '../../src/core/types.js';

const branch = (name: string, manual = false): RuleSource => ({ refType: 'branch', name, manual });
const tag = (name: string): RuleSource => ({ refType: 'tag', name });

describe('a rule that matches gives its tags', () => {
  const rows: { name: string; rule: BuildRule; source: RuleSource; tags: string[] }[] = [
    { name: 'exact branch name', rule: { sourceType: 'branch', source: 'master', tag: 'latest' }, source: branch('master'), tags: ['latest'] },
    { name: 'empty template is {sourceref}', rule: { sourceType: 'branch', source: 'develop', tag: '' }, source: branch('develop'), tags: ['develop'] },
    {
      name: 'Docker Hub example: /^[0-9.]+$/ -> release-{sourceref}',
      rule: { sourceType: 'tag', source: '/^[0-9.]+$/', tag: 'release-{sourceref}' },
      source: tag('1.2.0'),
      tags: ['release-1.2.0'],
    },
    {
      name: 'groups fill {\\1} and {\\2}',
      rule: { sourceType: 'tag', source: '/^v([0-9]+)\\.([0-9]+)\\.[0-9]+$/', tag: '{\\1}.{\\2}' },
      source: tag('v3.4.5'),
      tags: ['3.4'],
    },
    {
      name: 'an unanchored regex matching the whole name matches',
      rule: { sourceType: 'branch', source: '/feature-.*/', tag: '{sourceref}' },
      source: branch('feature-x'),
      tags: ['feature-x'],
    },
    {
      name: 'an absent optional group is empty',
      rule: { sourceType: 'branch', source: '/main(-(.*))?/', tag: 'main{\\1}' },
      source: branch('main'),
      tags: ['main'],
    },
    {
      name: 'several tags separated by commas',
      rule: { sourceType: 'tag', source: '/v(.*)/', tag: '{\\1}, latest' },
      source: tag('v2.0.0'),
      tags: ['2.0.0', 'latest'],
    },
    {
      name: 'a manual trigger runs an autobuild:false rule',
      rule: { sourceType: 'branch', source: 'main', tag: 'nightly', autobuild: false },
      source: branch('main', true),
      tags: ['nightly'],
    },
  ];
  it.each(rows)('$name', ({ rule, source, tags }) => {
    const outcome = applyRule(rule, 0, source);
    expect(outcome.matched ? outcome.tags : outcome.reason).toEqual(tags);
  });
});

describe('a rule that does not match says why', () => {
  const rows: { name: string; rule: BuildRule; index: number; source: RuleSource; reason: string }[] = [
    {
      name: 'wrong source type',
      index: 2,
      rule: { sourceType: 'tag', source: '/.*/', tag: '{sourceref}' },
      source: branch('main'),
      reason: 'rules[2] (tag /.*/) did not match: the push is a branch, the rule is for tags (sourceType: tag)',
    },
    {
      name: 'regex matching only part of the name',
      index: 0,
      rule: { sourceType: 'tag', source: '/v[0-9]+/', tag: '{sourceref}' },
      source: tag('v1.2.3'),
      reason:
        'rules[0] (tag /v[0-9]+/) did not match: /v[0-9]+/ matches only "v1" of tag "v1.2.3"; a regex source must match the whole name — widen it, e.g. /.*v[0-9]+.*/',
    },
    {
      name: 'regex matching nothing',
      index: 1,
      rule: { sourceType: 'tag', source: '/^release-.*$/', tag: '{sourceref}' },
      source: tag('v1.2.3'),
      reason: 'rules[1] (tag /^release-.*$/) did not match: /^release-.*$/ does not match tag "v1.2.3"',
    },
    {
      name: 'exact name differs (case matters, as in git)',
      index: 0,
      rule: { sourceType: 'branch', source: 'Main', tag: 'latest' },
      source: branch('main'),
      reason: 'rules[0] (branch Main) did not match: branch "main" is not "Main" (an exact name; write /REGEX/ to match several)',
    },
    {
      name: 'autobuild off on a push',
      index: 0,
      rule: { sourceType: 'branch', source: 'main', tag: 'nightly', autobuild: false },
      source: branch('main'),
      reason:
        'rules[0] (branch main) did not match: autobuild is off for this rule, so it builds only on a Docker Hub remote trigger (set autobuild: true to build on push)',
    },
  ];
  it.each(rows)('$name', ({ rule, index, source, reason }) => {
    const outcome = applyRule(rule, index, source);
    expect(outcome.matched ? outcome.tags : outcome.reason).toBe(reason);
  });

  it('a broken regex is a user error naming the rule', () => {
    const run = () => applyRule({ sourceType: 'branch', source: '/(unclosed/', tag: '' }, 3, branch('main'));
    expect(run).toThrow(UserError);
    expect(run).toThrow(/^rules\[3\] \(branch \/\(unclosed\/\): source is not a valid regex/);
  });
});

describe('preset dockerhub', () => {
  const rows: { name: string; source: RuleSource; result: ReturnType<typeof dockerhubPresetTags> }[] = [
    { name: 'default branch -> latest', source: branch('main'), result: { tags: ['latest'] } },
    { name: 'any tag -> its name', source: tag('build-7'), result: { tags: ['build-7'] } },
    {
      name: 'another branch -> nothing, with a reason',
      source: branch('dev'),
      result: {
        reason: 'preset dockerhub builds only the default branch ("main") and tags, not branch "dev" — add a rule with sourceType: branch to build it',
      },
    },
  ];
  it.each(rows)('$name', ({ source, result }) => {
    expect(dockerhubPresetTags(source, 'main')).toEqual(result);
  });
});

describe('the remote trigger runs the rules backward: which branch or tag gives a Docker tag', () => {
  const rules: BuildRule[] = [
    { sourceType: 'branch', source: 'develop', tag: 'dev' },
    { sourceType: 'branch', source: 'stable', tag: '{sourceref}-build' },
    { sourceType: 'tag', source: '/^release-[0-9]+$/', tag: '{sourceref}' },
    { sourceType: 'tag', source: '/^v([0-9.]+)$/', tag: '{\\1}' },
    { sourceType: 'tag', source: '/[/', tag: '{sourceref}' },
  ];
  const rows: { name: string; dockerTag: string; targets: RuleTarget[] }[] = [
    { name: 'an exact rule maps its tag back to its branch', dockerTag: 'dev', targets: [{ kind: 'branch', name: 'develop' }] },
    { name: 'an exact rule with {sourceref} maps the filled template back', dockerTag: 'stable-build', targets: [{ kind: 'branch', name: 'stable' }] },
    { name: 'a regex rule tagging {sourceref} maps a tag it matches to the same name', dockerTag: 'release-7', targets: [{ kind: 'tag', name: 'release-7' }] },
    { name: 'latest comes from the default branch', dockerTag: 'latest', targets: [{ kind: 'default' }] },
    { name: 'edge comes from the default branch', dockerTag: 'edge', targets: [{ kind: 'default' }] },
    {
      name: 'a version comes from its git tag, with v first',
      dockerTag: '1.2.3',
      targets: [
        { kind: 'tag', name: 'v1.2.3' },
        { kind: 'tag', name: '1.2.3' },
      ],
    },
    {
      name: 'a regex rule with groups is not run backward (the version fallback still applies)',
      dockerTag: '2.0.0',
      targets: [
        { kind: 'tag', name: 'v2.0.0' },
        { kind: 'tag', name: '2.0.0' },
      ],
    },
    { name: 'a tag nothing produces gives nothing', dockerTag: 'nightly', targets: [] },
  ];
  it.each(rows)('$name', ({ dockerTag, targets }) => {
    expect(targetsForDockerTag(rules, dockerTag)).toEqual(targets);
  });
});
