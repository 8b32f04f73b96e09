// The Action's pure pieces as tables: reading inputs, the step's outputs, and the job summary's
// rows and `latest` sentence. Builds come from the real planner over real payloads.
import { describe, expect, it } from 'vitest';
import { parseKeyValues, parseOptionalBoolean, parseRules, splitList } from '../../src/action/inputs.js';
import { actionOutputs } from '../../src/action/outputs.js';
import { latestDecision, refRows } from '../../src/action/summary.js';
import type { BuildResult } from '../../src/pipeline/pipeline.js';
import { plan } from '../../src/core/plan.js';
import type { PlannedBuild, RepositoryConfig } from '../../src/core/types.js';
import { pullRequestEvent, pushEvent } from '../fixtures/events.js';
import { REPOSITORY } from '../support/webhook-payloads.js';
import { repositoryConfig } from '../../src/core/plan-inputs.js';

const IMAGE = 'ghcr.io/octo/app';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const IMAGE_ID = `sha256:${'e'.repeat(64)}`;

const config: RepositoryConfig = repositoryConfig({ images: [IMAGE] });

function planned(ref: string, existingTags: string[] = []): PlannedBuild {
  const build = plan({ event: pushEvent({ ref }), repositories: { [REPOSITORY]: config }, existingTags }).builds[0];
  if (!build) throw new Error(`no build for ${ref}`);
  return build;
}

function result(build: PlannedBuild, over: Partial<BuildResult> = {}): BuildResult {
  return { images: build.images, tags: build.tags, refs: build.refs, digest: DIGEST, imageId: IMAGE_ID, pushed: build.refs, held: [], ...over } as BuildResult;
}

describe('inputs', () => {
  it.each([
    { text: 'a, b\nc\n# comment\n\n d ', commas: true, list: ['a', 'b', 'c', 'd'] },
    { text: 'a, b\nc', commas: false, list: ['a, b', 'c'] },
  ])('splitList($text, commas=$commas)', ({ text, commas, list }) => {
    expect(splitList(text, commas)).toEqual(list);
  });

  it.each([
    { text: 'A=1\nB=x=y\nC=', values: { A: '1', B: 'x=y', C: '' } },
    { text: '', values: {} },
  ])('parseKeyValues keeps everything after the first = ($text)', ({ text, values }) => {
    expect(parseKeyValues('build-args', text)).toEqual(values);
  });

  it.each([
    { input: 'build-args', text: 'VERSION', error: 'input `build-args`: line "VERSION" is not KEY=VALUE — write one KEY=VALUE per line under `build-args:`' },
    { input: 'labels', text: '=x', error: 'input `labels`: line "=x" is not KEY=VALUE — write one KEY=VALUE per line under `labels:`' },
  ])('parseKeyValues refuses $text', ({ input, text, error }) => {
    expect(() => parseKeyValues(input, text)).toThrow(error);
  });

  it.each([
    { text: '', value: undefined },
    { text: 'true', value: true },
    { text: ' FALSE ', value: false },
  ])('parseOptionalBoolean($text)', ({ text, value }) => {
    expect(parseOptionalBoolean('push', text)).toBe(value);
  });

  it('parseOptionalBoolean refuses anything else', () => {
    expect(() => parseOptionalBoolean('push', 'yes')).toThrow('input `push` is "yes", not a boolean — set `push:` to true or false, or leave it empty');
  });

  it('rules are read with the same schema as autobuild.yml', () => {
    expect(parseRules('- {sourceType: tag, source: "/^v(.*)$/", tag: "{\\\\1}"}')).toEqual([{ sourceType: 'tag', source: '/^v(.*)$/', tag: '{\\1}' }]);
    expect(parseRules('  ')).toEqual([]);
  });

  it.each([
    { text: 'sourceType: tag', error: 'input `rules` is not a YAML list' },
    {
      text: '- {sourceType: commit, source: main, tag: x}',
      error: 'input `rules[0].sourceType`: must be one of branch, tag (got text "commit") — write one of branch | tag',
    },
    { text: '- {sourceType: tag, source: v1, tag: x}\n- {sourceType: tag, tag: y}', error: 'input `rules[1].source`: is required — add it: text' },
    { text: '- {sourceType: tag, source: v1, tag: x, dockerfil: D}', error: 'input `rules[0].dockerfil`: unknown key — did you mean "dockerfile"?' },
    { text: '- [unclosed', error: 'input `rules` is not valid YAML' },
  ])('rules: $error', ({ text, error }) => {
    expect(() => parseRules(text)).toThrow(error);
  });
});

describe('outputs', () => {
  it('a release: tags in push order, the version, the digest and the build document', () => {
    const build = planned('refs/tags/v1.2.3');
    const out = actionOutputs([{ build, result: result(build) }]);
    expect(out.tags.split('\n')).toEqual(['1.2.3', '1.2', '1', 'latest'].map((t) => `${IMAGE}:${t}`));
    expect(out.version).toBe('1.2.3');
    expect(out.digest).toBe(DIGEST);
    expect(out.imageid).toBe(IMAGE_ID);
    expect(JSON.parse(out.json)).toMatchObject({ images: [IMAGE], digest: DIGEST, imageId: IMAGE_ID, pushed: build.refs });
    expect(JSON.parse(out.json)).not.toHaveProperty('held');
  });

  it('a pull request lists the refs it tagged locally, and has no version', () => {
    const event = pullRequestEvent({ number: 9 });
    const build = plan({ event, repositories: { [REPOSITORY]: config } }).builds[0]!;
    const out = actionOutputs([{ build, result: result(build, { pushed: [] }) }]);
    expect(out.tags).toBe(`${IMAGE}:pr-9`);
    expect(out.version).toBe('');
  });

  it('no build: every output is empty', () => {
    const out = actionOutputs([]);
    expect(out).toMatchObject({ tags: '', version: '', digest: '', imageid: '', json: '[]' });
    for (const value of Object.values(out)) expect(['', '[]']).toContain(value);
  });
});

describe('summary', () => {
  it('rows say pushed, held, not pushed or failed for each ref', () => {
    const build = planned('refs/tags/v1.2.3');
    const held = { ref: `${IMAGE}:latest`, reason: 'latest stays on 2.0.0: 1.2.3 is lower' };
    const rows = refRows({ build, result: result(build, { pushed: build.refs.slice(0, 3), held: [held] }) });
    expect(rows.map((r) => r.status)).toEqual(['pushed', 'pushed', 'pushed', `held: ${held.reason}`]);
    expect(refRows({ build }).map((r) => r.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(refRows({ build: { ...build, push: false }, result: result(build, { pushed: [] }) })[0]!.status).toBe('built, not pushed');
  });

  it.each([
    {
      name: 'latest pushed',
      ref: 'refs/tags/v1.2.3',
      existing: [],
      pushed: true,
      sentence: 'latest pushed last, after every other tag: 1.2.3 is the highest version in the registry.',
    },
    {
      name: 'latest dropped at planning by a higher version',
      ref: 'refs/tags/v1.2.9',
      existing: ['2.0.0', 'latest'],
      pushed: true,
      sentence: 'latest held: latest stays on 2.0.0: 1.2.9 is lower.',
    },
    { name: 'a prerelease', ref: 'refs/tags/v1.3.0-rc.1', existing: [], pushed: true, sentence: 'latest not moved: 1.3.0-rc.1 is a prerelease.' },
    {
      name: 'a branch build',
      ref: 'refs/heads/master',
      existing: [],
      pushed: true,
      sentence: 'latest not moved: the refs/heads/master build does not ask for it (preset, rules or tags).',
    },
    { name: 'a failed build', ref: 'refs/tags/v1.2.3', existing: [], pushed: false, sentence: 'latest was planned but not pushed: the build failed first.' },
  ])('latest: $name', ({ ref, existing, pushed, sentence }) => {
    const build = planned(ref, existing);
    expect(latestDecision({ build, ...(pushed ? { result: result(build) } : {}) }, existing)).toBe(sentence);
  });
});
