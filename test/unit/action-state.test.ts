import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLoginState, saveLoginState, type LoginState } from '../../src/action/state.js';

// What `main` hands to `post` (which deletes the login): saved with @actions/core into the
// runner's GITHUB_STATE file, which the runner hands to post as STATE_<name> variables. Each
// row goes through that round trip the way the runner does it.

const dir = mkdtempSync(join(tmpdir(), 'autobuild-action-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
beforeEach(() => {
  for (const key of Object.keys(process.env)) if (key === 'GITHUB_STATE' || key.startsWith('STATE_')) delete process.env[key];
});
afterEach(() => {
  process.env = { ...saved };
});

let runs = 0;

/** The runner's reading of a command file: `name<<DELIMITER` … `DELIMITER` blocks. */
function runnerState(file: string): Record<string, string> {
  const state: Record<string, string> = {};
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!open) continue;
    const close = lines.indexOf(open[2]!, i + 1);
    state[open[1]!] = lines.slice(i + 1, close).join('\n');
    i = close;
  }
  return state;
}

/** main saves, the runner carries the file over, post reads. */
function roundTrip(save: ((state: LoginState) => void) | undefined, state?: LoginState): LoginState | undefined {
  const file = join(dir, `state-${++runs}`);
  writeFileSync(file, '');
  process.env.GITHUB_STATE = file;
  if (save && state) save(state);
  delete process.env.GITHUB_STATE;
  for (const [name, value] of Object.entries(runnerState(file))) process.env[`STATE_${name}`] = value;
  return readLoginState();
}

describe('the login state main saves is the one post reads', () => {
  it.each<LoginState>([
    { credentialsDir: '/home/runner/work/_temp/autobuild-docker-abc123', registry: 'ghcr.io', builder: 'docker' },
    { credentialsDir: '/tmp/autobuild-buildah-x', registry: 'registry.example.com:5000', builder: 'buildah' },
    { credentialsDir: '/tmp/dir with spaces/and=equals', registry: 'docker.io', builder: 'docker' },
    { credentialsDir: 'D:\\a\\_temp\\creds', registry: '127.0.0.1:5000', builder: 'docker' },
  ])('$builder login to $registry in $credentialsDir', (state) => {
    expect(roundTrip(saveLoginState, state)).toEqual(state);
  });

  it('main that never logged in leaves nothing: post has no login to remove', () => {
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('an unknown builder in the state falls back to docker', () => {
    process.env.STATE_builder = 'podman';
    process.env['STATE_credentials-dir'] = '/tmp/creds';
    process.env.STATE_registry = 'ghcr.io';
    expect(readLoginState()).toEqual({ credentialsDir: '/tmp/creds', registry: 'ghcr.io', builder: 'docker' });
  });

  it('GITHUB_STATE holds exactly the three names post reads', () => {
    const file = join(dir, 'state-log');
    writeFileSync(file, '');
    process.env.GITHUB_STATE = file;
    saveLoginState({ credentialsDir: '/tmp/c', registry: 'ghcr.io', builder: 'docker' });
    expect(Object.keys(runnerState(file)).sort()).toEqual(['builder', 'credentials-dir', 'registry']);
  });
});
