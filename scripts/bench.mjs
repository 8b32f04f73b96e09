// `npm run bench`: builds, then runs every bench/*.bench.mjs one after another. Each prints its
// figures as ratios against a baseline measured in the same run (bench/stats.mjs), alternating,
// median of at least 5 rounds; the load average is printed beside each figure and around each
// file, since the machine may be shared. `npm run bench -- NAME` runs only files matching NAME.
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
const only = process.argv[2];
for (const file of readdirSync('bench')
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n== ${file} (load average ${load()})`);
  execFileSync(process.execPath, [`bench/${file}`], { stdio: 'inherit' });
  console.log(`   (load average after: ${load()})`);
}
