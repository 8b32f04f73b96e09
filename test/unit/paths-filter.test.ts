import { describe, expect, it } from 'vitest';
import { filterPaths } from '../../src/core/paths-filter.js';

describe('paths filter', () => {
  const rows: { name: string; paths: string[]; files: string[] | undefined; build: boolean; reason?: string }[] = [
    { name: 'no globs builds every push', paths: [], files: ['README.md'], build: true },
    { name: 'a touched file under a glob builds', paths: ['src/**', 'Dockerfile'], files: ['README.md', 'src/app/main.ts'], build: true },
    { name: 'an exact file name matches', paths: ['Dockerfile'], files: ['Dockerfile'], build: true },
    { name: 'dot files match **', paths: ['**'], files: ['.github/workflows/ci.yml'], build: true },
    {
      name: 'a push touching none of the globs is skipped with the globs named',
      paths: ['src/**', 'Dockerfile'],
      files: ['README.md', 'docs/index.md'],
      build: false,
      reason: 'paths filter: the push touched only README.md, docs/index.md, none matching src/**, Dockerfile — change `paths` to build it',
    },
    {
      name: 'an excluded file does not count',
      paths: ['src/**', '!src/**/*.md'],
      files: ['src/notes.md'],
      build: false,
      reason: 'paths filter: the push touched only src/notes.md, none matching src/**, !src/**/*.md — change `paths` to build it',
    },
    { name: 'a later glob includes an excluded file again', paths: ['src/**', '!src/**/*.md', 'src/keep.md'], files: ['src/keep.md'], build: true },
    { name: 'only exclusions select every other file', paths: ['!docs/**'], files: ['src/a.ts'], build: true },
    {
      name: 'only exclusions skip a docs-only push',
      paths: ['!docs/**'],
      files: ['docs/a.md'],
      build: false,
      reason: 'paths filter: the push touched only docs/a.md, none matching !docs/** — change `paths` to build it',
    },
    { name: 'an unknown (truncated) file list builds', paths: ['src/**'], files: undefined, build: true },
    {
      name: 'a long file list is shortened in the reason',
      paths: ['src/**'],
      files: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      build: false,
      reason: 'paths filter: the push touched only a, b, c, d, e and 2 more, none matching src/** — change `paths` to build it',
    },
  ];
  it.each(rows)('$name', ({ paths, files, build, reason }) => {
    const decision = filterPaths(paths, files);
    expect(decision.build).toBe(build);
    expect(decision.reason).toBe(reason);
  });
});
