#!/usr/bin/env node
// Runs the CLI bundle that `npm run build` writes (build/cli: a small entry, each command's code
// in chunks loaded on first use). When the compiled tree is newer than the bundle (someone ran
// only `tsc`), that tree runs instead, so a stale bundle never does. `autobuild --help` prints
// the help text the bundle wrote when it was built (help.txt), without loading even the argument
// parser: it is what users run first.
import { readFileSync, statSync } from 'node:fs';

const modified = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = modified('../build/cli/autobuild.mjs');
const fresh = bundle >= 0 && bundle >= modified('../build/src/cli/main.js');
const args = process.argv.slice(2);
const help = fresh && args.length === 1 && (args[0] === '--help' || args[0] === '-h') ? readHelp() : undefined;

if (help !== undefined) {
  process.stdout.write(help);
} else {
  const { main } = await import(fresh ? '../build/cli/autobuild.mjs' : '../build/src/cli/main.js');
  main(args).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

/** The saved help, when it was written for this terminal width (80 columns, or not a terminal). */
function readHelp() {
  if (process.stdout.isTTY && process.stdout.columns !== 80) return undefined;
  try {
    return readFileSync(new URL('../build/cli/help.txt', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
}
