// Three kinds of failure, told apart by type so every entry point reports them the right way:
// UserError (bad input: one line, exit 2), BuildError (the build failed: last log lines),
// and everything else (a bug: stack trace, exit 1).

// Hints are data: `problem` is what went wrong and `hint` what to change, kept apart so an
// entry point can word or replace the hint for its user (an autobuild.yml key, an Action
// input); `message` joins them with " — " for whoever prints the error whole.

export class UserError extends Error {
  override readonly name = 'UserError';
  /** What is wrong, without the hint. */
  readonly problem: string;
  /** What to change. */
  readonly hint?: string;

  constructor(problem: string, hint?: string) {
    super(hint ? `${problem} — ${hint}` : problem);
    this.problem = problem;
    this.hint = hint;
  }
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
  /** What went wrong, without the hint. */
  readonly problem: string;
  /** What to do about it, when there is something to say. */
  readonly hint?: string;
  /** The last lines of output of the step that failed, secrets already masked. */
  readonly tail: string[];
  /** Whether trying again may succeed (network, registry 5xx) as opposed to a broken build. */
  readonly transient: boolean;

  constructor(problem: string, options: { hint?: string; tail?: string[]; transient?: boolean; cause?: unknown } = {}) {
    super(options.hint ? `${problem} — ${options.hint}` : problem, options.cause === undefined ? undefined : { cause: options.cause });
    this.problem = problem;
    this.hint = options.hint;
    this.tail = options.tail ?? [];
    this.transient = options.transient ?? false;
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Autotest's `sut` (or `hooks/test`) failed: nothing is pushed and the commit status says so. */
export class TestsFailedError extends BuildError {
  /** The short form for a commit status: Docker Hub's "tests failed". */
  readonly summary = 'tests failed';
}
