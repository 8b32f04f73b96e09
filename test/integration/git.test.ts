// Checking out exactly one commit with real git: fresh tree, fallback when the server will not
// hand out a commit by sha, clear errors, and a token that travels only as an HTTP header.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout } from '../../src/adapters/git.js';
import { BuildError, UserError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { makeFixtureRepo, tempDir, type Fixture } from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';

let repo: Fixture;
let older: string;
let work: string;

beforeAll(() => {
  repo = makeFixtureRepo({ content: 'git', commitMessage: 'First: $(echo not run)\n\nBody line' });
  older = repo.sha;
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  writeFileSync(join(repo.dir, 'second.txt'), 'two\n');
  execFileSync('git', ['add', 'second.txt'], { cwd: repo.dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'Second'], { cwd: repo.dir, env });
  work = tempDir('git-work');
});

afterAll(() => {
  repo?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
const fresh = () => join(work, `tree-${n++}`);

describe('checkout', () => {
  it('an older commit gives a tree at exactly that commit, with its message', async () => {
    const dir = fresh();
    const out = await checkout({ cloneUrl: repo.url, sha: older, dir });
    expect(out).toEqual({ sha: older, commitMessage: 'First: $(echo not run)\n\nBody line', commitTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(dir, 'second.txt'))).toBe(false);
  });

  it('a server that refuses to hand out a commit by sha is fetched in full instead', async () => {
    // Protocol v0 with allowReachableSHA1InWant off is how older servers behave.
    execFileSync('git', ['config', 'uploadpack.allowReachableSHA1InWant', 'false'], { cwd: repo.dir });
    const home = tempDir('git-home');
    writeFileSync(join(home, '.gitconfig'), '[protocol]\n\tversion = 0\n');
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const lines: string[] = [];
      const dir = fresh();
      const out = await checkout({ cloneUrl: repo.url, sha: older, dir, onLine: (l) => lines.push(l) });
      expect(out.sha).toBe(older);
      expect(lines.join('\n')).toContain('unadvertised object');
    } finally {
      process.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });

  const errors: { name: string; cloneUrl: () => string; sha: () => string; type: new (...args: never[]) => Error; message: RegExp }[] = [
    { name: 'a commit not in the repository', cloneUrl: () => repo.url, sha: () => 'e'.repeat(40), type: BuildError, message: /^commit e{40} is not in file:/ },
    {
      name: 'a repository that does not exist',
      cloneUrl: () => `file://${work}/missing`,
      sha: () => older,
      type: BuildError,
      message: /^cannot fetch file:.*missing: the remote is unreachable/,
    },
    {
      name: 'an abbreviated sha',
      cloneUrl: () => repo.url,
      sha: () => older.slice(0, 7),
      type: UserError,
      message: /is not a full commit sha — give the 40-hex sha/,
    },
    { name: 'a URL that looks like an option', cloneUrl: () => '--upload-pack=touch /tmp/x', sha: () => older, type: UserError, message: /is not a git URL/ },
  ];
  for (const row of errors) {
    it(`${row.name} is a clear error`, async () => {
      const err = await rejection(checkout({ cloneUrl: row.cloneUrl(), sha: row.sha(), dir: fresh() }), row.type);
      expect(err.message).toMatch(row.message);
    });
  }

  it('a token reaches the server as a Basic header, never in a URL, argv or output', async () => {
    const token = new Secret(`ghs_${Math.random().toString(36).slice(2)}abcdef`);
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(404).end();
    });
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    try {
      const dir = fresh();
      const lines: string[] = [];
      const err = await rejection(checkout({ cloneUrl: `http://127.0.0.1:${port}/octo/app.git`, sha: older, dir, token, onLine: (l) => lines.push(l) }));
      const header = `basic ${Buffer.from(`x-access-token:${token.reveal()}`).toString('base64')}`;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.endsWith(header))).toBe(true);
      expect(JSON.stringify([err.message, err.tail, lines])).not.toContain(token.reveal());
      expect(readFileSync(join(dir, '.git', 'config'), 'utf8')).not.toContain(token.reveal());
    } finally {
      server.close();
    }
  });

  it('a forge user name and app password reach the server as a Basic header, never in a URL, argv or output', async () => {
    const password = new Secret(`app-${Math.random().toString(36).slice(2)}xyz`);
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.writeHead(404).end();
    });
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    try {
      const lines: string[] = [];
      const err = await rejection(
        checkout({
          cloneUrl: `http://127.0.0.1:${port}/team/app.git`,
          sha: older,
          dir: fresh(),
          token: { username: 'bot', password },
          onLine: (l) => lines.push(l),
        }),
      );
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s === `basic ${Buffer.from(`bot:${password.reveal()}`).toString('base64')}`)).toBe(true);
      expect(JSON.stringify([err.message, err.tail, lines])).not.toContain(password.reveal());
    } finally {
      server.close();
    }
  });
});
