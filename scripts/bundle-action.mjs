// Bundles the GitHub Action into dist/ (committed): the runner executes it with no npm install.
// The output must be byte-for-byte reproducible: CI rebuilds it and fails when it differs.
import { build } from 'esbuild';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// `node scripts/bundle-action.mjs [OUTDIR]`: OUTDIR (default dist) lets a test build a second copy
// and compare it with the committed one.
const outdir = process.argv[2] ?? 'dist';

const entries = ['main', 'post'].filter((n) => existsSync(`src/action/${n}.ts`));
if (entries.length > 0) {
  // Stale chunks from an older build would be committed along with the new ones.
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(entries.map((n) => [n, `src/action/${n}.ts`])),
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Some bundled CommonJS dependencies call require(); give ESM output one.
    banner: { js: "import { createRequire as __autobuildRequire } from 'node:module'; const require = __autobuildRequire(import.meta.url);" },
    legalComments: 'none',
    charset: 'utf8',
    sourcemap: false,
    logLevel: 'warning',
  });
  // action.yml points at dist/*.js: without this, Node would read the ESM bundle as CommonJS
  // when the Action is checked out with no package.json of ours above it.
  writeFileSync(join(outdir, 'package.json'), '{\n  "type": "module"\n}\n');
}
