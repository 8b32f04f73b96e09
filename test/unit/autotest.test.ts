// Which builds run Docker Hub's Autotest: one row per setting a Docker Hub user knows.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkSubmoduleUrl } from '../../src/adapters/git.js';
import { shellQuote, sshArgv } from '../../src/adapters/git-ssh.js';
import { decideAutotest, type AutotestInput } from '../../src/core/autotest.js';

const rows: [string, AutotestInput, boolean][] = [
  ['a push is tested whatever autotest says (off)', { mode: 'off', pullRequest: false, trusted: true }, true],
  ['a push is tested by default', { pullRequest: false, trusted: true }, true],
  ['a pull request from the repository is tested by default (internal)', { pullRequest: true, trusted: true }, true],
  ['a pull request from a fork is not tested with internal', { mode: 'internal', pullRequest: true, trusted: false }, false],
  ['a pull request from a fork is tested with external', { mode: 'external', pullRequest: true, trusted: false }, true],
  ['no pull request is tested with off', { mode: 'off', pullRequest: true, trusted: true }, false],
  ['--no-test skips even a push', { pullRequest: false, trusted: true, disabled: true }, false],
];

describe('decideAutotest', () => {
  it.each(rows)('%s', (_name, input, run) => {
    const decision = decideAutotest(input);
    expect(decision.run).toBe(run);
    if (!decision.run) expect(decision.reason).toMatch(/autotest|--no-test/);
  });

  it('says how to test forks when it skips one', () => {
    expect(decideAutotest({ pullRequest: true, trusted: false })).toEqual({ run: false, reason: expect.stringContaining('set autotest: external') });
  });
});

describe('checkSubmoduleUrl', () => {
  const remote = ['https', 'http', 'ssh', 'git'];
  const ok: string[] = [
    'https://github.com/o/lib.git',
    'ssh://git@gitlab.com/o/lib.git',
    'git@github.com:o/lib.git',
    '../lib.git',
    './lib',
    'git://example.com/lib',
  ];
  const refused: [string, RegExp][] = [
    ['--upload-pack=touch /tmp/x', /option/],
    ['-oProxyCommand=touch /tmp/x', /option/],
    ['ext::sh -c touch% /tmp/x', /remote helper/],
    ['fd::3', /remote helper/],
    ['file:///etc/private-repo', /transport file is not allowed/],
    ['/srv/git/private-repo', /not a git URL/],
    ['ftp://example.com/x', /transport ftp is not allowed/],
  ];
  it.each(ok)('accepts %s', (url) => expect(() => checkSubmoduleUrl('lib', url, remote)).not.toThrow());
  it.each(refused)('refuses %s', (url, why) => expect(() => checkSubmoduleUrl('lib', url, remote)).toThrow(why));
});

describe('GIT_SSH_COMMAND', () => {
  it('is the ssh argv, each argument quoted so the shell git uses reads it back unchanged', () => {
    const dir = "/tmp/build 1/it's $(here)";
    const argv = sshArgv(`${dir}/id`, `${dir}/known_hosts`);
    const command = argv.map(shellQuote).join(' ');
    const back = execFileSync('sh', ['-c', `set -- ${command}; printf '%s\\n' "$@"`], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
    expect(back).toEqual(argv);
    expect(argv).toEqual(expect.arrayContaining(['StrictHostKeyChecking=yes', 'IdentitiesOnly=yes', 'BatchMode=yes', `UserKnownHostsFile=${dir}/known_hosts`]));
  });
});
