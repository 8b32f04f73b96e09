import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { parseImagesInput } from '../../src/core/metadata-images.js';

// The Action's `images` input, pasted from a docker/metadata-action step: which image names a
// user gets. The first rows are metadata-action's own __tests__/image.test.ts rows (its
// src/image.ts Transform, with the input read as its context.ts does: lines, `#` comments);
// the rest are cases its tests do not have, checked against its code.

describe('images that metadata-action accepts give the same enabled names', () => {
  it.each([
    // metadata-action __tests__/image.test.ts
    { name: 'one bare name', input: 'name/foo', expected: ['name/foo'] },
    { name: 'the older one-line list form', input: 'name/foo,name/bar', expected: ['name/foo', 'name/bar'] },
    { name: 'one name a line', input: 'name/foo\nname/bar', expected: ['name/foo', 'name/bar'] },
    {
      name: 'name= and enable= attributes; a disabled image is left out; case kept as written',
      input: 'name=name/bar\nname/foo,enable=false\nname=ghcr.io/UserName/Foo,enable=true',
      expected: ['name/bar', 'ghcr.io/UserName/Foo'],
    },
    {
      // Listed as invalid in metadata-action's table, but that row cannot fail there (its catch
      // swallows the failed expect); Transform itself returns name/bar: the last name wins.
      name: 'a bare name then name= on one line: the last name wins, as metadata-action does',
      input: 'name/foo,name=name/bar,enable=true',
      expected: ['name/bar'],
    },
    // Beyond its tests: the input as metadata-action's getInputList reads it.
    { name: 'nothing at all', input: '', expected: [] },
    {
      name: 'blank lines and # comment lines are skipped',
      input: '\n# staging registry\nghcr.io/o/app\n\n   # docker hub\nocto/app\n',
      expected: ['ghcr.io/o/app', 'octo/app'],
    },
    { name: 'Windows line ends and surrounding spaces', input: '  ghcr.io/o/app  \r\n\tocto/app\r\n', expected: ['ghcr.io/o/app', 'octo/app'] },
    { name: 'spaces around commas and = in a line', input: 'name = ghcr.io/o/app , enable = true', expected: ['ghcr.io/o/app'] },
    {
      name: 'attribute names in any case (metadata-action lowercases the key)',
      input: 'NAME=ghcr.io/o/app,Enable=true\nName=octo/app,ENABLE=false',
      expected: ['ghcr.io/o/app'],
    },
    { name: 'every line disabled gives no names (the Action then says so)', input: 'name=ghcr.io/o/app,enable=false\nocto/app,enable=false', expected: [] },
    {
      name: 'a stray comma in the one-line list adds no empty name (metadata-action would keep an empty one: a deliberate difference)',
      input: 'ghcr.io/o/app,,octo/app,',
      expected: ['ghcr.io/o/app', 'octo/app'],
    },
    { name: 'a double-quoted name is unquoted (CSV)', input: '"ghcr.io/o/app",enable=true', expected: ['ghcr.io/o/app'] },
    {
      name: 'two bare names on a line among several lines: the last one, as metadata-action reads it',
      input: 'ghcr.io/o/app,octo/app\nquay.io/o/app',
      expected: ['octo/app', 'quay.io/o/app'],
    },
    { name: 'a # inside a line is not a comment (metadata-action: commentNoInfix)', input: 'ghcr.io/o/app # prod', expected: ['ghcr.io/o/app # prod'] },
  ])('$name', ({ input, expected }) => {
    expect(parseImagesInput(input)).toEqual(expected);
  });
});

describe('images that metadata-action refuses: one line naming the line, what is wrong and the fix', () => {
  it.each([
    // metadata-action __tests__/image.test.ts
    {
      name: 'value= is not an images attribute',
      input: 'value=name/foo',
      error: /^images line "value=name\/foo": unknown attribute "value" — write name=IMAGE/,
    },
    {
      name: 'enable= something else than true/false',
      input: 'name/foo,enable=bar',
      error: /^images line "name\/foo,enable=bar": enable=bar is not true or false — write enable=true or enable=false$/,
    },
    { name: 'an unknown attribute', input: 'name/foo,bar=baz', error: /^images line "name\/foo,bar=baz": unknown attribute "bar"/ },
    { name: 'an empty name=', input: 'name=,enable=true', error: /^images line "name=,enable=true": has no image name — write name=ghcr.io\/owner\/app/ },
    // Beyond its tests, each checked against its Transform:
    { name: 'enable=TRUE (metadata-action compares case-sensitively)', input: 'name=ghcr.io/o/app,enable=TRUE', error: /enable=TRUE is not true or false/ },
    { name: 'only enable=, no name', input: 'enable=false', error: /^images line "enable=false": has no image name/ },
    { name: 'a trailing comma after name= blanks the name, as in metadata-action', input: 'name=ghcr.io/o/app,enable=false,', error: /has no image name/ },
    {
      name: 'the bad line among good ones is the one named',
      input: 'ghcr.io/o/app\nname=octo/app,tag=v1\nquay.io/o/app',
      error: /^images line "name=octo\/app,tag=v1": unknown attribute "tag"/,
    },
  ])('$name', ({ input, error }) => {
    let err: unknown;
    try {
      parseImagesInput(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(error);
    expect((err as Error).message).not.toContain('\n');
  });
});
