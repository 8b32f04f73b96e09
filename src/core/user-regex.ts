// Regular expressions written by users (rule sources `/REGEX/`) are matched against ref names
// that anyone with push access chooses. A backtracking pattern such as /(a+)+$/ would then let
// a branch name of 30 characters hold the process for minutes. So these patterns run on V8's
// linear-time engine (the RegExp `l` flag), whose matching time grows with the input, never
// exponentially. It cannot run back-references, lookarounds or large counted repeats; such a
// pattern is refused at config load with that reason.
//
// The engine is switched on for the whole process by enableLinearRegExp() in
// src/adapters/regex-engine.ts, called first by every entry point. Where it is off (a library
// user's process), patterns compile as ordinary RegExps.

/** Why V8 refuses a pattern for its linear engine (the message of its SyntaxError). */
const NOT_LINEAR = /cannot be executed in linear time/i;

/** Whether this process has V8's linear engine (the `l` flag) switched on. */
function linearEngineEnabled(): boolean {
  try {
    new RegExp('', 'l');
    return true;
  } catch {
    return false;
  }
}

export class UnboundedRegexError extends Error {
  override readonly name = 'UnboundedRegexError';
}

/**
 * Compiles a user's pattern so that matching runs in linear time. Throws SyntaxError for an
 * invalid pattern and UnboundedRegexError for one the linear engine cannot run.
 */
export function userRegExp(pattern: string): RegExp {
  if (!linearEngineEnabled()) return new RegExp(pattern);
  try {
    return new RegExp(pattern, 'l');
  } catch (err) {
    if (err instanceof SyntaxError && NOT_LINEAR.test(err.message)) {
      // Tell an invalid pattern from an unsupported one: the former fails without `l` too.
      new RegExp(pattern);
      throw new UnboundedRegexError('it uses a back-reference, a lookaround or a counted repeat above {16}, which cannot be matched in bounded time');
    }
    throw err;
  }
}
