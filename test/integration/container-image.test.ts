import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDockerd, startRegistry, tempDir, type Dockerd, type Registry } from '../support/engines.js';
import { startRecorder, type Recorder } from '../support/github-recorder.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { buildBinary, repoRoot } from '../support/service-process.js';

// The repository's Dockerfile, built as a user builds it but from bases this test makes from
// the host (no Docker Hub here): a FROM scratch Node base of the host's node binary, its
// libraries and busybox for the shell; the host's docker CLI as DOCKER_CLI; and /app packed
// by scripts/pack-app.mjs as APP (so the test does not spend minutes in `npm ci`). TOOLS is
// empty: the Debian packages are the one part not exercised here. Then the image runs: --help,
// `serve` until its HEALTHCHECK says healthy, and `doctor --json` against real Redis, registry,
// GitHub stand-in and the engine through its mounted socket.

const IMAGE = 'autobuild-test/autobuild:test';
const BASE = 'autobuild-test/node-base:1';
const CLI = 'autobuild-test/docker-cli:1';
const APP = 'autobuild-test/app:1';
const USER = 'bot';
const PASSWORD = 'registry-pass-1234';
const TOKEN = 'ghp_goodtoken1234';

let dockerd: Dockerd;
let registry: Registry;
let redis: TestRedis;
let github: Recorder;
let work: string;
let env: NodeJS.ProcessEnv;
let buildSeconds: number;
let packSeconds: number;
const containers: string[] = [];

const docker = (args: string[], opts: { reject?: boolean; timeout?: number } = {}) =>
  execa('docker', args, { env, reject: opts.reject ?? true, timeout: opts.timeout ?? 120_000 });

/** `ldd` paths of a binary ([] when it is static). */
function libraries(binary: string): string[] {
  let out = '';
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** A FROM scratch image of `files` (host path -> image path) plus `dirs`, built by the private dockerd. */
async function scratchImage(tag: string, root: string, lines: string[] = []): Promise<void> {
  writeFileSync(join(root, '..', `${tag.replace(/\W/g, '_')}.Dockerfile`), ['FROM scratch', 'COPY . /', ...lines, ''].join('\n'));
  await docker(['build', '-q', '-t', tag, '-f', join(root, '..', `${tag.replace(/\W/g, '_')}.Dockerfile`), root]);
}

function place(rootfs: string, hostPath: string, imagePath = hostPath): void {
  mkdirSync(join(rootfs, dirname(imagePath)), { recursive: true });
  copyFileSync(hostPath, join(rootfs, imagePath));
  chmodSync(join(rootfs, imagePath), statSync(hostPath).mode & 0o777);
}

const hostDocker = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();

async function makeBases(): Promise<void> {
  // Node base: node, the libraries of node and of the docker CLI, busybox as /bin/sh and friends.
  const base = join(work, 'base');
  const node = process.execPath;
  place(base, node, '/usr/local/bin/node');
  for (const lib of new Set([...libraries(node), ...libraries(hostDocker)])) place(base, lib);
  const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  place(base, busybox, '/bin/busybox');
  for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') symlinkSync('busybox', join(base, 'bin', applet));
  }
  mkdirSync(join(base, 'tmp'));
  chmodSync(join(base, 'tmp'), 0o1777);
  mkdirSync(join(base, 'etc'));
  writeFileSync(join(base, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(base, 'etc', 'group'), 'root:x:0:\n');
  // The docker CLI image holds the binary only; its libraries (if any) are in the base.
  const cli = join(work, 'cli');
  place(cli, hostDocker, '/usr/local/bin/docker');
  // /app exactly as the Dockerfile's build stage makes it.
  const app = join(work, 'app');
  const packStarted = Date.now();
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'pack-app.mjs'), join(app, 'app')], { stdio: 'ignore' });
  packSeconds = (Date.now() - packStarted) / 1000;
  await Promise.all([scratchImage(BASE, base, ['CMD ["node"]']), scratchImage(CLI, cli), scratchImage(APP, app)]);
}

function configText(port: number): string {
  return [
    `redis: ${redis.url}`,
    'builder: docker',
    'webhookSecret: ${WEBHOOK_SECRET}',
    `server: {host: 127.0.0.1, port: ${port}, publicUrl: "http://127.0.0.1:${port}"}`,
    `github: {token: \${GITHUB_TOKEN}, apiUrl: "${github.url}"}`,
    'registries:',
    `  "${registry.host}": {username: ${USER}, password: \${REGISTRY_PASSWORD}}`,
    'repositories:',
    `  octo-org/app: {image: ${registry.host}/octo/app}`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  const started = Date.now();
  buildBinary();
  work = tempDir('image');
  [dockerd, registry, redis, github] = await Promise.all([
    // overlay2: the image is ~220 MB, which vfs would copy whole for every layer and container.
    startDockerd({ storageDriver: 'overlay2' }),
    startRegistry({ username: USER, password: PASSWORD }),
    startRedis(),
    startRecorder({
      answer: (req) => {
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: 'Bad credentials' } };
        if (req.path === '/repos/octo-org/app') return { status: 200, body: { private: false, permissions: { push: true } } };
        return { status: 404, body: {} };
      },
    }),
  ]);
  env = { ...process.env, DOCKER_HOST: dockerd.host };
  const basesStarted = Date.now();
  await makeBases();
  const basesSeconds = (Date.now() - basesStarted) / 1000;
  const buildStarted = Date.now();
  // BuildKit (the Debian client's built-in one) skips the `build` stage APP replaces; the
  // classic builder would run every stage. --network host: the private dockerd has no bridge.
  await execa(
    '/usr/bin/docker',
    [
      'build',
      '-q',
      '--network',
      'host',
      '-t',
      IMAGE,
      '--build-arg',
      `BASE=${BASE}`,
      '--build-arg',
      `DOCKER_CLI=${CLI}`,
      '--build-arg',
      `APP=${APP}`,
      '--build-arg',
      'TOOLS=',
      repoRoot,
    ],
    { env: { ...env, DOCKER_BUILDKIT: '1' }, timeout: 300_000 },
  );
  buildSeconds = (Date.now() - buildStarted) / 1000;

  const port = await freePort();
  const configFile = join(work, 'autobuild.yml');
  writeFileSync(configFile, configText(port));
  chmodSync(configFile, 0o644);
  // The engine through its socket, as the README says: mount it and add the socket's group.
  const socket = dockerd.host.replace(/^unix:\/\//, '');
  const run = await docker([
    'run',
    '-d',
    '--network',
    'host',
    '-v',
    `${configFile}:/etc/autobuild/autobuild.yml:ro`,
    '-e',
    'WEBHOOK_SECRET=webhook-secret-1234',
    '-e',
    `GITHUB_TOKEN=${TOKEN}`,
    '-e',
    `REGISTRY_PASSWORD=${PASSWORD}`,
    '-e',
    `PORT=${port}`,
    '-v',
    `${socket}:/var/run/docker.sock`,
    '--group-add',
    String(statSync(socket).gid),
    '-e',
    'DOCKER_HOST=unix:///var/run/docker.sock',
    '--health-interval',
    '1s',
    '--health-start-period',
    '1s',
    IMAGE,
    'serve',
  ]);
  serve = run.stdout.trim();
  containers.push(serve);
  const setupSeconds = (Date.now() - started) / 1000;
  // Measured for the report: where the set-up's time goes on a 2-core box.
  process.stderr.write(
    `container-image: bases ${basesSeconds.toFixed(1)} s (pack-app ${packSeconds.toFixed(1)} s), docker build ${buildSeconds.toFixed(1)} s, whole set-up ${setupSeconds.toFixed(1)} s\n`,
  );
}, 400_000);

afterAll(async () => {
  for (const id of containers) await docker(['rm', '-f', '-v', id], { reject: false });
  await Promise.all([dockerd?.stop(), registry?.stop(), redis?.dispose(), github?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `autobuild serve` in the image, as a deployment runs it; every check below runs in it. */
let serve: string;
const inServe = (args: string[]) => docker(['exec', serve, ...args], { reject: false });

describe('the autobuild container image', () => {
  it('runs as a non-root user, with a /healthz HEALTHCHECK and config from /etc/autobuild', async () => {
    const config = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])).stdout);
    expect(config.User).toBe('10001:10001');
    expect(config.Healthcheck.Test.join(' ')).toContain('/healthz');
    expect(config.Env).toContain('AUTOBUILD_CONFIG=/etc/autobuild/autobuild.yml');
    expect(config.Entrypoint).toEqual(['node', '/app/bin/autobuild.js']);
    expect((await inServe(['id'])).stdout).toMatch(/^uid=10001\(autobuild\) gid=10001\(autobuild\)/);
  });

  it('`serve` from a mounted autobuild.yml and env becomes healthy through the HEALTHCHECK', async () => {
    let health = '';
    for (let i = 0; i < 60 && health !== 'healthy'; i++) {
      health = (await docker(['inspect', '--format', '{{.State.Health.Status}}', serve])).stdout.trim();
      if (health !== 'healthy') await new Promise((r) => setTimeout(r, 500));
    }
    if (health !== 'healthy') throw new Error(`serve is ${health}: ${(await docker(['logs', serve], { reject: false })).stderr.slice(-2000)}`);
  });

  it('autobuild --help lists the commands, doctor among them', async () => {
    const res = await inServe(['node', '/app/bin/autobuild.js', '--help']);
    expect(res.exitCode).toBe(0);
    for (const command of ['plan', 'build', 'tags', 'start', 'serve', 'worker', 'doctor']) expect(res.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('autobuild doctor --json passes every check: Redis, the engine through the mounted socket, registry, GitHub, public URL', async () => {
    const res = await inServe(['node', '/app/bin/autobuild.js', 'doctor', '--json']);
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: { name: string; status: string; message: string }[] };
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual([
      'config',
      'redis',
      'redis-persistence',
      'redis-eviction',
      'builder',
      `registry:${registry.host}`,
      'github:octo-org/app',
      'webhook-secret',
      'public-url',
    ]);
    expect(res.exitCode).toBe(0);
  });
});
