import { describe, expect, it } from 'vitest';
import { plan, type PlanInput } from '../../src/core/plan.js';
import type { BuildRule, RepositoryConfig, SourceEvent } from '../../src/core/types.js';
import { otherEvent, pingEvent, pullRequestEvent, pushEvent } from '../fixtures/events.js';
import { REPOSITORY, SHA } from '../support/webhook-payloads.js';

const IMAGE = 'registry.example.com/octo/app';

function repo(over: Partial<RepositoryConfig> = {}): RepositoryConfig {
  return {
    images: [IMAGE],
    preset: 'semver',
    rules: [],
    tags: '',
    flavor: '',
    paths: [],
    dockerfile: 'Dockerfile',
    context: '.',
    buildArgs: {},
    labels: {},
    webhooks: [],
    ...over,
  };
}

function run(event: SourceEvent, config: RepositoryConfig = repo(), existingTags: string[] = [], extra: Partial<PlanInput> = {}) {
  return plan({ event, repositories: { [REPOSITORY]: config }, existingTags, ...extra });
}

const tagPush = (name: string) => pushEvent({ ref: `refs/tags/${name}` });
const branchPush = (name: string, files?: string[] | null) => pushEvent({ ref: `refs/heads/${name}`, ...(files !== undefined ? { files } : {}) });

interface Row {
  name: string;
  event: SourceEvent;
  config?: RepositoryConfig;
  existing?: string[];
  manual?: boolean;
  /** Tags of each build, in push order. */
  builds: string[][];
  skipped?: string[];
}

function check(row: Row) {
  const result = run(row.event, row.config, row.existing, row.manual ? { manual: true } : {});
  expect(result.builds.map((b) => b.tags)).toEqual(row.builds);
  expect(result.skipped.map((s) => s.reason)).toEqual(row.skipped ?? []);
  for (const b of result.builds) {
    expect(b.refs).toEqual(b.tags.flatMap((t) => b.images.map((i) => `${i}:${t}`)));
    expect(b.tagInfo.map((t) => t.tag)).toEqual(b.tags);
  }
}

describe('preset semver (the default)', () => {
  const rows: Row[] = [
    { name: 'a release tag gets version, minor, major and latest', event: tagPush('v1.2.3'), builds: [['1.2.3', '1.2', '1', 'latest']] },
    { name: 'a tag without v reads the same', event: tagPush('1.2.3'), builds: [['1.2.3', '1.2', '1', 'latest']] },
    {
      name: 'a backport after a newer major gets no latest',
      event: tagPush('v1.2.9'),
      existing: ['1.2.8', '1.2', '1', '2.0.0', '2.0', '2', 'latest'],
      builds: [['1.2.9', '1.2', '1']],
      skipped: ['latest stays on 2.0.0: 1.2.9 is lower (already in the registry)'],
    },
    { name: '1.2.10 moves past 1.2.9', event: tagPush('v1.2.10'), existing: ['1.2.9'], builds: [['1.2.10', '1.2', '1', 'latest']] },
    {
      name: '1.2.9 does not move back from 1.2.10',
      event: tagPush('v1.2.9'),
      existing: ['1.2.10'],
      builds: [['1.2.9']],
      skipped: [
        '1.2 stays on 1.2.10: 1.2.9 is lower (already in the registry)',
        '1 stays on 1.2.10: 1.2.9 is lower (already in the registry)',
        'latest stays on 1.2.10: 1.2.9 is lower (already in the registry)',
      ],
    },
    { name: 'a prerelease gets only its own tag', event: tagPush('v1.3.0-rc.1'), existing: ['1.2.0'], builds: [['1.3.0-rc.1']] },
    {
      name: 'a prerelease in the registry never blocks a release',
      event: tagPush('v1.2.3'),
      existing: ['2.0.0-rc.1'],
      builds: [['1.2.3', '1.2', '1', 'latest']],
    },
    { name: 'a 0.x release gets 0.1 and 0', event: tagPush('v0.1.2'), builds: [['0.1.2', '0.1', '0', 'latest']] },
    { name: 'a tag that is not semver gets its sanitised name', event: tagPush('release/2024+spring'), builds: [['release-2024-spring']] },
    { name: 'the default branch gets edge', event: branchPush('master'), existing: ['9.9.9'], builds: [['edge']] },
    {
      name: 'another branch builds nothing and says so',
      event: branchPush('feature/login'),
      builds: [],
      skipped: [
        'preset semver builds only the default branch ("master") and tags, not branch "feature/login" — add a rule with sourceType: branch to build it',
      ],
    },
  ];
  it.each(rows)('$name', check);

  it('builds the release with the plan fields filled in', () => {
    const event = pushEvent({ ref: 'refs/tags/v1.2.3', defaultBranch: 'main' });
    const [build] = run(event, repo({ images: [IMAGE, 'ghcr.io/octo/app'], labels: { team: 'a' }, buildArgs: { A: '1' } })).builds;
    expect(build).toEqual({
      repository: REPOSITORY,
      ref: 'refs/tags/v1.2.3',
      sha: SHA,
      images: [IMAGE, 'ghcr.io/octo/app'],
      context: '.',
      dockerfile: 'Dockerfile',
      buildArgs: { A: '1' },
      labels: { team: 'a' },
      tags: ['1.2.3', '1.2', '1', 'latest'],
      refs: [
        `${IMAGE}:1.2.3`,
        'ghcr.io/octo/app:1.2.3',
        `${IMAGE}:1.2`,
        'ghcr.io/octo/app:1.2',
        `${IMAGE}:1`,
        'ghcr.io/octo/app:1',
        `${IMAGE}:latest`,
        'ghcr.io/octo/app:latest',
      ],
      push: true,
      trusted: true,
      tagInfo: [
        { tag: '1.2.3', kind: 'immutable', version: '1.2.3' },
        { tag: '1.2', kind: 'moving', version: '1.2.3', scope: 'minor' },
        { tag: '1', kind: 'moving', version: '1.2.3', scope: 'major' },
        { tag: 'latest', kind: 'latest', version: '1.2.3', scope: 'all' },
      ],
      version: '1.2.3',
      cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
      commitMessage: 'Initial commit',
    });
  });

  it('an annotated tag builds the commit it points at, not the tag object', () => {
    const event = pushEvent({ ref: 'refs/tags/v1.2.3', sha: 'a'.repeat(40), annotatedTagObject: 'b'.repeat(40) });
    expect(run(event).builds.map((b) => b.sha)).toEqual(['a'.repeat(40)]);
  });

  it('the configured cloneUrl wins over the payload', () => {
    const [build] = run(tagPush('v1.0.0'), repo({ cloneUrl: 'https://git.example.com/app.git' })).builds;
    expect(build?.cloneUrl).toBe('https://git.example.com/app.git');
  });
});

const rule = (r: Partial<BuildRule> & Pick<BuildRule, 'sourceType' | 'source'>): BuildRule => ({ tag: '', ...r });

describe('Docker Hub rules', () => {
  const longBranch = `feature/${'x'.repeat(292)}`;
  const rows: Row[] = [
    {
      name: 'a regex rule fills its groups into the tag',
      event: tagPush('release-1.4'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'tag', source: '/release-([0-9]+)\\.([0-9]+)/', tag: 'v{\\1}-{\\2}-{sourceref}' })] }),
      builds: [['v1-4-release-1.4']],
    },
    {
      name: 'an unanchored regex must still match the whole name, and the reason says so',
      event: branchPush('release-1.4-hotfix'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: '/release-[0-9.]+/', tag: '{sourceref}' })] }),
      builds: [],
      skipped: [
        'rules[0] (branch /release-[0-9.]+/) did not match: /release-[0-9.]+/ matches only "release-1.4" of branch "release-1.4-hotfix"; a regex source must match the whole name — widen it, e.g. /.*release-[0-9.]+.*/',
      ],
    },
    {
      name: 'a regex that matches nothing says so',
      event: branchPush('main'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: '/dev-.*/' })] }),
      builds: [],
      skipped: ['rules[0] (branch /dev-.*/) did not match: /dev-.*/ does not match branch "main"'],
    },
    {
      name: 'a branch rule does not match a tag, and says why',
      event: tagPush('v1.0.0'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'master', tag: 'latest' })] }),
      builds: [],
      skipped: ['rules[0] (branch master) did not match: the push is a tag, the rule is for branches (sourceType: branch)'],
    },
    {
      name: 'an exact name that differs is named',
      event: branchPush('develop'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'dev', tag: 'dev' })] }),
      builds: [],
      skipped: ['rules[0] (branch dev) did not match: branch "develop" is not "dev" (an exact name; write /REGEX/ to match several)'],
    },
    {
      name: 'an empty tag template means {sourceref}',
      event: branchPush('develop'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'develop' })] }),
      builds: [['develop']],
    },
    {
      name: 'rules are added to the preset and agreeing ones merge into one build',
      event: tagPush('v2.1.0'),
      config: repo({ rules: [rule({ sourceType: 'tag', source: '/v.*/', tag: 'stable' }), rule({ sourceType: 'tag', source: '/v(.*)/', tag: '{\\1}' })] }),
      builds: [['2.1.0', 'stable', '2.1', '2', 'latest']],
    },
    {
      name: 'a rule with another dockerfile is a build of its own',
      event: branchPush('master'),
      config: repo({ rules: [rule({ sourceType: 'branch', source: 'master', tag: 'alpine', dockerfile: 'Dockerfile.alpine' })] }),
      builds: [['edge'], ['alpine']],
    },
    {
      name: 'a hostile branch name becomes a harmless tag',
      // Git refuses spaces in ref names, so a shell payload reaches us with ${IFS} instead.
      event: branchPush('$(curl${IFS}evil)/`rm${IFS}-rf`;x'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: '/.*/', tag: '{sourceref}' })] }),
      builds: [['curl-IFS-evil-rm-IFS--rf-x']],
    },
    {
      name: 'a 300-character branch name is cut to a 128-character tag',
      event: branchPush(longBranch),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: '/feature/(.*)/', tag: '{sourceref}' })] }),
      builds: [[`feature-${'x'.repeat(120)}`]],
    },
    {
      name: 'a tag that sanitises to nothing is dropped with a reason',
      event: branchPush('main'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'main', tag: '---' })] }),
      builds: [],
      skipped: ['rules[0] (branch main): tag "---" has no characters a tag may hold, so it was dropped'],
    },
    {
      name: 'a rule with autobuild off does not build on push',
      event: branchPush('main'),
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'main', tag: 'nightly', autobuild: false })] }),
      builds: [],
      skipped: [
        'rules[0] (branch main) did not match: autobuild is off for this rule, so it builds only on a Docker Hub remote trigger (set autobuild: true to build on push)',
      ],
    },
    {
      name: 'a rule with autobuild off builds on a remote trigger',
      event: branchPush('main'),
      manual: true,
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'branch', source: 'main', tag: 'nightly', autobuild: false })] }),
      builds: [['nightly']],
    },
    {
      name: "a rule's latest on an old release does not move latest back",
      event: tagPush('v1.0.1'),
      existing: ['1.1.0'],
      config: repo({ preset: 'none', rules: [rule({ sourceType: 'tag', source: '/v.*/', tag: '{sourceref},latest' })] }),
      builds: [['v1.0.1']],
      skipped: ['latest stays on 1.1.0: 1.0.1 is lower (already in the registry)'],
    },
    {
      name: 'preset none with no rules says nothing builds',
      event: branchPush('master'),
      config: repo({ preset: 'none' }),
      builds: [],
      skipped: ['preset none and no rules: nothing builds branch "master" — add a rule or choose preset semver or dockerhub'],
    },
  ];
  it.each(rows)('$name', check);

  it("a rule's dockerfile, context and build args override the repository's", () => {
    const config = repo({
      preset: 'none',
      buildArgs: { A: '1', B: '1' },
      rules: [rule({ sourceType: 'branch', source: 'master', tag: 'x', dockerfile: 'x/Dockerfile', context: 'x', buildArgs: { B: '2' } })],
    });
    const [build] = run(branchPush('master'), config).builds;
    expect([build?.dockerfile, build?.context, build?.buildArgs]).toEqual(['x/Dockerfile', 'x', { A: '1', B: '2' }]);
  });

  it('rules with the same build args in another order still merge', () => {
    const config = repo({
      preset: 'none',
      rules: [
        rule({ sourceType: 'branch', source: 'master', tag: 'a', buildArgs: { X: '1', Y: '2' } }),
        rule({ sourceType: 'branch', source: 'master', tag: 'b', buildArgs: { Y: '2', X: '1' } }),
        rule({ sourceType: 'branch', source: 'master', tag: 'c', buildArgs: { X: '2', Y: '2' } }),
      ],
    });
    expect(run(branchPush('master'), config).builds.map((b) => b.tags)).toEqual([['a', 'b'], ['c']]);
  });
});

describe('preset dockerhub', () => {
  const rows: Row[] = [
    { name: 'the default branch gets latest', event: branchPush('master'), config: repo({ preset: 'dockerhub' }), existing: ['9.0.0'], builds: [['latest']] },
    { name: 'a git tag gets its own name', event: tagPush('v1.2.3'), config: repo({ preset: 'dockerhub' }), builds: [['v1.2.3']] },
    {
      name: 'another branch builds nothing and says so',
      event: branchPush('dev'),
      config: repo({ preset: 'dockerhub' }),
      builds: [],
      skipped: ['preset dockerhub builds only the default branch ("master") and tags, not branch "dev" — add a rule with sourceType: branch to build it'],
    },
  ];
  it.each(rows)('$name', check);
});

describe('several images', () => {
  it('every image gets every tag, tag by tag', () => {
    const [build] = run(branchPush('master'), repo({ images: ['a.example.com/x', 'b.example.com/y', 'docker.io/library/z'] })).builds;
    expect(build?.refs).toEqual(['a.example.com/x:edge', 'b.example.com/y:edge', 'docker.io/library/z:edge']);
  });
});

describe('paths filter', () => {
  const rows: Row[] = [
    { name: 'a push touching a selected file builds', event: branchPush('master', ['src/app.ts']), config: repo({ paths: ['src/**'] }), builds: [['edge']] },
    {
      name: 'a push touching none is skipped naming the globs',
      event: branchPush('master', ['docs/a.md']),
      config: repo({ paths: ['src/**', 'Dockerfile'] }),
      builds: [],
      skipped: ['paths filter: the push touched only docs/a.md, none matching src/**, Dockerfile — change `paths` to build it'],
    },
    { name: 'an unknown file list (truncated) builds', event: branchPush('master', null), config: repo({ paths: ['src/**'] }), builds: [['edge']] },
    {
      name: 'a tag push ignores paths',
      event: pushEvent({ ref: 'refs/tags/v1.0.0', files: ['docs/a.md'] }),
      config: repo({ paths: ['src/**'] }),
      builds: [['1.0.0', '1.0', '1', 'latest']],
    },
  ];
  it.each(rows)('$name', check);
});

describe('events that build nothing or build without pushing', () => {
  const rows: Row[] = [
    { name: 'ping', event: pingEvent(), builds: [], skipped: ['ping: GitHub is checking the webhook; there is nothing to build'] },
    {
      name: 'an unconfigured repository names the key to add',
      event: pushEvent({ ref: 'refs/heads/master', repository: 'someone/else' }),
      builds: [],
      skipped: ['repository someone/else is not configured — add it under repositories: in autobuild.yml (repositories.someone/else.image)'],
    },
    {
      name: 'repository names match whatever their case',
      event: pushEvent({ ref: 'refs/heads/master', repository: 'CODERTOCAT/hello-world' }),
      builds: [['edge']],
    },
    {
      name: 'a deleted branch builds nothing',
      event: pushEvent({ ref: 'refs/heads/old', deleted: true }),
      builds: [],
      skipped: ['branch "old" was deleted; nothing to build'],
    },
    {
      name: 'a deleted tag builds nothing',
      event: pushEvent({ ref: 'refs/tags/v1.0.0', deleted: true }),
      builds: [],
      skipped: ['tag "v1.0.0" was deleted; nothing to build'],
    },
    {
      name: 'a closed pull request is not built',
      event: pullRequestEvent({ action: 'closed' }),
      builds: [],
      skipped: ['pull_request action "closed" is not built — only opened, synchronize, reopened are'],
    },
    {
      name: 'an issues event is not built',
      event: otherEvent('issues'),
      builds: [],
      skipped: ['event "issues" (action edited) is not built — only push and pull_request are'],
    },
    { name: 'a pull request builds pr-<number>', event: pullRequestEvent({ number: 7 }), builds: [['pr-7']] },
    {
      name: 'a pull request with preset none still builds pr-<number>',
      event: pullRequestEvent({ number: 7 }),
      config: repo({ preset: 'none' }),
      builds: [['pr-7']],
    },
    {
      name: 'a pull request with tags lines but no event=pr line is not built',
      event: pullRequestEvent({ number: 7 }),
      config: repo({ tags: 'type=ref,event=branch' }),
      builds: [],
      skipped: ['tags: no line gives a tag for pull request #7 — add type=ref,event=pr'],
    },
    {
      name: 'a pull request with type=ref,event=pr gets pr-<number>',
      event: pullRequestEvent({ number: 7 }),
      config: repo({ tags: 'type=ref,event=pr' }),
      builds: [['pr-7']],
    },
  ];
  it.each(rows)('$name', check);

  it('pull request builds are never pushed', () => {
    expect(run(pullRequestEvent({ number: 7 })).builds.map((b) => b.push)).toEqual([false]);
  });

  it.each([
    { name: 'a push', event: pushEvent({ ref: 'refs/heads/master' }), trusted: true, push: true },
    { name: 'a same-repository pull request (built, not pushed)', event: pullRequestEvent({ number: 7 }), trusted: true, push: false },
    { name: "a fork's pull request", event: pullRequestEvent({ number: 7, headRepository: 'mallory/Hello-World' }), trusted: false, push: false },
    { name: 'a pull request from a deleted fork', event: pullRequestEvent({ number: 7, headRepository: null }), trusted: false, push: false },
  ])('the plan carries trust to the build: $name', ({ event, trusted, push }) => {
    expect(run(event).builds.map((b) => ({ trusted: b.trusted, push: b.push }))).toEqual([{ trusted, push }]);
  });
});

describe('metadata-action tags and flavor in the plan', () => {
  const tags = ['type=ref,event=branch', 'type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}', 'type=sha'].join('\n');
  const rows: Row[] = [
    {
      name: 'a release tag gets version, minor, sha and latest in push order',
      event: tagPush('v1.2.3'),
      config: repo({ tags }),
      builds: [['1.2.3', 'sha-6113728', '1.2', 'latest']],
    },
    {
      name: 'an old release gets no latest or minor past the registry',
      event: tagPush('v1.2.3'),
      existing: ['1.3.0', '1.2.4'],
      config: repo({ tags }),
      builds: [['1.2.3', 'sha-6113728']],
      skipped: ['1.2 stays on 1.2.4: 1.2.3 is lower (already in the registry)', 'latest stays on 1.3.0: 1.2.3 is lower (already in the registry)'],
    },
    {
      name: 'a flavor suffix is compared only with registry tags of the same suffix',
      event: tagPush('v1.2.3'),
      existing: ['2.0.0-alpine', '1.3.0'],
      config: repo({ tags: 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}', flavor: 'suffix=-alpine,onlatest=true' }),
      builds: [['1.2.3-alpine', '1-alpine']],
      skipped: ['latest-alpine stays on 2.0.0-alpine: 1.2.3 is lower (already in the registry)'],
    },
    {
      name: 'tags lines replace the preset and rules',
      event: branchPush('master'),
      config: repo({ tags, rules: [rule({ sourceType: 'branch', source: 'master', tag: 'x' })] }),
      builds: [['sha-6113728', 'master']],
    },
  ];
  it.each(rows)('$name', check);

  it('a bad tags line is a user error naming it', () => {
    expect(() => run(branchPush('master'), repo({ tags: 'type=foo' }))).toThrow(/tags line "type=foo": unknown type "foo"/);
  });
});

describe('a flavor with no tags lines applies to the preset and the rules', () => {
  const devRule: BuildRule = { sourceType: 'branch', source: 'dev', tag: 'dev' };
  const rows: Row[] = [
    {
      name: 'a suffix goes on every preset tag but latest',
      event: tagPush('v1.2.3'),
      config: repo({ flavor: 'suffix=-slim' }),
      builds: [['1.2.3-slim', '1.2-slim', '1-slim', 'latest']],
    },
    {
      name: 'onlatest=true puts it on latest too',
      event: tagPush('v1.2.3'),
      config: repo({ flavor: 'prefix=app-,onlatest=true' }),
      builds: [['app-1.2.3', 'app-1.2', 'app-1', 'app-latest']],
    },
    { name: 'latest=false drops latest', event: tagPush('v1.2.3'), config: repo({ flavor: 'latest=false' }), builds: [['1.2.3', '1.2', '1']] },
    {
      name: 'latest=true adds latest to the default branch',
      event: branchPush('master'),
      config: repo({ flavor: 'latest=true' }),
      builds: [['edge', 'latest']],
    },
    {
      name: 'latest=true adds nothing to a prerelease build that has no tags',
      event: branchPush('feature'),
      config: repo({ flavor: 'latest=true' }),
      builds: [],
      skipped: ['preset semver builds only the default branch ("master") and tags, not branch "feature" — add a rule with sourceType: branch to build it'],
    },
    {
      name: "a rule's tags get the suffix",
      event: branchPush('dev'),
      config: repo({ preset: 'none', rules: [devRule], flavor: 'suffix=-slim' }),
      builds: [['dev-slim']],
    },
    {
      name: 'a suffixed moving tag still never moves backward',
      event: tagPush('v1.2.9'),
      config: repo({ flavor: 'suffix=-slim' }),
      existing: ['2.0.0-slim', '2.0-slim', '2-slim', 'latest'],
      builds: [['1.2.9-slim', '1.2-slim', '1-slim']],
      skipped: ['latest stays on 2.0.0-slim: 1.2.9 is lower (already in the registry)'],
    },
    { name: "a pull request's tag gets the prefix", event: pullRequestEvent({ number: 7 }), config: repo({ flavor: 'prefix=ci-' }), builds: [['ci-pr-7']] },
    {
      name: 'with tags lines too, latest of a suffixed flavor never goes below that family',
      event: tagPush('v1.2.9'),
      config: repo({ tags: 'type=semver,pattern={{version}}', flavor: 'suffix=-slim' }),
      existing: ['2.0.0-slim', 'latest'],
      builds: [['1.2.9-slim']],
      skipped: ['latest stays on 2.0.0-slim: 1.2.9 is lower (already in the registry)'],
    },
  ];
  it.each(rows)('$name', check);
});

describe('a build says whether it is of the default branch (rebuild on base change follows those)', () => {
  it.each([
    { name: 'the default branch', event: branchPush('master'), config: repo(), flag: true },
    {
      name: 'another branch a rule builds',
      event: branchPush('dev'),
      config: repo({ rules: [{ sourceType: 'branch', source: 'dev', tag: 'dev' }] }),
      flag: undefined,
    },
    { name: 'a tag', event: tagPush('v1.0.0'), config: repo(), flag: undefined },
  ])('$name', ({ event, config, flag }) => {
    expect(run(event, config).builds[0]?.isDefaultBranch).toBe(flag);
  });
});
