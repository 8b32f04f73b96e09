#!/usr/bin/env node
// Runs the CLI bundle that `npm run build` writes (build/cli: a small entry, each command's code
// in chunks loaded on first use). When the compiled tree is newer than the bundle (someone ran
// only `tsc`), that tree runs instead, so a stale bundle never does.
import { statSync } from 'node:fs';

const modified = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = modified('../build/cli/autobuild.mjs');
const entry = bundle >= 0 && bundle >= modified('../build/src/cli/main.js') ? '../build/cli/autobuild.mjs' : '../build/src/cli/main.js';
const { main } = await import(entry);

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 1; },
);
