// Bundles the GitHub Action into dist/ (committed): the runner executes it with no npm install.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = ['main', 'post'].filter((n) => existsSync(`src/action/${n}.ts`));
if (entries.length > 0) {
  await build({
    entryPoints: Object.fromEntries(entries.map((n) => [n, `src/action/${n}.ts`])),
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Some bundled CommonJS dependencies call require(); give ESM output one.
    banner: { js: "import { createRequire as __autobuildRequire } from 'node:module'; const require = __autobuildRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
}
