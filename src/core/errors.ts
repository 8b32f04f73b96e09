// Three kinds of failure, told apart by type so every entry point reports them the right way:
// UserError (bad input: one line, exit 2), BuildError (the build failed: last log lines),
// and everything else (a bug: stack trace, exit 1).

export class UserError extends Error {
  override readonly name = 'UserError';
  /** What to change, appended to the message after " — ". */
  readonly hint?: string;

  constructor(message: string, hint?: string) {
    super(hint ? `${message} — ${hint}` : message);
    this.hint = hint;
  }
}

export class BuildError extends Error {
  override readonly name = 'BuildError';
  /** The last lines of output of the step that failed, secrets already masked. */
  readonly tail: string[];
  /** Whether trying again may succeed (network, registry 5xx) as opposed to a broken build. */
  readonly transient: boolean;

  constructor(message: string, options: { tail?: string[]; transient?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.tail = options.tail ?? [];
    this.transient = options.transient ?? false;
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}
