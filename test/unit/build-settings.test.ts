// Build options as users write them in autobuild.yml, on the command line and in a pasted
// docker/build-push-action step: one table per parser, and the config keys end to end.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultCache, mountedSecrets, parseCacheSpec, parsePlatforms, parseSecretFlag, withSettings } from '../../src/core/build-settings.js';
import { parseConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { indexPlatforms, manifestList } from '../../src/core/image-index.js';
import { registriesConf } from '../../src/core/mirrors.js';
import { emulatorFor, runsTargetBinaries } from '../../src/core/emulation.js';
import { eventFromRef } from '../../src/core/events.js';
import { plan } from '../../src/core/plan.js';

describe('parsePlatforms', () => {
  it.each([
    ['linux/amd64,linux/arm64', ['linux/amd64', 'linux/arm64']],
    [' linux/amd64 , linux/arm/v7 ', ['linux/amd64', 'linux/arm/v7']],
    [
      ['linux/amd64', 'linux/arm64,linux/amd64'],
      ['linux/amd64', 'linux/arm64'],
    ],
  ])('%j -> %j', (input, expected) => {
    expect(parsePlatforms(input, '--platform')).toEqual(expected);
  });
  it.each(['amd64', 'linux/AMD64', 'linux/amd64/v8/x'])('%j is refused with an example', (input) => {
    expect(() => parsePlatforms(input, '--platform')).toThrow(
      /--platform: .* is not a platform — write os\/arch\[\/variant\], e\.g\. linux\/amd64,linux\/arm64/,
    );
  });
});

describe('parseCacheSpec (build-push-action cache-from/cache-to)', () => {
  it.each([
    ['type=registry,ref=ghcr.io/o/app:buildcache', { type: 'registry', ref: 'ghcr.io/o/app:buildcache' }],
    ['type=registry,ref=ghcr.io/o/app:buildcache,mode=max', { type: 'registry', ref: 'ghcr.io/o/app:buildcache', mode: 'max' }],
    ['ghcr.io/o/app:cache', { type: 'registry', ref: 'ghcr.io/o/app:cache' }],
    ['type=inline', { type: 'inline' }],
  ])('%s', (line, expected) => {
    expect(parseCacheSpec(line, 'cacheTo')).toEqual(expected);
  });
  it.each([
    ['type=gha', /cache type "gha" is not supported — use type=registry/],
    ['type=registry', /has no ref=/],
    ['type=registry,ref=ghcr.io/o/app:x,mode=all', /mode=all is not min or max/],
    ['type=registry,ref=Not An Image', /is not an image reference/],
  ])('%s is refused', (line, message) => {
    expect(() => parseCacheSpec(line, 'cacheTo')).toThrow(message);
  });
  it("the service default is a repository beside the first image, so its tags stay the user's", () => {
    expect(defaultCache(['127.0.0.1:5000/octo/app', 'ghcr.io/o/app'])).toEqual({
      cacheFrom: ['type=registry,ref=127.0.0.1:5000/octo/app-buildcache'],
      cacheTo: ['type=registry,ref=127.0.0.1:5000/octo/app-buildcache,mode=max'],
    });
  });
});

describe('parseSecretFlag (--secret)', () => {
  it.each([
    ['id=tok,env=NPM_TOKEN', { id: 'tok', env: 'NPM_TOKEN' }],
    ['id=tok,src=/run/tok', { id: 'tok', src: '/run/tok' }],
    ['id=tok,source=/run/tok', { id: 'tok', src: '/run/tok' }],
    ['id=NPM_TOKEN', { id: 'NPM_TOKEN', env: 'NPM_TOKEN' }],
  ])('%s', (text, expected) => {
    expect(parseSecretFlag(text)).toEqual(expected);
  });
  it.each(['env=X', 'id=a b', 'id=x,env=A,src=/f'])('%s is refused', (text) => {
    expect(() => parseSecretFlag(text)).toThrow(UserError);
  });
});

describe('mountedSecrets', () => {
  it('finds every secret mount, by id or by target, and required=false', () => {
    const dockerfile = [
      'FROM scratch',
      'RUN --mount=type=secret,id=tok cat /run/secrets/tok',
      'RUN --mount=type=secret,target=/run/secrets/npmrc --mount=type=cache,target=/c true',
      'RUN --mount=type=secret,id=opt,required=false true',
    ].join('\n');
    expect(mountedSecrets(dockerfile)).toEqual([
      { id: 'tok', required: true },
      { id: 'npmrc', required: true },
      { id: 'opt', required: false },
    ]);
  });
});

describe('image index', () => {
  it('a manifest list round-trips each platform with its digest', () => {
    const bytes = manifestList([
      {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: `sha256:${'a'.repeat(64)}`,
        size: 1,
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 1,
        platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      },
    ]);
    expect(indexPlatforms(bytes)).toEqual([
      { platform: 'linux/amd64', digest: `sha256:${'a'.repeat(64)}` },
      { platform: 'linux/arm/v7', digest: `sha256:${'b'.repeat(64)}` },
    ]);
  });
  it('attestation entries (unknown/unknown) are not platforms', () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        manifests: [
          { digest: 'sha256:1', platform: { os: 'linux', architecture: 'arm64' } },
          { digest: 'sha256:2', platform: { os: 'unknown', architecture: 'unknown' } },
        ],
      }),
    );
    expect(indexPlatforms(bytes)).toEqual([{ platform: 'linux/arm64', digest: 'sha256:1' }]);
  });
});

describe('registriesConf (mirrors for buildah)', () => {
  it('puts each mirror before its registry, plain HTTP where the URL or a loopback host says so', () => {
    const text = registriesConf({ mirrors: { 'docker.io': ['https://mirror.example.com', 'http://127.0.0.1:5001'] }, insecureHosts: ['127.0.0.1:5000'] });
    expect(text).toContain(
      '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n\n[[registry.mirror]]\nlocation = "mirror.example.com"\n\n[[registry.mirror]]\nlocation = "127.0.0.1:5001"\ninsecure = true',
    );
    expect(text).toContain('[[registry]]\nprefix = "127.0.0.1:5000"\nlocation = "127.0.0.1:5000"\ninsecure = true');
    expect(text).toContain('unqualified-search-registries = ["docker.io"]');
  });
});

describe('autobuild.yml build options', () => {
  const env = { NPM_TOKEN: 'npm-secret-value-123' };
  const yaml = `
mirrors:
  docker.io: [https://mirror.example.com]
repositories:
  octo/app:
    image: ghcr.io/octo/app
    platforms: linux/amd64,linux/arm64
    target: runtime
    pull: true
    noCache: true
    cacheFrom: type=registry,ref=ghcr.io/octo/app:buildcache
    cacheTo:
      - type=registry,ref=ghcr.io/octo/app:buildcache,mode=max
    secrets: {npm: \${NPM_TOKEN}, unset: \${NOT_SET_ANYWHERE}}
    rules:
      - {sourceType: branch, source: arm, tag: arm-edge, platforms: [linux/arm64]}
`;
  it('are read into the repository, secrets apart and masked, mirrors at the top', () => {
    const config = parseConfig(yaml, env, 'autobuild.yml');
    expect(config.repositories['octo/app']).toMatchObject({
      platforms: ['linux/amd64', 'linux/arm64'],
      target: 'runtime',
      pull: true,
      noCache: true,
      cacheFrom: ['type=registry,ref=ghcr.io/octo/app:buildcache'],
      cacheTo: ['type=registry,ref=ghcr.io/octo/app:buildcache,mode=max'],
    });
    expect(JSON.stringify(config.repositories)).not.toContain('npm-secret-value-123');
    expect(Object.keys(config.buildSecrets['octo/app']!)).toEqual(['npm']);
    expect(config.buildSecrets['octo/app']!.npm!.reveal()).toBe('npm-secret-value-123');
    expect(inspect(config)).not.toContain('npm-secret-value-123');
    expect(config.mirrors).toEqual({ 'docker.io': ['https://mirror.example.com'] });
  });
  it('travel into the plan (a rule may set its own platforms); secrets never do', () => {
    const config = parseConfig(yaml, env, 'autobuild.yml');
    const release = plan({ event: eventFromRef({ ref: 'refs/tags/v1.0.0', sha: 'a'.repeat(40), repository: 'octo/app' }), repositories: config.repositories });
    expect(release.builds[0]).toMatchObject({ platforms: ['linux/amd64', 'linux/arm64'], target: 'runtime', pull: true, noCache: true });
    const arm = plan({ event: eventFromRef({ ref: 'refs/heads/arm', sha: 'a'.repeat(40), repository: 'octo/app' }), repositories: config.repositories });
    expect(arm.builds.map((b) => [b.tags, b.platforms])).toEqual([[['arm-edge'], ['linux/arm64']]]);
    expect(JSON.stringify([release, arm])).not.toContain('npm-secret-value-123');
  });
  it.each([
    ['    platforms: [linux]\n', 'autobuild.yml: repositories.octo/app.platforms: platforms: "linux" is not a platform'],
    ['    cacheTo: type=gha\n', 'autobuild.yml: repositories.octo/app.cacheTo[0]: cacheTo: cache type "gha" is not supported'],
    ['    secrets: {"bad id": x}\n', 'autobuild.yml: repositories.octo/app.secrets.bad id: is not a secret id'],
    ['    pull: yes please\n', 'autobuild.yml: repositories.octo/app.pull: must be true or false'],
  ])('a bad value is one line naming the key: %j', (line, message) => {
    const text = `repositories:\n  octo/app:\n    image: ghcr.io/octo/app\n${line}`;
    expect(() => parseConfig(text, {}, 'autobuild.yml')).toThrow(message);
  });
  it('a mirror under a key that is no registry host is refused', () => {
    expect(() => parseConfig('mirrors: {"https://docker.io": [https://m.example.com]}\n', {}, 'autobuild.yml')).toThrow(
      /mirrors\.https:\/\/docker\.io: must be a registry host, not a URL/,
    );
  });
  it('flags win over the config where given', () => {
    expect(withSettings({ platforms: ['linux/amd64'], target: 'a', cacheTo: ['x'] }, { platforms: ['linux/arm64'], cacheTo: [] })).toEqual({
      platforms: ['linux/arm64'],
      target: 'a',
      cacheTo: ['x'],
    });
  });
});

describe('emulation', () => {
  it.each([
    ['linux/amd64', 'amd64', undefined],
    ['linux/386', 'amd64', undefined],
    ['linux/arm64', 'amd64', 'qemu-aarch64'],
    ['linux/arm/v7', 'amd64', 'qemu-arm'],
    ['linux/amd64', 'arm64', 'qemu-x86_64'],
    ['linux/arm/v7', 'arm64', undefined],
    ['linux/s390x', 'amd64', 'qemu-s390x'],
  ])('%s on an %s host needs %s', (platform, host, handler) => {
    expect(emulatorFor(platform, host)).toBe(handler);
  });
  it.each([
    ['FROM scratch\nCOPY a /a\n', false],
    ['FROM scratch\nCOPY a /a\nRUN ["/a"]\n', true],
    ['FROM --platform=$BUILDPLATFORM golang AS build\nRUN go build\nFROM scratch\nCOPY --from=build /x /x\n', false],
    ['FROM --platform=${BUILDPLATFORM} golang AS build\nRUN go build\nFROM alpine\nrun apk add x\n', true],
  ])('runsTargetBinaries(%j) = %s', (dockerfile, expected) => {
    expect(runsTargetBinaries(dockerfile)).toBe(expected);
  });
});
