// Bundles the CLI into build/cli/ (not committed; `npm run build` writes it after tsc), which
// bin/autobuild.js runs. One small entry chunk holds commander and the command definitions; each
// command's code sits in chunks loaded on first use (the `await import()`s in src/cli), so
// `autobuild --help` reads a few hundred KB instead of 900 files. See docs/DESIGN.md.
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

// `node scripts/bundle-cli.mjs [OUTDIR]`: OUTDIR (default build/cli) lets a test build a copy.
const outdir = process.argv[2] ?? join('build', 'cli');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: { autobuild: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // msgpackr's optional native addon is found at run time next to node_modules, not bundled.
  external: ['msgpackr-extract'],
  // Bundled CommonJS dependencies call require(); ESM output needs one.
  banner: { js: "import { createRequire as __autobuildRequire } from 'node:module'; const require = __autobuildRequire(import.meta.url);" },
  // Less to read and parse at every start; names kept for the libraries that print them.
  minify: true,
  keepNames: true,
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  logLevel: 'warning',
});
// The dashboard finds its files next to the module that serves them (new URL('./assets/', import.meta.url)).
cpSync(join('src', 'service', 'dashboard', 'assets'), join(outdir, 'chunks', 'assets'), { recursive: true });
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
// `autobuild --help` as the bundle prints it (80 columns, not a terminal), for bin/autobuild.js
// to print without loading anything.
const runner = `const { main } = await import(${JSON.stringify(pathToFileURL(join(outdir, 'autobuild.mjs')).href)}); process.exitCode = await main(['--help']);`;
writeFileSync(
  join(outdir, 'help.txt'),
  execFileSync(process.execPath, ['--input-type=module', '-e', runner], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } }),
);
