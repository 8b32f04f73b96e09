import { describe, expect, it } from 'vitest';
import { field, filesTouched, isZeroSha, positiveInt, str } from '../../src/core/payload-fields.js';
import { example, pushPayload } from '../support/webhook-payloads.js';

// Reading an untrusted payload: a missing or wrongly typed value reads as "not there", never as
// a crash and never as a different value. Rows start from a real push payload where they can.

const branchPush = () => pushPayload({ ref: 'refs/heads/master' });
const deletedTag = () => example('push', (p) => p.deleted === true);

/** GitHub lists at most 20 commits in a push payload (src/core/events.ts passes that limit). */
const GITHUB_LIMIT = 20;

/** The real push example's commit, repeated `n` times with its files changed per copy. */
function commits(n: number, files: (i: number) => { added?: string[]; modified?: string[]; removed?: string[] } = () => ({})) {
  const [commit] = branchPush().commits;
  return Array.from({ length: n }, (_, i) => ({ ...structuredClone(commit), added: [], modified: [], removed: [], ...files(i) }));
}

describe('str: a non-empty string or nothing', () => {
  it.each([
    { name: 'a branch name is kept', value: 'main', expected: 'main' },
    { name: 'text with spaces is kept as written', value: ' fix readme ', expected: ' fix readme ' },
    { name: 'an empty string reads as missing', value: '', expected: undefined },
    { name: 'a number is not text', value: 0, expected: undefined },
    { name: 'null (head_commit of a deleted ref) is missing', value: null, expected: undefined },
    { name: 'a list of strings is not a string', value: ['main'], expected: undefined },
    { name: 'true is not text', value: true, expected: undefined },
  ])('$name', ({ value, expected }) => {
    expect(str(value)).toBe(expected);
  });
});

describe('field: the value at a path of keys, or nothing where the path breaks', () => {
  it.each([
    { name: "the repository's full name of a real push", obj: branchPush, path: ['repository', 'full_name'], expected: 'Codertocat/Hello-World' },
    { name: 'three levels deep: the owner login', obj: branchPush, path: ['repository', 'owner', 'login'], expected: 'Codertocat' },
    { name: 'a deleted tag has head_commit null: its id is missing, not a crash', obj: deletedTag, path: ['head_commit', 'id'], expected: undefined },
    { name: 'a key the payload does not have', obj: branchPush, path: ['pull_request', 'number'], expected: undefined },
    { name: 'a list is not walked into by index (commits.0.id)', obj: branchPush, path: ['commits', '0', 'id'], expected: undefined },
    { name: 'a string is not walked into (ref.length)', obj: branchPush, path: ['ref', 'length'], expected: undefined },
    { name: 'a payload that is not an object at all', obj: () => 'push', path: ['ref'], expected: undefined },
    { name: 'a payload of null', obj: () => null, path: ['ref'], expected: undefined },
  ])('$name', ({ obj, path, expected }) => {
    expect(field(obj(), ...path)).toBe(expected);
  });

  it('no path gives the payload itself', () => {
    const p = branchPush();
    expect(field(p)).toBe(p);
  });
});

describe('positiveInt: a pull request number, a commit count', () => {
  it.each([
    { value: 1, expected: 1 },
    { value: 20, expected: 20 },
    { value: 0, expected: undefined },
    { value: -3, expected: undefined },
    { value: 1.5, expected: undefined },
    { value: '7', expected: undefined },
    { value: Number.NaN, expected: undefined },
    { value: Number.POSITIVE_INFINITY, expected: undefined },
    { value: null, expected: undefined },
  ])('$value -> $expected', ({ value, expected }) => {
    expect(positiveInt(value)).toBe(expected);
  });
});

describe('filesTouched: the files a push changed, or unknown (never "none" when unknown)', () => {
  it.each([
    { name: "the real push example's one commit: its added README.md", commits: () => branchPush().commits, expected: ['README.md'] },
    {
      name: 'added, modified and removed files all count, a file in two commits once',
      commits: () => commits(2, (i) => (i === 0 ? { added: ['a.txt'], modified: ['Dockerfile'] } : { modified: ['Dockerfile'], removed: ['old.txt'] })),
      expected: ['a.txt', 'Dockerfile', 'old.txt'],
    },
    {
      name: `${GITHUB_LIMIT - 1} commits (under the limit): the files are known`,
      commits: () => commits(GITHUB_LIMIT - 1, (i) => ({ added: [`f${i}`] })),
      expected: Array.from({ length: GITHUB_LIMIT - 1 }, (_, i) => `f${i}`),
    },
    {
      name: `${GITHUB_LIMIT} commits: GitHub may have cut the list, so unknown`,
      commits: () => commits(GITHUB_LIMIT, (i) => ({ added: [`f${i}`] })),
      expected: undefined,
    },
    { name: `${GITHUB_LIMIT + 5} commits: unknown`, commits: () => commits(GITHUB_LIMIT + 5), expected: undefined },
    {
      name: 'a new tag at an existing commit lists no commits: unknown, not "nothing touched"',
      commits: () => example('push', (p) => p.ref === 'refs/tags/simple-tag' && !p.deleted).commits,
      expected: undefined,
    },
    { name: 'no commit list at all: unknown', commits: () => undefined, expected: undefined },
    { name: 'commits that is not a list: unknown', commits: () => ({ 0: commits(1)[0] }), expected: undefined },
    {
      name: 'a commit without its file lists (a forge that omits them): unknown',
      commits: () => {
        const c = commits(2, () => ({ added: ['a'] }));
        delete (c[1] as Record<string, unknown>).modified;
        return c;
      },
      expected: undefined,
    },
    { name: 'commits that touched no file (empty lists): known and empty', commits: () => commits(2), expected: [] },
    {
      name: 'non-text entries in a file list are ignored',
      commits: () => commits(1, () => ({ added: ['ok.txt', 7, null] as string[] })),
      expected: ['ok.txt'],
    },
  ])('$name', ({ commits: list, expected }) => {
    expect(filesTouched(list(), GITHUB_LIMIT)).toEqual(expected);
  });
});

describe('isZeroSha: a ref created from or deleted to nothing', () => {
  it.each([
    { name: "the real deleted tag's `after`", sha: () => deletedTag().after, expected: true },
    { name: "a real push's commit id", sha: () => branchPush().after, expected: false },
    { name: 'a commit id that merely starts with zeros', sha: () => '0000000000000000000000000000000000000001', expected: false },
    { name: 'nothing given', sha: () => undefined, expected: false },
    { name: 'an empty string is not the zero id', sha: () => '', expected: false },
  ])('$name -> $expected', ({ sha, expected }) => {
    expect(isZeroSha(sha())).toBe(expected);
  });
});
