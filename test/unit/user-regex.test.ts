import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableLinearRegExp } from '../../src/adapters/regex-engine.js';
import { UnboundedRegexError, userRegExp } from '../../src/core/user-regex.js';

// A rule's `/REGEX/` source as the entry points compile it: enableLinearRegExp() first (the CLI
// and the Action call it before reading a configuration), then userRegExp on the body. Rows say
// which patterns a user can write and which are refused, and with what.

const UNBOUNDED = /back-reference, a lookaround or a counted repeat above \{16\}/;

describe('with the linear engine on, as every entry point runs', () => {
  beforeAll(() => enableLinearRegExp());

  it.each([
    { name: 'a version pattern with groups', pattern: '^v([0-9]+)\\.([0-9]+)\\.([0-9]+)$', matches: ['v1.2.3'], misses: ['v1.2', 'x1.2.3'] },
    { name: 'a branch prefix', pattern: '^release/(.*)$', matches: ['release/1.x'], misses: ['hotfix/1'] },
    { name: 'alternatives', pattern: '^(?:main|master)$', matches: ['main', 'master'], misses: ['mainline'] },
    { name: 'classes and open repeats', pattern: '^[a-z]{3,}-\\d+$', matches: ['abc-1', 'feature-42'], misses: ['ab-1'] },
    { name: 'a counted repeat of exactly 16', pattern: '^a{16}$', matches: ['a'.repeat(16)], misses: ['a'.repeat(15)] },
    { name: 'a counted range up to 16', pattern: '^x{2,16}$', matches: ['xx', 'x'.repeat(16)], misses: ['x', 'x'.repeat(17)] },
    { name: 'word boundaries', pattern: '\\bfix\\b', matches: ['hot fix now'], misses: ['prefix'] },
    { name: 'lazy repeats', pattern: '^(.*?)-rc$', matches: ['1.0-rc'], misses: ['1.0'] },
    { name: 'the catastrophic /(a+)+$/ compiles: the engine, not the pattern, bounds it', pattern: '^(a+)+$', matches: ['aaaa'], misses: ['aaa!'] },
  ])('compiles $name', ({ pattern, matches, misses }) => {
    const re = userRegExp(pattern);
    expect(re.flags).toBe('l');
    for (const name of matches) expect(re.test(name), name).toBe(true);
    for (const name of misses) expect(re.test(name), name).toBe(false);
  });

  it('keeps capture groups for {\\1} templates', () => {
    expect(userRegExp('^v(\\d+)\\.(\\d+)$').exec('v10.4')?.slice(1)).toEqual(['10', '4']);
  });

  it('matches a 40-character hostile branch name against /(a+)+$/ at once, not in 2^40 steps', () => {
    const started = performance.now();
    expect(userRegExp('(a+)+$').test(`${'a'.repeat(40)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    { name: 'a back-reference', pattern: '^(a)\\1$' },
    { name: 'a named back-reference', pattern: '^(?<v>a)\\k<v>$' },
    { name: 'a lookahead', pattern: '^v1(?=\\.)' },
    { name: 'a negative lookahead', pattern: '^(?!main$).*' },
    { name: 'a lookbehind', pattern: '(?<=release/)\\d+' },
    { name: 'a negative lookbehind', pattern: '(?<!pre)release' },
    { name: 'a counted repeat of 17', pattern: '^a{17}$' },
    { name: 'a counted range past 16', pattern: '^.{0,100}$' },
    { name: 'nested counts multiplying past 16', pattern: '^(?:a{4}){5}$' },
    { name: 'a large fixed count', pattern: '^[0-9a-f]{40}$' },
  ])('refuses $name with UnboundedRegexError saying why', ({ pattern }) => {
    let err: unknown;
    try {
      userRegExp(pattern);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnboundedRegexError);
    expect((err as Error).message).toMatch(UNBOUNDED);
  });

  it.each([
    { name: 'an unterminated group', pattern: '^(v1' },
    { name: 'nothing to repeat', pattern: '**' },
    { name: 'an unterminated class', pattern: '[a-z' },
    { name: 'an unterminated group that also has a back-reference', pattern: '(a)\\1(' },
  ])('reports $name as an invalid pattern (SyntaxError), not as unbounded', ({ pattern }) => {
    expect(() => userRegExp(pattern)).toThrow(SyntaxError);
  });
});

describe('with the linear engine off (a library user who did not call enableLinearRegExp)', () => {
  beforeAll(() => setFlagsFromString('--no-enable-experimental-regexp-engine'));
  afterAll(() => enableLinearRegExp());

  it.each([
    { name: 'a back-reference', pattern: '^(a)\\1$', matches: 'aa' },
    { name: 'a lookahead', pattern: '^v1(?=\\.)', matches: 'v1.2' },
    { name: 'a counted repeat of 40', pattern: '^[0-9a-f]{40}$', matches: 'f'.repeat(40) },
  ])('compiles $name as an ordinary RegExp', ({ pattern, matches }) => {
    const re = userRegExp(pattern);
    expect(re.flags).toBe('');
    expect(re.test(matches)).toBe(true);
  });

  it('still reports an invalid pattern', () => {
    expect(() => userRegExp('^(v1')).toThrow(SyntaxError);
  });
});
