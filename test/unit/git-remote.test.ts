import { describe, expect, it } from 'vitest';
import { parseLsRemote } from '../../src/adapters/git-remote.js';

// `git ls-remote --symref URL HEAD refs/...` output as git prints it: tab-separated, a symref
// line for HEAD, and for an annotated tag the tag object followed by its peeled `^{}` commit.
const A = '1111111111111111111111111111111111111111';
const B = '2222222222222222222222222222222222222222';
const C = '3333333333333333333333333333333333333333';
const SHA256 = 'a'.repeat(64);

describe('git ls-remote output becomes refs and the default branch', () => {
  const rows: { name: string; stdout: string; refs: Record<string, string>; head?: string }[] = [
    {
      name: 'HEAD as a symref names the default branch',
      stdout: `ref: refs/heads/main\tHEAD\n${A}\tHEAD\n${A}\trefs/heads/main\n`,
      refs: { HEAD: A, 'refs/heads/main': A },
      head: 'refs/heads/main',
    },
    {
      name: 'an annotated tag resolves to the commit it points at',
      stdout: `${B}\trefs/tags/v1.0.0\n${C}\trefs/tags/v1.0.0^{}\n`,
      refs: { 'refs/tags/v1.0.0': C },
    },
    { name: 'the peeled line wins whichever comes first', stdout: `${C}\trefs/tags/v1.0.0^{}\n${B}\trefs/tags/v1.0.0\n`, refs: { 'refs/tags/v1.0.0': C } },
    { name: 'a lightweight tag is its commit', stdout: `${A}\trefs/tags/v0.1\n`, refs: { 'refs/tags/v0.1': A } },
    { name: 'sha256 repositories work too', stdout: `${SHA256}\trefs/heads/main\n`, refs: { 'refs/heads/main': SHA256 } },
    { name: 'a repository with no HEAD (empty) gives no default branch', stdout: '', refs: {} },
    {
      name: 'warnings and junk lines are skipped',
      stdout: `warning: redirecting to https://example.com/\nnot a ref line\n${A}\trefs/heads/x\n`,
      refs: { 'refs/heads/x': A },
    },
  ];
  it.each(rows)('$name', ({ stdout, refs, head }) => {
    const parsed = parseLsRemote(stdout);
    expect(Object.fromEntries(parsed.refs)).toEqual(refs);
    expect(parsed.head).toBe(head);
  });
});
