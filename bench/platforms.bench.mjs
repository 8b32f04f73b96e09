// Multi-platform builds and the shared registry cache, with buildah (no daemon, so a "fresh
// worker" is just an empty storage root). Three figures, each a ratio against a baseline measured
// in the same run, medians of BENCH_ROUNDS (default 5) rounds whose order alternates:
//   1. second build on a fresh worker with the registry cache / without     (target <= 0.50x)
//      on a Dockerfile whose slow step (a 10 s RUN, standing in for a dependency install) is cached
//   2. two-platform COPY-only build / the same build for one platform       (target <= 1.60x)
//   3. `autobuild build --platform` / the same steps by hand                 (target <= 1.10x)
//      (buildah build --manifest, manifest push --all, then each further tag pushed again)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild } from '../build/src/pipeline/pipeline.js';
import { defaultCache } from '../build/src/core/build-settings.js';
import { startRegistry } from './engines.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TAGS = ['1.0.0', '1.0', '1', 'latest'];
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;
const temp = (prefix) => mkdtempSync(join(tmpdir(), `autobuild-bench-${prefix}-`));
const dirs = [];

/** An empty buildah store: what a worker that never built this image has. */
function freshStore() {
  const dir = temp('buildah');
  dirs.push(dir);
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  return join(dir, 'storage.conf');
}

/** A build context (not a git checkout: the pipeline builds a directory as the CLI does). */
function context(dockerfile) {
  const dir = temp('ctx');
  dirs.push(dir);
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'add', '-A']);
  execFileSync('git', ['-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@e', 'commit', '-qm', 'bench']);
  return dir;
}

const registry = await startRegistry();
const workRoot = temp('work');

function planned(image, tags, extra = {}) {
  return {
    repository: 'bench/app',
    ref: 'refs/heads/main',
    sha: '0'.repeat(40),
    images: [image],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags,
    refs: tags.map((t) => `${image}:${t}`),
    push: true,
    tagInfo: [],
    trusted: true,
    ...extra,
  };
}

/** One in-process build on a given store; returns its wall time. */
async function timedBuild(store, dir, build) {
  process.env.CONTAINERS_STORAGE_CONF = store;
  const log = { line() {}, event() {} };
  const t0 = performance.now();
  await runBuild({ build, source: { dir }, workRoot, builder: 'buildah', registries: {}, log, now: new Date(0) });
  return performance.now() - t0;
}

try {
  // 1. Registry cache on a fresh worker. The slow step is worth caching; the last step differs per commit.
  const slow = (release) =>
    `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox sleep 10; echo slow > /slow.txt"]\nLABEL release=${release}\n`;
  const withCache = [];
  const withoutCache = [];
  for (let r = 0; r < ROUNDS; r++) {
    const image = `${registry.host}/bench/cache-${r}`;
    const cache = defaultCache([image]);
    // The first worker builds commit A and fills the cache.
    await timedBuild(freshStore(), context(slow(`a${r}`)), planned(image, [`a${r}`], cache));
    const cached = () => timedBuild(freshStore(), context(slow(`b${r}`)), planned(image, [`b${r}`], cache));
    const uncached = () =>
      timedBuild(freshStore(), context(slow(`c${r}`)), planned(`${registry.host}/bench/nocache-${r}`, [`c${r}`], { cacheFrom: [], cacheTo: [] }));
    if (r % 2 === 0) {
      withCache.push(await cached());
      withoutCache.push(await uncached());
    } else {
      withoutCache.push(await uncached());
      withCache.push(await cached());
    }
  }
  const c1 = median(withCache);
  const c0 = median(withoutCache);
  console.log(`rounds: ${ROUNDS} (medians), builder buildah`);
  console.log(`1. fresh worker, registry cache ${ms(c1)} vs no cache ${ms(c0)}: ${(c1 / c0).toFixed(2)}x (target <= 0.50x); the slow step is 10 s`);

  // 2. Two platforms vs one, COPY-only, each on an empty store.
  const copyOnly = context('FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "hi"]\n');
  const two = [];
  const one = [];
  for (let r = 0; r < ROUNDS; r++) {
    const multi = () => timedBuild(freshStore(), copyOnly, planned(`${registry.host}/bench/two-${r}`, TAGS, { platforms: PLATFORMS }));
    const single = () => timedBuild(freshStore(), copyOnly, planned(`${registry.host}/bench/one-${r}`, TAGS, { platforms: ['linux/amd64'] }));
    if (r % 2 === 0) {
      two.push(await multi());
      one.push(await single());
    } else {
      one.push(await single());
      two.push(await multi());
    }
  }
  const p2 = median(two);
  const p1 = median(one);
  console.log(`2. two platforms ${ms(p2)} vs one ${ms(p1)}: ${(p2 / p1).toFixed(2)}x (target <= 1.60x)`);

  // 3. The CLI against the same steps typed by hand, both on one store.
  const store = freshStore();
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: store };
  const buildah = (...args) => execFileSync('buildah', ['--storage-driver', 'vfs', ...args], { env, stdio: 'ignore' });
  const byHand = (image, r) => {
    const list = `localhost/bench-hand-${r}`;
    const t0 = performance.now();
    buildah('bud', '--isolation', 'chroot', '--platform', PLATFORMS.join(','), '--manifest', list, copyOnly);
    for (const tag of TAGS) buildah('manifest', 'push', '--all', '--tls-verify=false', list, `docker://${image}:${tag}`);
    return performance.now() - t0;
  };
  const cli = (image) => {
    const t0 = performance.now();
    execFileSync(
      process.execPath,
      [
        'bin/autobuild.js',
        'build',
        copyOnly,
        '--image',
        image,
        ...TAGS.flatMap((t) => ['--tag', t]),
        '--platform',
        PLATFORMS.join(','),
        '--builder',
        'buildah',
        '--quiet',
        '--json',
      ],
      { env, stdio: 'ignore' },
    );
    return performance.now() - t0;
  };
  byHand(`${registry.host}/bench/warm-hand`, 'warm');
  cli(`${registry.host}/bench/warm-cli`);
  /** The same pipeline without node's start-up: what the service's worker runs. */
  const inProcess = (image) => timedBuild(store, copyOnly, planned(image, TAGS, { platforms: PLATFORMS }));
  const startup = () => {
    const t0 = performance.now();
    execFileSync(process.execPath, ['bin/autobuild.js', 'build', '--help'], { env, stdio: 'ignore' });
    return performance.now() - t0;
  };
  const hand = [];
  const ours = [];
  const pipeline = [];
  const starts = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      hand.push(byHand(`${registry.host}/bench/hand-${r}`, r));
      ours.push(cli(`${registry.host}/bench/cli-${r}`));
    } else {
      ours.push(cli(`${registry.host}/bench/cli-${r}`));
      hand.push(byHand(`${registry.host}/bench/hand-${r}`, r));
    }
    pipeline.push(await inProcess(`${registry.host}/bench/pipeline-${r}`));
    starts.push(startup());
  }
  const h = median(hand);
  const o = median(ours);
  const p = median(pipeline);
  console.log(
    `3. autobuild build --platform ${ms(o)} vs by hand (build --manifest + ${TAGS.length}x manifest push --all) ${ms(h)}: ${(o / h).toFixed(2)}x (target <= 1.10x)`,
  );
  console.log(`   of which CLI start-up (autobuild build --help): ${ms(median(starts))}; runBuild() in-process / by hand: ${(p / h).toFixed(2)}x (${ms(p)})`);
} finally {
  await registry.stop();
  for (const d of [workRoot, ...dirs]) rmSync(d, { recursive: true, force: true });
}
