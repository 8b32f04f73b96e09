// Copies what `autobuild` needs at run time into DEST (the container image's /app): bin/, the
// compiled build/, the dashboard's static assets, package.json, and only the production
// dependencies of node_modules (as `npm ls --omit=dev` lists them), so the image carries no
// compiler, test runner or browser driver. Run after `npm ci && npm run build`.
// Usage: node scripts/pack-app.mjs DEST
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dest = process.argv[2];
if (!dest) {
  console.error('usage: node scripts/pack-app.mjs DEST');
  process.exit(2);
}
if (!existsSync(join(root, 'build', 'src', 'cli', 'main.js'))) {
  console.error('pack-app: build/ is missing — run npm run build first');
  process.exit(2);
}

rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
for (const path of ['package.json', 'bin', 'build', join('src', 'service', 'dashboard', 'assets')]) {
  cpSync(join(root, path), join(dest, path), { recursive: true, filter: (src) => !src.endsWith('.map') });
}

// Each production package's top directory under node_modules (`name` or `@scope/name`); its own
// nested node_modules hold its dependencies, which are production ones too.
const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  .split('\n').filter((line) => line.startsWith(join(root, 'node_modules') + sep));
const packages = new Set(listed.map((line) => {
  const parts = relative(join(root, 'node_modules'), line).split(sep);
  return parts[0].startsWith('@') ? join(parts[0], parts[1]) : parts[0];
}));
for (const name of [...packages].sort()) {
  cpSync(join(root, 'node_modules', name), join(dest, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
}
console.error(`pack-app: ${packages.size} production packages into ${dest}`);
