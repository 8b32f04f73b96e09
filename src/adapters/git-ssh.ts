import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from '../core/secret.js';

// ssh for one checkout (Docker Hub's SSH_PRIVATE): the repository's `sshKey` is written to a
// file only this build can read (0600 in a 0700 directory) and removed when the checkout ends.
// Host keys are checked strictly against the keys GitHub, GitLab and Bitbucket publish plus the
// repository's `knownHosts`; an unknown host is refused, never trusted on first use.

/**
 * Published host keys (ed25519 and ECDSA, which OpenSSH prefers over RSA when it knows them):
 * docs.github.com "GitHub's SSH key fingerprints", docs.gitlab.com "SSH host keys fingerprints",
 * and Bitbucket's "SSH host key changes" (2023).
 */
const BUILT_IN_KNOWN_HOSTS = [
  'github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=',
  '[ssh.github.com]:443 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
  'gitlab.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf',
  'gitlab.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFSMqzJeV9rUzU4kWitGjeR4PWSa29SPqJ1fVkhtj3Hw9xjLVXVYrU9QlYWrOLXBpQ6KWjbjTDTdDkoohFzgbEY=',
  'bitbucket.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIazEu89wgQZ4bqs3d63QSMzYVa0MuJ2e2gKTKqu+UUO',
  'bitbucket.org ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPIQmuzMBuKdWeF4+a2sjSSpBK0iqitSQ+5BM9KhpexuGt20JpTVM7u5BDZngncgrqDMbWdxMWWOGtZ9UgbqgZE=',
];

export interface SshSetup {
  /** GIT_SSH_COMMAND for every git command of the checkout. */
  env: { GIT_SSH_COMMAND: string };
  keyFile: string;
  knownHostsFile: string;
  /** Removes the key and the known_hosts file. */
  dispose(): Promise<void>;
}

/** Quotes one argument for the `sh -c` git runs GIT_SSH_COMMAND with: nothing in it is interpreted. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The ssh command line as argv: no config file, no agent, only this key, strict host keys. */
export function sshArgv(keyFile: string, knownHostsFile: string): string[] {
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-i',
    keyFile,
  ];
}

/** Writes the key and known_hosts into `dir` (created private) and builds GIT_SSH_COMMAND. */
export async function prepareSsh(dir: string, key: Secret, knownHosts = ''): Promise<SshSetup> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'id');
  const knownHostsFile = join(dir, 'known_hosts');
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    // OpenSSH refuses a key without its final newline; keys pasted into variables often lose it.
    const text = key.reveal().replace(/\r\n/g, '\n');
    await writeFile(keyFile, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600, flag: 'wx' });
    const extra = knownHosts
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    await writeFile(knownHostsFile, [...BUILT_IN_KNOWN_HOSTS, ...extra].join('\n') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { env: { GIT_SSH_COMMAND: sshArgv(keyFile, knownHostsFile).map(shellQuote).join(' ') }, keyFile, knownHostsFile, dispose };
}
