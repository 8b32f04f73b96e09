// The Action's post step: runs after the job even when main failed. Logs out of the registry and
// deletes the private DOCKER_CONFIG main saved in state. It only warns: cleanup never fails a job.
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import * as core from '@actions/core';
import { inheritedEnv, run } from '../adapters/process.js';
import { readLoginState } from './state.js';

async function post(): Promise<void> {
  const state = readLoginState();
  if (!state) {
    core.info('no registry login to clean up');
    return;
  }
  if (state.builder === 'docker' && state.registry) {
    try {
      // Clears the login from any credential helper too, not only from config.json.
      await run('docker', ['logout', state.registry], {
        env: { ...inheritedEnv(), DOCKER_CONFIG: state.credentialsDir },
        onLine: (line) => core.info(line),
      });
    } catch (err) {
      core.warning(`docker logout ${state.registry} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // Only ever a directory main created: a tampered state must not turn this into `rm -rf` elsewhere.
  if (!basename(state.credentialsDir).startsWith('autobuild-credentials-')) {
    core.warning(`not removing ${state.credentialsDir}: not an autobuild credentials directory`);
    return;
  }
  await rm(state.credentialsDir, { recursive: true, force: true });
  core.info(`removed the registry credentials in ${state.credentialsDir}`);
}

post().catch((err: unknown) => core.warning(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
