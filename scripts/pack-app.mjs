// Copies what `autobuild` needs at run time into DEST (the container image's /app): bin/, the
// compiled build/, the dashboard's static assets, package.json, and only the production
// dependencies of node_modules (as `npm ls --omit=dev` lists them), so the image carries no
// compiler, test runner or browser driver. Run after `npm ci && npm run build`.
// Usage: node scripts/pack-app.mjs DEST
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
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

// Each production package's top directory under node_modules (`name` or `@scope/name`); its own
// nested node_modules hold its dependencies, which are production ones too.
const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  .split('\n')
  .filter((line) => line.startsWith(join(root, 'node_modules') + sep));
const packages = new Set(
  listed.map((line) => {
    const parts = relative(join(root, 'node_modules'), line).split(sep);
    return join('node_modules', parts[0].startsWith('@') ? join(parts[0], parts[1]) : parts[0]);
  }),
);
// One `cp -a --parents` for everything: Node's cpSync walks thousands of small files one
// syscall chain at a time and takes several times longer on a busy disk.
const paths = ['package.json', 'bin', 'build', join('src', 'service', 'dashboard', 'assets'), ...[...packages].sort()];
execFileSync('cp', ['-a', '--parents', ...paths, resolve(dest)], { cwd: root });
execFileSync('find', [resolve(dest), '-name', '*.map', '-delete']);
console.error(`pack-app: ${packages.size} production packages into ${dest}`);
