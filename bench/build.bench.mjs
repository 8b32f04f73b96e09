// `autobuild build` against a hand-written `docker build` + `docker tag` + `docker push` script,
// same fixture, warm build cache, same four tags, alternating which goes first; and what each
// extra tag costs against the first push of the same build. Printed as ratios to the baseline
// of the same round (median of the rounds, best round beside it) with the load average.
// Targets: autobuild build <= 1.05x the hand script; each extra tag <= 0.05x the first push.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild } from '../build/src/pipeline/pipeline.js';
import { makeFixture, startDockerd, startRegistry } from './engines.mjs';
import { alternate, report } from './stats.mjs';

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 7));
const TAGS = ['1.0.0', '1.0', '1', 'latest'];

const dockerd = await startDockerd();
const registry = await startRegistry();
const fixture = makeFixture();
const workRoot = mkdtempSync(join(tmpdir(), 'autobuild-bench-work-'));
process.env.DOCKER_HOST = dockerd.host;
const env = { ...process.env, DOCKER_HOST: dockerd.host };
const docker = (...args) => execFileSync('docker', args, { env, stdio: 'ignore' });
let image = 0;
const fresh = (who) => `${registry.host}/bench/${who}-${++image}`;

/** What people script by hand: build, tag each, push each. */
function handScript() {
  const name = fresh('hand');
  const t0 = performance.now();
  docker('build', '-q', '-t', `${name}:${TAGS[0]}`, fixture.dir);
  for (const tag of TAGS.slice(1)) docker('tag', `${name}:${TAGS[0]}`, `${name}:${tag}`);
  const p0 = performance.now();
  docker('push', '-q', `${name}:${TAGS[0]}`);
  const p1 = performance.now();
  for (const tag of TAGS.slice(1)) docker('push', '-q', `${name}:${tag}`);
  const t1 = performance.now();
  return { total: t1 - t0, first: p1 - p0, extra: (t1 - p1) / (TAGS.length - 1) };
}

/**
 * The same script on the builder autobuild picks here: the docker client that has BuildKit built
 * in (here /usr/bin/docker with DOCKER_BUILDKIT=1; host network as the private engine
 * has no bridge). Without it the comparison would weigh BuildKit against the classic builder.
 */
function handScriptBuildkit() {
  const name = fresh('hand-bk');
  const bk = { ...env, DOCKER_BUILDKIT: '1' };
  const run = (...args) => execFileSync('/usr/bin/docker', args, { env: bk, stdio: 'ignore' });
  const t0 = performance.now();
  run('build', '-q', '--network', 'host', '-t', `${name}:${TAGS[0]}`, fixture.dir);
  for (const tag of TAGS.slice(1)) run('tag', `${name}:${TAGS[0]}`, `${name}:${tag}`);
  for (const tag of TAGS) run('push', '-q', `${name}:${tag}`);
  return { total: performance.now() - t0 };
}

/** The CLI as a user runs it, Node start-up included. */
function autobuildCli() {
  const t0 = performance.now();
  execFileSync(
    process.execPath,
    [
      'bin/autobuild.js',
      'build',
      fixture.dir,
      '--image',
      fresh('cli'),
      ...TAGS.flatMap((t) => ['--tag', t]),
      '--sha',
      fixture.sha,
      '--ref',
      'refs/heads/main',
      '--quiet',
      '--json',
    ],
    { env, stdio: 'ignore' },
  );
  return { total: performance.now() - t0 };
}

/** In-process, timing the pipeline's own events: whole run, first push, each further tag. */
async function autobuildPushes() {
  const name = fresh('pipeline');
  const t0 = performance.now();
  const marks = [];
  const log = {
    line() {},
    event(e) {
      marks.push({ e, t: performance.now() });
    },
  };
  await runBuild({
    build: {
      repository: 'bench/app',
      ref: 'refs/heads/main',
      sha: fixture.sha,
      images: [name],
      context: '.',
      dockerfile: 'Dockerfile',
      buildArgs: {},
      labels: {},
      tags: TAGS,
      refs: TAGS.map((t) => `${name}:${t}`),
      push: true,
      trusted: true,
      tagInfo: TAGS.map((tag) => ({ tag, kind: tag === 'latest' ? 'latest' : 'immutable' })),
    },
    source: { dir: fixture.dir },
    workRoot,
    builder: 'docker',
    registries: {},
    log,
  });
  const start = marks.find((m) => m.e.type === 'step-started' && m.e.step === 'push').t;
  const pushed = marks.filter((m) => m.e.type === 'pushed').map((m) => m.t);
  const first = pushed[0] - start;
  return { total: performance.now() - t0, first, extra: (pushed.at(-1) - pushed[0]) / (pushed.length - 1) };
}

try {
  // Warm the build cache (and node's file cache) before measuring.
  handScript();
  autobuildCli();
  await autobuildPushes();
  const buildkit = existsSync('/usr/bin/docker');
  if (buildkit) handScriptBuildkit();
  const rows = await alternate(ROUNDS, handScript, { cli: autobuildCli, pipeline: autobuildPushes, ...(buildkit ? { buildkit: handScriptBuildkit } : {}) });
  const pushes = rows.pipeline.extra.map((r, i) => ({ base: rows.pipeline.first[i].value, value: r.value, ratio: r.value / rows.pipeline.first[i].value }));
  const dockerExtra = rows.pipeline.first.map((r, i) => ({ base: r.base, value: rows.pipeline.extra[i].base, ratio: rows.pipeline.extra[i].base / r.base }));
  console.log(`tags: ${TAGS.join(' ')}; baseline: the hand script (docker build -q, 3x docker tag, 4x docker push -q) in the same round`);
  report('autobuild build (CLI, Node start-up incl.) / hand', rows.cli.total, 1.05);
  if (rows.buildkit) {
    // The same rounds, against the hand script on the builder autobuild uses (BuildKit).
    const same = rows.cli.total.map((r, i) => ({ base: rows.buildkit.total[i].value, value: r.value, ratio: r.value / rows.buildkit.total[i].value }));
    report('autobuild build (CLI) / hand script with BuildKit, as autobuild builds', same, 1.05);
    report('hand script with BuildKit / classic hand script', rows.buildkit.total);
  }
  report('runBuild() in-process / hand', rows.pipeline.total);
  report('autobuild: each extra tag / its first push', pushes, 0.05);
  report('hand: each extra docker push / the first', dockerExtra);
} finally {
  fixture.cleanup();
  rmSync(workRoot, { recursive: true, force: true });
  await Promise.all([dockerd.stop(), registry.stop()]);
}
