// Private submodules as Docker Hub users have them, with real git over file:// remotes: a
// submodule with a nested one checks out completely; `submodules: false` leaves them out; a
// submodule URL is untrusted text and can never make git run a command.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout } from '../../src/adapters/git.js';
import { BuildError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { tempDir } from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

let root: string;
let work: string;
let n = 0;
const fresh = () => join(work, `tree-${n++}`);

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'protocol.file.allow=always', ...args], { cwd: dir, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A repository with `files`, committed; returns its directory and HEAD. */
function repo(name: string, files: Record<string, string>): { dir: string; url: string; sha: () => string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', `${name}: first`);
  return { dir, url: `file://${dir}`, sha: () => git(dir, 'rev-parse', 'HEAD') };
}

/** Commits a gitlink at `path` with whatever URL .gitmodules gives, as an attacker could. */
function rawSubmodule(dir: string, path: string, url: string, sha: string): string {
  writeFileSync(join(dir, '.gitmodules'), `[submodule "${path}"]\n\tpath = ${path}\n\turl = ${url}\n`);
  git(dir, 'update-index', '--add', '--cacheinfo', `160000,${sha},${path}`);
  git(dir, 'add', '.gitmodules');
  git(dir, 'commit', '-q', '-m', `submodule ${path}`);
  return git(dir, 'rev-parse', 'HEAD');
}

let app: ReturnType<typeof repo>;
let appSha: string;

beforeAll(() => {
  root = tempDir('submodules');
  work = tempDir('submodules-work');
  // app -> vendor/lib (a "private" library) -> deps/nested (its own submodule).
  const nested = repo('nested', { 'nested.txt': 'nested content\n' });
  const lib = repo('lib', { 'lib.txt': 'lib content\n' });
  git(lib.dir, 'submodule', 'add', '-q', nested.url, 'deps/nested');
  git(lib.dir, 'commit', '-q', '-m', 'lib: nested submodule');
  app = repo('app', { Dockerfile: 'FROM scratch\n' });
  git(app.dir, 'submodule', 'add', '-q', lib.url, 'vendor/lib');
  git(app.dir, 'commit', '-q', '-m', 'app: lib submodule');
  appSha = app.sha();
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('submodules', () => {
  it('a submodule and its nested submodule check out completely', async () => {
    const dir = fresh();
    await checkout({ cloneUrl: app.url, sha: appSha, dir });
    expect(readFileSync(join(dir, 'vendor/lib/lib.txt'), 'utf8')).toBe('lib content\n');
    expect(readFileSync(join(dir, 'vendor/lib/deps/nested/nested.txt'), 'utf8')).toBe('nested content\n');
  });

  it('submodules: false leaves them out', async () => {
    const dir = fresh();
    await checkout({ cloneUrl: app.url, sha: appSha, dir, submodules: false });
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(readdirSync(join(dir, 'vendor/lib'))).toEqual([]);
  });

  it('an ssh submodule uses the key from a private file, checks host keys strictly, and the key is gone afterwards', async () => {
    // No sshd here: a stand-in `ssh` on PATH records what git ran it with and what it could
    // read, then refuses, as a server with an unknown key would.
    const bin = tempDir('fake-ssh');
    const record = join(bin, 'record.txt');
    writeFileSync(
      join(bin, 'ssh'),
      [
        '#!/bin/sh',
        `out=${record}`,
        'for a in "$@"; do printf "arg:%s\\n" "$a" >> "$out"; done',
        'key=""; prev=""; for a in "$@"; do [ "$prev" = "-i" ] && key="$a"; prev="$a"; done',
        'printf "mode:%s\\n" "$(stat -c %a "$key")" >> "$out"',
        'printf "dirmode:%s\\n" "$(stat -c %a "$(dirname "$key")")" >> "$out"',
        'printf "key:%s\\n" "$(tail -n +2 "$key" | head -n 1)" >> "$out"',
        'for a in "$@"; do case "$a" in UserKnownHostsFile=*) sed "s/^/kh:/" "${a#UserKnownHostsFile=}" >> "$out";; esac; done',
        'echo "Host key verification failed." >&2',
        'exit 255',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const withSsh = repo(`ssh-${n++}`, { Dockerfile: 'FROM scratch\n' });
    const sha = rawSubmodule(withSsh.dir, 'private', 'git@github.com:octo-org/private-lib.git', appSha);
    const keyLine = `AAAAkeyline${Math.random().toString(36).slice(2)}AAAA`;
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    const dir = fresh();
    let err: BuildError;
    try {
      err = await rejection(
        checkout({
          cloneUrl: withSsh.url,
          sha,
          dir,
          sshKey: new Secret(`-----BEGIN OPENSSH PRIVATE KEY-----\n${keyLine}\n-----END OPENSSH PRIVATE KEY-----`),
          knownHosts: 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample',
        }),
        BuildError,
      );
    } finally {
      process.env.PATH = saved;
    }
    const lines = readFileSync(record, 'utf8').split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'mode:600',
        'dirmode:700',
        `key:${keyLine}`,
        'arg:StrictHostKeyChecking=yes',
        'arg:IdentitiesOnly=yes',
        'arg:BatchMode=yes',
        'arg:git@github.com',
      ]),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'kh:github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
        'kh:git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample',
      ]),
    );
    const knownHosts = lines.find((l) => l.startsWith('arg:UserKnownHostsFile='))!.slice('arg:UserKnownHostsFile='.length);
    // The private directory (key and known_hosts) is removed, and was never inside the tree.
    expect(existsSync(knownHosts)).toBe(false);
    expect(knownHosts.startsWith(dir)).toBe(false);
    expect(err.message).toContain('checking out the submodules');
    expect(JSON.stringify([err.message, err.tail])).not.toContain(keyLine);
    rmSync(bin, { recursive: true, force: true });
  });
});

describe('a submodule URL is untrusted text', () => {
  const marker = () => join(root, 'pwned');
  const attacks: [string, (m: string) => string, RegExp][] = [
    ['--upload-pack=CMD', (m) => `--upload-pack=touch ${m}`, /which git would read as an option/],
    ['ext::CMD', (m) => `ext::sh -c touch% ${m}`, /which names a remote helper|transport ext is not allowed/],
    ['-u CMD (short option)', (m) => `-utouch ${m}`, /which git would read as an option/],
  ];
  for (const [name, url, why] of attacks) {
    it(`${name} executes nothing and fails the checkout with a clear line`, async () => {
      const evil = repo(`evil-${n++}`, { Dockerfile: 'FROM scratch\n' });
      const sha = rawSubmodule(evil.dir, 'lib', url(marker()), appSha);
      const err = await rejection(checkout({ cloneUrl: evil.url, sha, dir: fresh() }), BuildError);
      expect(err.message).toMatch(why);
      expect(err.message).toMatch(/— fix its url in \.gitmodules$/);
      expect(existsSync(marker())).toBe(false);
    });
  }

  it("the same attack one level down (in a submodule's .gitmodules) executes nothing either", async () => {
    const inner = repo(`inner-${n++}`, { 'x.txt': 'x\n' });
    rawSubmodule(inner.dir, 'deeper', `--upload-pack=touch ${marker()}`, appSha);
    const outer = repo(`outer-${n++}`, { Dockerfile: 'FROM scratch\n' });
    git(outer.dir, 'submodule', 'add', '-q', inner.url, 'inner');
    git(outer.dir, 'commit', '-q', '-m', 'inner');
    const err = await rejection(checkout({ cloneUrl: outer.url, sha: outer.sha(), dir: fresh() }), BuildError);
    expect(err.message).toContain('submodule "deeper" has the URL');
    expect(existsSync(marker())).toBe(false);
  });

  it('a repository fetched over https may not pull a file on this machine in as a submodule', async () => {
    const evil = repo(`local-${n++}`, { Dockerfile: 'FROM scratch\n' });
    const sha = rawSubmodule(evil.dir, 'lib', `file://${app.dir}`, appSha);
    // Checked out from disk here, but judged as the https repository it claims to be.
    const { checkSubmoduleUrl } = await import('../../src/adapters/git.js');
    expect(() => checkSubmoduleUrl('lib', `file://${app.dir}`, ['https', 'http', 'ssh', 'git'])).toThrow(/transport file is not allowed/);
    // From a local repository, local submodules are fine.
    await checkout({ cloneUrl: evil.url, sha, dir: fresh() });
  });
});
