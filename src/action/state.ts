// What `main` hands to `post` through the runner's GITHUB_STATE, under names kept in one place
// (docker/build-push-action's state-helper pattern): no globals cross the two processes.
import * as core from '@actions/core';

export interface LoginState {
  /** The private DOCKER_CONFIG directory holding the login; `post` deletes it. */
  credentialsDir: string;
  registry: string;
  builder: 'docker' | 'buildah';
}

const keys = { credentialsDir: 'credentials-dir', registry: 'registry', builder: 'builder' } as const;

export function saveLoginState(state: LoginState): void {
  core.saveState(keys.credentialsDir, state.credentialsDir);
  core.saveState(keys.registry, state.registry);
  core.saveState(keys.builder, state.builder);
}

/** `undefined` when `main` never logged in (no credentials, or it failed before). */
export function readLoginState(): LoginState | undefined {
  const credentialsDir = core.getState(keys.credentialsDir);
  if (credentialsDir === '') return undefined;
  return {
    credentialsDir,
    registry: core.getState(keys.registry),
    builder: core.getState(keys.builder) === 'buildah' ? 'buildah' : 'docker',
  };
}
