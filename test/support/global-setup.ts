// Runs once before any test file: compiles the tree that bin/autobuild.js runs (build/src), so
// the files that start the real binary all see one finished build. Compiling inside each file
// made one file's tsc rewrite build/ while another file's `autobuild` process was loading it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './service-process.js';

export default function setup(): void {
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.json')], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
  } catch {
    // A type error elsewhere still emits JavaScript (`npm run lint` is what reports it).
  }
  if (!existsSync(join(repoRoot, 'build', 'src', 'cli', 'main.js'))) throw new Error('tsc produced no build/src/cli/main.js: run npm run build');
}
