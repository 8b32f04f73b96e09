// `npm run bench`: builds, then runs every bench/*.bench.mjs one after another. Each prints its
// figures as ratios against a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
const only = process.argv[2];
for (const file of readdirSync('bench').filter((f) => f.endsWith('.bench.mjs')).sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n== ${file}`);
  execFileSync(process.execPath, [`bench/${file}`], { stdio: 'inherit' });
}
