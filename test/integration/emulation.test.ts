// A RUN step on a foreign platform (a static arm64 binary on this amd64 machine). Without a
// binfmt_misc handler the build fails in one line saying what is missing; with qemu-aarch64
// registered by this test (and unregistered afterwards: the registration is global to the
// kernel) both builders run the step. Where the kernel refuses binfmt_misc, the test says so in
// its output and only the no-emulation path is checked.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binfmtEnabled } from '../../src/adapters/emulation.js';
import { collectingSink } from '../../src/adapters/log-sink.js';
import { RegistryClient } from '../../src/adapters/registry-client.js';
import { runBuild } from '../../src/pipeline/pipeline.js';
import type { PlannedBuild } from '../../src/core/types.js';
import { buildahStore, keepEnv, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';

const BINFMT = '/proc/sys/fs/binfmt_misc';
const HANDLER = 'qemu-aarch64';

let dockerd: Dockerd;
let registry: Registry;
let workRoot: string;
let buildahDir: string;
let fixture: Fixture;
const restoreEnv = keepEnv('DOCKER_HOST', 'CONTAINERS_STORAGE_CONF');

beforeAll(async () => {
  [dockerd, registry] = await Promise.all([startDockerd(), startRegistry()]);
  process.env.DOCKER_HOST = dockerd.host;
  workRoot = tempDir('work');
  const store = buildahStore();
  buildahDir = store.dir;
  process.env.CONTAINERS_STORAGE_CONF = store.conf;
  // A static arm64 program whose RUN step leaves a file behind.
  const src = tempDir('arm64');
  writeFileSync(
    join(src, 'hello.c'),
    '#include <stdio.h>\nint main(void){FILE*f=fopen("/ran.txt","w");if(!f)return 1;fputs("ran on arm64\\n",f);fclose(f);return 0;}\n',
  );
  execFileSync('aarch64-linux-gnu-gcc', ['-static', '-Os', '-o', join(src, 'hello-arm64'), join(src, 'hello.c')]);
  fixture = makeFixtureRepo({ dockerfile: 'FROM scratch\nCOPY hello-arm64 /hello\nRUN ["/hello"]\n' });
  execFileSync('cp', [join(src, 'hello-arm64'), join(fixture.dir, 'hello-arm64')]);
  execFileSync('git', ['-C', fixture.dir, 'add', 'hello-arm64']);
  execFileSync('git', ['-C', fixture.dir, '-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-qm', 'arm64 program']);
  fixture.sha = execFileSync('git', ['-C', fixture.dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  rmSync(src, { recursive: true, force: true });
});

afterAll(async () => {
  fixture?.cleanup();
  restoreEnv();
  await Promise.all([dockerd?.stop(), registry?.stop()]);
  for (const d of [workRoot, buildahDir]) if (d) rmSync(d, { recursive: true, force: true });
});

function planned(image: string): PlannedBuild {
  return {
    repository: 'octo/app',
    ref: 'refs/tags/v1.0.0',
    sha: fixture.sha,
    images: [image],
    context: '.',
    dockerfile: 'Dockerfile',
    buildArgs: {},
    labels: {},
    tags: ['1.0.0'],
    refs: [`${image}:1.0.0`],
    push: true,
    tagInfo: [],
    trusted: true,
    platforms: ['linux/arm64'],
  };
}

/** Registers qemu-aarch64 from the Debian package's binfmt.d entry; undo() puts the kernel back. */
function registerQemu(): { undo: () => void } | { refused: string } {
  let mounted = false;
  try {
    if (!existsSync(join(BINFMT, 'register'))) {
      execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { stdio: 'pipe' });
      mounted = true;
    }
    const entry = readFileSync('/usr/lib/binfmt.d/qemu-aarch64.conf', 'utf8').trim();
    writeFileSync(join(BINFMT, 'register'), entry);
  } catch (err) {
    if (mounted) execFileSync('umount', [BINFMT]);
    return { refused: (err as Error).message.split('\n')[0] ?? String(err) };
  }
  return {
    undo: () => {
      if (existsSync(join(BINFMT, HANDLER))) writeFileSync(join(BINFMT, HANDLER), '-1');
      if (mounted) execFileSync('umount', [BINFMT]);
    },
  };
}

async function layerFiles(ref: string): Promise<string> {
  const client = new RegistryClient({});
  const index = JSON.parse(Buffer.from((await client.getManifest(ref))!.bytes).toString()) as { manifests: { digest: string }[] };
  const image = ref.slice(0, ref.lastIndexOf(':'));
  const child = JSON.parse(Buffer.from((await client.getManifest(`${image}@${index.manifests[0]!.digest}`))!.bytes).toString()) as {
    layers: { digest: string; mediaType: string }[];
  };
  const path = image.slice(image.indexOf('/') + 1);
  const parts = await Promise.all(
    child.layers.map(async (l) => {
      const bytes = Buffer.from(await (await fetch(`http://${registry.host}/v2/${path}/blobs/${l.digest}`)).arrayBuffer());
      return (l.mediaType.endsWith('gzip') ? gunzipSync(bytes) : bytes).toString('latin1');
    }),
  );
  return parts.join('');
}

describe('a RUN step on a foreign platform', () => {
  const alreadyThere = existsSync(join(BINFMT, HANDLER));

  for (const builder of ['docker', 'buildah'] as const) {
    it(`${builder}: without a binfmt handler the build fails in one line saying emulation is missing`, async () => {
      // The registration is global: one left by someone else would make this row meaningless.
      expect(await binfmtEnabled(HANDLER), `${HANDLER} is registered outside this test; unregister it to run this row`).toBe(false);
      const log = collectingSink();
      const err = await rejection(
        runBuild({
          build: planned(`${registry.host}/octo/noemu-${builder}`),
          source: { cloneUrl: fixture.url, sha: fixture.sha },
          workRoot,
          builder,
          registries: {},
          log,
        }),
      );
      expect(err.message).toBe(
        'linux/arm64 needs CPU emulation for the Dockerfile\'s RUN steps on this amd64 machine, and binfmt_misc has no qemu-aarch64 handler — install qemu-user-static and register it (README: "Foreign platforms"), or drop linux/arm64 from platforms',
      );
      expect(log.lines.join('\n')).not.toMatch(/exec format error/);
    });
  }

  it('with qemu-aarch64 registered, docker and buildah run the arm64 step and push an arm64 image', async () => {
    const registration = alreadyThere ? { undo: () => {} } : registerQemu();
    if ('refused' in registration) {
      console.log(`binfmt_misc refused here (${registration.refused}): only the no-emulation error is tested`);
      return;
    }
    try {
      for (const builder of ['docker', 'buildah'] as const) {
        const image = `${registry.host}/octo/emulated-${builder}`;
        const log = collectingSink();
        const result = await runBuild({ build: planned(image), source: { cloneUrl: fixture.url, sha: fixture.sha }, workRoot, builder, registries: {}, log });
        expect(result.platforms?.map((p) => p.platform)).toEqual(['linux/arm64']);
        expect(await layerFiles(`${image}:1.0.0`)).toContain('ran on arm64');
      }
    } finally {
      registration.undo();
    }
    expect(existsSync(join(BINFMT, HANDLER))).toBe(alreadyThere);
  });
});
