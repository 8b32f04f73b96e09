// `autobuild build` against a hand-written `docker build` + `docker tag` + `docker push` script,
// same fixture, warm build cache, same four tags; and what each extra tag costs compared with
// the first push. Several rounds, medians, printed as ratios (targets: <= 1.10x and <= 0.10x).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild } from '../build/src/build/pipeline.js';
import { makeFixture, startDockerd, startRegistry } from './engines.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TAGS = ['1.0.0', '1.0', '1', 'latest'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

const dockerd = await startDockerd();
const registry = await startRegistry();
const fixture = makeFixture();
const workRoot = mkdtempSync(join(tmpdir(), 'autobuild-bench-work-'));
process.env.DOCKER_HOST = dockerd.host;
const env = { ...process.env, DOCKER_HOST: dockerd.host };
const docker = (...args) => execFileSync('docker', args, { env, stdio: 'ignore' });

/** What people script by hand: build, tag each, push each; returns [total, first push, extra pushes]. */
function handScript(image) {
  const t0 = performance.now();
  docker('build', '-q', '-t', `${image}:${TAGS[0]}`, fixture.dir);
  for (const tag of TAGS.slice(1)) docker('tag', `${image}:${TAGS[0]}`, `${image}:${tag}`);
  const p0 = performance.now();
  docker('push', '-q', `${image}:${TAGS[0]}`);
  const p1 = performance.now();
  for (const tag of TAGS.slice(1)) docker('push', '-q', `${image}:${tag}`);
  const t1 = performance.now();
  return { total: t1 - t0, first: p1 - p0, extra: (t1 - p1) / (TAGS.length - 1) };
}

function autobuildCli(image) {
  const t0 = performance.now();
  execFileSync(process.execPath, ['bin/autobuild.js', 'build', fixture.dir, '--image', image, ...TAGS.flatMap((t) => ['--tag', t]), '--quiet', '--json'], { env, stdio: 'ignore' });
  return performance.now() - t0;
}

/** Node start-up and module loading alone: the CLI's fixed cost before any work. */
function cliStartup() {
  const t0 = performance.now();
  execFileSync(process.execPath, ['bin/autobuild.js', '--help'], { env, stdio: 'ignore' });
  return performance.now() - t0;
}

/** In-process, timing the pipeline's own events: whole run, first push, each further tag. */
async function autobuildPushes(image) {
  const t0 = performance.now();
  const marks = [];
  const log = { line() {}, event(e) { marks.push({ e, t: performance.now() }); } };
  await runBuild({
    build: {
      repository: 'bench/app', ref: 'refs/heads/main', sha: fixture.sha, images: [image], context: '.', dockerfile: 'Dockerfile',
      buildArgs: {}, labels: {}, tags: TAGS, refs: TAGS.map((t) => `${image}:${t}`), push: true,
      tagInfo: TAGS.map((tag) => ({ tag, kind: tag === 'latest' ? 'latest' : 'immutable' })),
    },
    source: { dir: fixture.dir }, workRoot, builder: 'docker', registries: {}, log,
  });
  const start = marks.find((m) => m.e.type === 'step-started' && m.e.step === 'push').t;
  const pushed = marks.filter((m) => m.e.type === 'pushed').map((m) => m.t);
  return { total: performance.now() - t0, first: pushed[0] - start, extra: (pushed.at(-1) - pushed[0]) / (pushed.length - 1) };
}

try {
  // Warm the build cache (and node's file cache) before measuring.
  handScript(`${registry.host}/bench/warm-hand`);
  autobuildCli(`${registry.host}/bench/warm-cli`);
  const hand = [];
  const cli = [];
  const pushes = [];
  const startup = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate who goes first so neither always meets a busier or calmer machine.
    if (r % 2 === 0) {
      hand.push(handScript(`${registry.host}/bench/hand-${r}`));
      cli.push(autobuildCli(`${registry.host}/bench/cli-${r}`));
    } else {
      cli.push(autobuildCli(`${registry.host}/bench/cli-${r}`));
      hand.push(handScript(`${registry.host}/bench/hand-${r}`));
    }
    pushes.push(await autobuildPushes(`${registry.host}/bench/pipeline-${r}`));
    startup.push(cliStartup());
  }
  const handTotal = median(hand.map((h) => h.total));
  const cliTotal = median(cli);
  const abFirst = median(pushes.map((p) => p.first));
  const abExtra = median(pushes.map((p) => p.extra));
  const dockerFirst = median(hand.map((h) => h.first));
  const dockerExtra = median(hand.map((h) => h.extra));
  console.log(`rounds: ${ROUNDS}, tags: ${TAGS.join(' ')} (medians)`);
  console.log(`hand-written docker build+tag+push:  ${ms(handTotal)}`);
  console.log(`autobuild build (CLI, node start incl.): ${ms(cliTotal)}`);
  console.log(`ratio autobuild / hand-written:       ${(cliTotal / handTotal).toFixed(2)}x (target <= 1.10x)`);
  const pipelineTotal = median(pushes.map((p) => p.total));
  const startupTotal = median(startup);
  console.log(`  of which CLI start-up (autobuild --help): ${ms(startupTotal)}`);
  console.log(`runBuild() in-process / hand-written: ${(pipelineTotal / handTotal).toFixed(2)}x (${ms(pipelineTotal)})`);
  console.log(`autobuild first push ${ms(abFirst)}, each extra tag ${ms(abExtra)} (manifest re-put)`);
  console.log(`extra tag / first push:               ${(abExtra / abFirst).toFixed(2)}x (target <= 0.10x)`);
  console.log(`for comparison, docker push of an extra tag: ${ms(dockerExtra)} vs first ${ms(dockerFirst)} = ${(dockerExtra / dockerFirst).toFixed(2)}x`);
} finally {
  fixture.cleanup();
  rmSync(workRoot, { recursive: true, force: true });
  await Promise.all([dockerd.stop(), registry.stop()]);
}
