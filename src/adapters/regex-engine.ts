import { setFlagsFromString } from 'node:v8';

// Switches on, for this process, the V8 engine that src/core/user-regex.ts runs users' patterns
// on: the `l` flag (linear-time matching), and the fall-back to that engine for any other
// regular expression that backtracks excessively. Called first by every entry point (CLI,
// Action), before a configuration is read. V8 reads these flags when a RegExp is compiled or
// run, so setting them after start-up takes effect for every pattern compiled from then on.
export function enableLinearRegExp(): void {
  setFlagsFromString('--enable-experimental-regexp-engine');
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
}
