import { describe, expect, it } from 'vitest';
import { familiarName, formatReference, isLoopbackDomain, normalizeImageInput, parseImageName, parseReference, withTag } from '../../src/core/references.js';
import { UserError } from '../../src/core/errors.js';

const sha256 = 'sha256:' + 'a'.repeat(64);

// Rows follow distribution/reference's reference_test.go and normalize_test.go examples.
const valid: { name: string; text: string; domain: string; path: string; tag?: string; digest?: string }[] = [
  { name: 'an official image gets docker.io/library', text: 'ubuntu', domain: 'docker.io', path: 'library/ubuntu' },
  { name: 'a user image gets docker.io', text: 'alice/app', domain: 'docker.io', path: 'alice/app' },
  { name: 'index.docker.io means docker.io', text: 'index.docker.io/alice/app', domain: 'docker.io', path: 'alice/app' },
  { name: 'docker.io with one component is an official image', text: 'docker.io/ubuntu', domain: 'docker.io', path: 'library/ubuntu' },
  { name: 'a domain with a dot', text: 'ghcr.io/octo-org/app', domain: 'ghcr.io', path: 'octo-org/app' },
  { name: 'localhost alone is a registry', text: 'localhost/x', domain: 'localhost', path: 'x' },
  { name: 'localhost with a port', text: 'localhost:5000/x', domain: 'localhost:5000', path: 'x' },
  { name: 'an IP with a port', text: '127.0.0.1:5000/alice/app:1.0', domain: '127.0.0.1:5000', path: 'alice/app', tag: '1.0' },
  { name: 'a host with a port and no dot', text: 'registry:5000/app', domain: 'registry:5000', path: 'app' },
  { name: 'an IPv6 registry', text: '[::1]:5000/app:v1', domain: '[::1]:5000', path: 'app', tag: 'v1' },
  { name: 'an IPv6 registry without port', text: '[2001:db8::1]/app', domain: '[2001:db8::1]', path: 'app' },
  { name: 'a registry domain may hold capitals', text: 'Registry.Example.COM/app', domain: 'Registry.Example.COM', path: 'app' },
  { name: 'a tag', text: 'alice/app:1.2.3', domain: 'docker.io', path: 'alice/app', tag: '1.2.3' },
  { name: 'a tag may hold capitals', text: 'alice/app:V1_RC', domain: 'docker.io', path: 'alice/app', tag: 'V1_RC' },
  { name: 'a 128-character tag', text: `app:${'t'.repeat(128)}`, domain: 'docker.io', path: 'library/app', tag: 't'.repeat(128) },
  { name: 'a digest', text: `alice/app@${sha256}`, domain: 'docker.io', path: 'alice/app', digest: sha256 },
  { name: 'tag and digest together', text: `ghcr.io/o/a:1.0@${sha256}`, domain: 'ghcr.io', path: 'o/a', tag: '1.0', digest: sha256 },
  { name: 'separators . _ __ and runs of -', text: 'alice/a.b_c__d---e', domain: 'docker.io', path: 'alice/a.b_c__d---e' },
  { name: 'a first part with a dot is a registry', text: 'a.b/c', domain: 'a.b', path: 'c' },
  { name: 'many path components', text: 'example.com/a/b/c/d', domain: 'example.com', path: 'a/b/c/d' },
  { name: 'a name of exactly 255 characters', text: `example.com/${'a'.repeat(243)}`, domain: 'example.com', path: 'a'.repeat(243) },
];

const invalid: { name: string; text: string; problem: RegExp }[] = [
  { name: 'uppercase in the path', text: 'Foo/bar', problem: /"Foo\/bar": repository name must be lowercase/ },
  { name: 'uppercase official name', text: 'Ubuntu', problem: /must be lowercase/ },
  { name: 'uppercase after a registry', text: 'localhost:5000/Foo', problem: /must be lowercase/ },
  { name: 'an empty reference', text: '', problem: /at least one component/ },
  { name: 'a leading - in a component', text: '-alice/app', problem: /invalid reference format/ },
  { name: 'a component starting with -', text: 'alice/-app', problem: /invalid reference format/ },
  { name: 'a trailing separator', text: 'alice/app-', problem: /invalid reference format/ },
  { name: 'a double dot', text: 'alice/a..b', problem: /invalid reference format/ },
  { name: 'three underscores', text: 'alice/a___b', problem: /invalid reference format/ },
  { name: 'a double slash', text: 'alice//app', problem: /invalid reference format/ },
  { name: 'a trailing slash', text: 'alice/app/', problem: /invalid reference format/ },
  { name: 'a tag over 128 characters', text: `app:${'t'.repeat(129)}`, problem: /tag is 129 characters long/ },
  { name: 'a tag starting with .', text: 'app:.x', problem: /tag ".x" must match/ },
  { name: 'an empty tag', text: 'app:', problem: /invalid/ },
  { name: 'a short sha256 digest', text: `app@sha256:${'a'.repeat(63)}`, problem: /sha256 digest must be 64 lowercase hex digits/ },
  { name: 'an unknown digest algorithm', text: `app@md5:${'a'.repeat(32)}`, problem: /unsupported digest algorithm "md5"/ },
  { name: 'a digest that is not hex', text: 'app@sha256:xyz', problem: /digest must be <algorithm>:<hex>/ },
  { name: 'a name over 255 characters', text: `example.com/${'a'.repeat(244)}`, problem: /256 characters long; at most 255/ },
  { name: 'a bare 64-hex image id', text: 'a'.repeat(64), problem: /image id, not a name/ },
  { name: 'a space', text: 'alice/my app', problem: /invalid reference format/ },
  { name: 'shell characters', text: 'alice/app;rm', problem: /invalid reference format/ },
];

describe('parseReference', () => {
  it.each(valid)('$name', ({ text, domain, path, tag, digest }) => {
    const ref = parseReference(text);
    expect(ref).toEqual({ domain, path, name: `${domain}/${path}`, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) });
  });

  it.each(invalid)('rejects $name', ({ text, problem }) => {
    let caught: unknown;
    try {
      parseReference(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as Error).message).toMatch(problem);
    expect((caught as Error).message).toContain(`invalid image reference ${JSON.stringify(text)}`);
    expect((caught as Error).message).not.toContain('\n');
  });
});

describe('parseImageName', () => {
  it('accepts a name without tag', () => {
    expect(parseImageName('ghcr.io/o/a').name).toBe('ghcr.io/o/a');
  });
  it.each(['ghcr.io/o/a:1', `ghcr.io/o/a@${sha256}`])('rejects a name with a tag or digest: %s', (text) => {
    expect(() => parseImageName(text)).toThrow(/must not include a tag or digest/);
  });
});

describe('normalizeImageInput', () => {
  const rows = [
    { name: 'lowercases the repository path', text: 'Octo-Org/App', expected: 'docker.io/octo-org/app' },
    { name: 'keeps the tag as written', text: 'GHCR.io/Octo/App:V1', expected: 'ghcr.io/octo/app:V1' },
    { name: 'a registry port is not a tag', text: 'LocalHost:5000/App', expected: 'localhost:5000/app' },
    { name: 'trims surrounding blanks', text: '  alice/app \n', expected: 'docker.io/alice/app' },
    { name: 'keeps a digest', text: `Alice/App@${sha256}`, expected: `docker.io/alice/app@${sha256}` },
  ];
  it.each(rows)('$name', ({ text, expected }) => {
    expect(formatReference(normalizeImageInput(text))).toBe(expected);
  });
  it('still rejects what lowercasing cannot fix', () => {
    expect(() => normalizeImageInput('alice/my app')).toThrow(UserError);
  });
});

describe('familiarName', () => {
  it.each([
    ['ubuntu', 'ubuntu'],
    ['docker.io/library/ubuntu', 'ubuntu'],
    ['alice/app', 'alice/app'],
    ['library/a/b', 'library/a/b'],
    ['ghcr.io/o/a', 'ghcr.io/o/a'],
    ['localhost:5000/x', 'localhost:5000/x'],
  ])('%s is shown as %s', (text, expected) => {
    expect(familiarName(parseReference(text))).toBe(expected);
  });
});

describe('withTag', () => {
  it('joins a name and a tag', () => {
    expect(withTag('ghcr.io/o/a', '1.2')).toBe('ghcr.io/o/a:1.2');
    expect(withTag('127.0.0.1:5000/o/a', 'latest')).toBe('127.0.0.1:5000/o/a:latest');
  });
});

describe('isLoopbackDomain', () => {
  it.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['127.0.0.1:5000', true],
    ['127.1.2.3', true],
    ['[::1]:5000', true],
    ['[::1]', true],
    ['docker.io', false],
    ['registry.example.com:5000', false],
    ['128.0.0.1:5000', false],
    ['127.0.0.1.example.com', false],
    ['localhost.example.com', false],
  ])('%s -> %s', (domain, expected) => {
    expect(isLoopbackDomain(domain)).toBe(expected);
  });
});
