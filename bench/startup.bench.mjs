// CLI start-up: `autobuild --help` (and other commands) against `node -e 0`, the cost of
// starting Node itself, measured alternately in the same run: wall time, and the CPU time the
// process used (steadier on a shared machine). Target: --help <= 2x.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, report } from './stats.mjs';

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 11));
const work = mkdtempSync(join(tmpdir(), 'autobuild-bench-startup-'));
const config = join(work, 'autobuild.yml');
writeFileSync(config, 'repositories:\n  octo/app:\n    image: 127.0.0.1:5000/octo/app\n');
const cpuFile = join(work, 'cpu');
const preload = join(import.meta.dirname, 'cpu-report.cjs');
const env = { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_CPU_FILE: cpuFile };
const bin = join(process.cwd(), 'bin', 'autobuild.js');

/** One run of node with `args`: wall time and the process's own CPU time, in ms. */
const timed = (args) => () => {
  writeFileSync(cpuFile, '');
  const t0 = performance.now();
  execFileSync(process.execPath, ['--require', preload, ...args], { env, stdio: 'ignore', cwd: work });
  const wall = performance.now() - t0;
  return { wall, cpu: Number(readFileSync(cpuFile, 'utf8').trim()) / 1000 };
};

try {
  timed([bin, '--help'])();
  const rows = await alternate(ROUNDS, timed(['-e', '0']), {
    help: timed([bin, '--help']),
    buildHelp: timed([bin, 'build', '--help']),
    plan: timed([bin, 'plan', '--config', config, '--ref', 'refs/tags/v1.2.3', '--sha', '6113728f27ae82c7b1a177c8d03f9e96e0adf246', '--json']),
  });
  console.log('baseline: node -e 0 in the same run; wall = elapsed, cpu = user+system of the process');
  report('autobuild --help, wall', rows.help.wall, 2);
  report('autobuild --help, cpu', rows.help.cpu, 2);
  report('autobuild build --help, wall', rows.buildHelp.wall);
  report('autobuild build --help, cpu', rows.buildHelp.cpu);
  report('autobuild plan --ref (config + plan), wall', rows.plan.wall);
  report('autobuild plan --ref (config + plan), cpu', rows.plan.cpu);
} finally {
  rmSync(work, { recursive: true, force: true });
}
