import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBinary, repoRoot } from '../support/service-process.js';

// Configuration and start-up mistakes, through the real `autobuild` process as a user meets them:
// exit code 2, one line on stderr naming what and where, no stack trace, nothing else started.

const work = mkdtempSync(join(tmpdir(), 'autobuild-cli-errors-'));
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

function autobuild(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000) {
  const started = Date.now();
  const res = spawnSync(process.execPath, [join(repoRoot, 'bin', 'autobuild.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, ms: Date.now() - started };
}

function expectOneLine(r: ReturnType<typeof autobuild>, text: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(text);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

// Each level refers to the one above nine times: 9^7 (4.8 million) strings once expanded.
const billionLaughs = [
  'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...'bcdefg'.split('').map((name, i) => {
    const up = 'abcdef'[i];
    return `${name}: &${name} [${Array(9).fill(`*${up}`).join(', ')}]`;
  }),
].join('\n');

beforeAll(() => buildBinary(), 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a broken configuration is one line and exit 2', () => {
  it.each([
    {
      name: 'a "billion laughs" YAML file',
      yml: billionLaughs,
      args: ['plan', '--ref', 'refs/heads/main', '--sha', SHA],
      error: /^autobuild: \S+laughs\.yml: YAML aliases \(\*name\) expand more than 100 times — /,
    },
    {
      name: 'redis that is not a URL',
      yml: 'redis: "not a url"\n',
      args: ['worker'],
      error: /^autobuild: \S+\.yml: redis: is not a Redis URL — write redis:\/\//,
    },
    {
      name: 'redis with an unknown scheme',
      yml: 'redis: "http://127.0.0.1:6379"\n',
      args: ['serve'],
      error: /^autobuild: \S+\.yml: redis: is not a Redis URL — /,
    },
    {
      name: 'a ${VAR} of the wrong type, without echoing its value',
      yml: 'concurrency: ${WORKERS}\n',
      env: { WORKERS: 'four-workers-s3cr3t' },
      args: ['plan', '--ref', 'refs/heads/main', '--sha', SHA],
      error: /^autobuild: \S+\.yml: concurrency: must be a number \(got the value of \$\{WORKERS\}\) — /,
    },
    {
      name: 'a rule regex with a lookahead (cannot run in bounded time)',
      yml: 'repositories:\n  o/app:\n    image: 127.0.0.1:5000/o/app\n    rules: [{sourceType: branch, source: "/^(?!dev).*$/", tag: "{sourceref}"}]\n',
      args: ['plan', '--ref', 'refs/heads/main', '--sha', SHA],
      error: /^autobuild: \S+\.yml: repositories\.o\/app\.rules\[0\]\.source: regular expression \/\^\(\?!dev\)\.\*\$\/ is refused: .*lookaround.* — /,
    },
  ])('$name', ({ name, yml, args, env, error }) => {
    const config = file(`${name.replace(/\W+/g, '-')}-laughs.yml`, yml);
    const r = autobuild([...args, '--config', config], env);
    expectOneLine(r, error);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain('s3cr3t');
  });

  it('REDIS_URL that is not a URL', () => {
    expectOneLine(autobuild(['worker'], { REDIS_URL: 'not a url' }), /^autobuild: REDIS_URL is not a Redis URL — /);
  });
});

describe('a dataDir that cannot be a directory is one line and exit 2, before anything starts', () => {
  const aFile = file('a-file', 'not a directory\n');
  it.each([
    { mode: 'start', dataDir: aFile, error: /^autobuild: dataDir \S+a-file is a file, not a directory — set dataDir/ },
    {
      mode: 'start',
      dataDir: join(aFile, 'sub', 'dir'),
      error: /^autobuild: dataDir \S+a-file\/sub\/dir is under \S+a-file, which is a file, not a directory — /,
    },
    { mode: 'worker', dataDir: join(aFile, 'data'), error: /^autobuild: dataDir \S+a-file\/data is under \S+a-file, which is a file/ },
  ])('$mode with dataDir $dataDir', ({ mode, dataDir, error }) => {
    const config = file(`datadir-${mode}.yml`, `dataDir: ${dataDir}\nredis: redis://127.0.0.1:9\nserver: {port: 0}\n`);
    expectOneLine(autobuild([mode, '--config', config]), error);
  });
});

describe('a rule regex that backtracks catastrophically', () => {
  it('matches a hostile branch name in linear time instead of holding the process', () => {
    const config = file(
      'redos.yml',
      'repositories:\n  o/app:\n    image: 127.0.0.1:5000/o/app\n    preset: none\n    rules: [{sourceType: branch, source: "/(a+)+$/", tag: "{sourceref}"}]\n',
    );
    // 40 characters: about 2^40 steps for a backtracking engine.
    const r = autobuild(['plan', '--config', config, '--repository', 'o/app', '--ref', `refs/heads/${'a'.repeat(40)}!`, '--sha', SHA, '--json'], {}, 20_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).skipped[0].reason).toMatch(/does not match branch "a+!"/);
  });
});
