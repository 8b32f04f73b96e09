// Registry login for the step: a private DOCKER_CONFIG under RUNNER_TEMP, never the runner's
// ~/.docker, so the credentials leave with the directory when `post` deletes it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { loginRegistry } from '../adapters/credentials.js';
import { BuildError, UserError } from '../core/errors.js';
import { parseImageName } from '../core/references.js';
import type { Secret } from '../core/secret.js';
import { saveLoginState } from './state.js';

export interface LoginRequest {
  registry?: string;
  username: string;
  password: Secret;
  builder: 'docker' | 'buildah';
  images: string[];
}

/** The registry to log in to: the `registry` input, else the first image's registry. */
export function loginHost(registry: string | undefined, images: string[]): string {
  if (registry) return registry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return parseImageName(images[0]!).domain;
}

/** Logs in and returns the DOCKER_CONFIG directory to build and push with. */
export async function login(req: LoginRequest): Promise<{ dir: string; host: string }> {
  const host = loginHost(req.registry, req.images);
  const dir = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'autobuild-credentials-'));
  // Saved before logging in, so `post` removes the directory even when the login fails halfway.
  saveLoginState({ credentialsDir: dir, registry: host, builder: req.builder });
  try {
    await loginRegistry(dir, host, req.username, req.password, req.builder, { onLine: (line) => core.info(line) });
  } catch (err) {
    // The adapter's hint speaks of autobuild.yml; here the fix is in the step's inputs.
    if (!(err instanceof BuildError) || err.transient) throw err;
    const why = err.tail.filter((l) => l.trim() !== '').at(-1) ?? err.message;
    throw new UserError(`registry login to ${host} as ${req.username} failed: ${why}`, 'check the `username` and `password` inputs (and `registry`)');
  }
  core.info(`logged in to ${host} as ${req.username}`);
  return { dir, host };
}
