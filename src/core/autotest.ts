import type { AutotestMode } from './types.js';

// Whether a build runs Docker Hub's Autotest (the `sut` service of its `*.test.yml` files).
// As on Docker Hub, `autotest` only says which pull requests get a test build
// (https://docs.docker.com/docker-hub/repos/manage/builds/automated-testing/): "Off: no
// additional test builds; tests only run if they're configured as part of an automated build".
// So a push or a trigger always tests when the files exist; a pull request is tested with
// `internal` when it comes from the repository itself, with `external` also from a fork.

export interface AutotestInput {
  /** The repository's `autotest`; missing means the default, `internal`. */
  mode?: AutotestMode;
  /** The build is a pull request's (never pushed). */
  pullRequest: boolean;
  /** A push or a pull request from the repository itself; false for a fork's pull request. */
  trusted: boolean;
  /** `autobuild build --no-test`, the Action's `test: false`. */
  disabled?: boolean;
}

export type AutotestDecision = { run: true } | { run: false; reason: string };

const DEFAULT_AUTOTEST: AutotestMode = 'internal';

export function decideAutotest(input: AutotestInput): AutotestDecision {
  if (input.disabled) return { run: false, reason: 'tests skipped on request (--no-test / test: false)' };
  if (!input.pullRequest) return { run: true };
  const mode = input.mode ?? DEFAULT_AUTOTEST;
  if (mode === 'off') return { run: false, reason: 'pull request not tested: autotest is off (set autotest: internal to test pull requests)' };
  if (!input.trusted && mode === 'internal') {
    return {
      run: false,
      reason: 'pull request from a fork not tested: autotest is internal (set autotest: external to test forks, without env, secrets or registry logins)',
    };
  }
  return { run: true };
}
