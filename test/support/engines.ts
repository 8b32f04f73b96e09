// Real engines for integration tests: a private dockerd on vfs, CNCF registries (open and
// htpasswd), a git fixture repository, and a proxy that answers 503 to the first few pushes.
// Every process is started here and stopped by its own pid; temp dirs are removed afterwards.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, chmodSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `autobuild-${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

// If a test file dies before its afterAll, the engines it started still stop with it.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

function startLogged(file: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * dockerd leaves the network namespace it bound for `--network host` containers mounted under
 * its exec root after it exits; unmount what is left under `dir` so the directory can go.
 */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${dir}/`))
    .reverse();
  for (const target of mounts) {
    try {
      execFileSync('umount', ['-l', target], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

export interface Dockerd {
  /** `unix://...` for DOCKER_HOST. */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * `storageDriver: 'overlay2'` suits tests that move big images (vfs copies every layer whole);
 * where overlay2 cannot start, the engine falls back to vfs, which works everywhere.
 */
export async function startDockerd(opts: { storageDriver?: 'vfs' | 'overlay2' } = {}): Promise<Dockerd> {
  if (opts.storageDriver === 'overlay2') {
    try {
      return await startDockerdWith('overlay2');
    } catch {
      return startDockerdWith('vfs');
    }
  }
  return startDockerdWith('vfs');
}

async function startDockerdWith(storageDriver: 'vfs' | 'overlay2'): Promise<Dockerd> {
  const dir = tempDir('dockerd');
  const sock = join(dir, 'docker.sock');
  const child = startLogged(
    'dockerd',
    [
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(dir, 'pid'),
      '--storage-driver',
      storageDriver,
      '--iptables=false',
      '--bridge=none',
    ],
    join(dir, 'dockerd.log'),
  );
  const host = `unix://${sock}`;
  const stop = async () => {
    await stopChild(child);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('dockerd', () => {
      if (child.exitCode !== null) throw new Error(`dockerd exited: ${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
      try {
        execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { env: { ...process.env, DOCKER_HOST: host }, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, dir, stop };
}

export interface Registry {
  /** `127.0.0.1:PORT`, the domain part of image names. */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startRegistry(auth?: { username: string; password: string }): Promise<Registry> {
  const dir = tempDir('registry');
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log: {level: warn}',
    `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
    `http: {addr: 127.0.0.1:${port}}`,
  ];
  if (auth) {
    // bcrypt via htpasswd -B, the only hash distribution accepts; the password goes on argv of
    // this one-off set-up command only, never during a build.
    const hash = execFileSync('htpasswd', ['-Bbn', auth.username, auth.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), hash);
    lines.push(`auth: {htpasswd: {realm: test, path: ${join(dir, 'htpasswd')}}}`);
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child = startLogged('docker-registry', ['serve', join(dir, 'config.yml')], join(dir, 'registry.log'));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('registry', async () => {
      if (child.exitCode !== null) throw new Error(`registry exited: ${readFileSync(join(dir, 'registry.log'), 'utf8').slice(-2000)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v2/`);
        return res.status === 200 || res.status === 401;
      } catch {
        return false;
      }
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: `127.0.0.1:${port}`, dir, stop };
}

export interface FixtureOptions {
  /** Extra RUN line content, so different fixtures give different images. */
  content?: string;
  commitMessage?: string;
  branch?: string;
  /** hooks/<name> -> script text (written executable unless `hooksNotExecutable`). */
  hooks?: Record<string, string>;
  hooksNotExecutable?: boolean;
  /** Replaces the whole Dockerfile (busybox is still copied into the context). */
  dockerfile?: string;
  /** Dockerfile location inside the repository. */
  subdir?: string;
  /** More files next to the Dockerfile: name -> text (e.g. docker-compose.test.yml). */
  files?: Record<string, string>;
}

export interface Fixture {
  dir: string;
  url: string;
  sha: string;
  cleanup(): void;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function busyboxDockerfile(content = 'hello'): string {
  return [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    `RUN echo ${JSON.stringify(content)} > /hello.txt`,
    'CMD ["/bin/sh", "-c", "cat /hello.txt"]',
    '',
  ].join('\n');
}

/** A git repository holding the busybox image's context; `url` is a file:// URL. */
export function makeFixtureRepo(opts: FixtureOptions = {}): Fixture {
  const dir = tempDir('repo');
  const ctx = opts.subdir ? join(dir, opts.subdir) : dir;
  mkdirSync(ctx, { recursive: true });
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(ctx, 'busybox'));
  writeFileSync(join(ctx, 'Dockerfile'), opts.dockerfile ?? busyboxDockerfile(opts.content));
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(ctx, name), text);
  if (opts.hooks) {
    mkdirSync(join(ctx, 'hooks'));
    for (const [name, text] of Object.entries(opts.hooks)) {
      writeFileSync(join(ctx, 'hooks', name), text);
      chmodSync(join(ctx, 'hooks', name), opts.hooksNotExecutable ? 0o644 : 0o755);
    }
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', opts.branch ?? 'main');
  git('add', '-A');
  git('commit', '-q', '-m', opts.commitMessage ?? 'Initial commit');
  const sha = git('rev-parse', 'HEAD');
  return { dir, url: `file://${dir}`, sha, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Proxy {
  /** `127.0.0.1:PORT`: use it as the registry domain. */
  host: string;
  /** How many requests the gate answered itself so far. */
  answered(): number;
  stop(): Promise<void>;
}

/** Answers a request itself (returns true) or lets it through to the registry (returns false). */
type Gate = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, self: string) => boolean;

/** An HTTP proxy in front of a registry; `gate` may answer requests instead of the registry. */
export async function startProxy(target: string, gate: Gate): Promise<Proxy> {
  let answered = 0;
  const server: Server = createServer((req, res) => {
    if (gate(req, res, req.headers.host ?? '')) {
      answered++;
      req.resume();
      return;
    }
    const [host, port] = target.split(':');
    const headers = { ...req.headers, host: target };
    const upstream = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers }, (up) => {
      // Location headers point at the registry; rewrite them so the client stays on the proxy.
      const out = { ...up.headers };
      if (typeof out.location === 'string') out.location = out.location.replace(`//${target}`, `//${req.headers.host}`);
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    host: `127.0.0.1:${port}`,
    answered: () => answered,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers 503 to the first `failFirst` requests `shouldFail` picks (default: manifest uploads). */
export function startFlakyProxy(
  target: string,
  failFirst: number,
  shouldFail: (method: string, url: string) => boolean = (m, u) => m === 'PUT' && u.includes('/manifests/'),
): Promise<Proxy> {
  let failed = 0;
  return startProxy(target, (req, res) => {
    if (failed >= failFirst || !shouldFail(req.method ?? 'GET', req.url ?? '')) return false;
    failed++;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected by test"}]}');
    return true;
  });
}

/**
 * Docker Hub-style token auth in front of an open registry: /v2/ answers 401 with a Bearer
 * challenge; /token hands out a token for the right Basic credentials, one per scope.
 */
export function startTokenAuthProxy(target: string, username: string, password: string): Promise<Proxy & { tokenRequests: string[] }> {
  const tokens = new Set<string>();
  const tokenRequests: string[] = [];
  return startProxy(target, (req, res, self) => {
    const url = new URL(req.url ?? '/', `http://${self}`);
    if (url.pathname === '/token') {
      tokenRequests.push(url.searchParams.get('scope') ?? '');
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401).end();
        return true;
      }
      const token = `t${Math.random().toString(36).slice(2)}`;
      tokens.add(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return true;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && tokens.has(bearer)) {
      delete req.headers.authorization; // the open registry behind needs none
      return false;
    }
    const repo = /^\/v2\/(.+)\/(?:tags|manifests|blobs)\//.exec(url.pathname)?.[1] ?? '';
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${self}/token",service="test-registry",scope="repository:${repo}:pull"` }).end();
    return true;
  }).then((p) => ({ ...p, tokenRequests }));
}

/** Builds the fixture with plain docker and pushes `refs`, for tests of the registry client alone. */
export function dockerBuildAndPush(dockerHost: string, contextDir: string, refs: string[], dockerConfig?: string): void {
  const env = { ...process.env, DOCKER_HOST: dockerHost, ...(dockerConfig ? { DOCKER_CONFIG: dockerConfig } : {}) };
  const [first, ...rest] = refs;
  execFileSync('docker', ['build', '-q', '-t', first!, contextDir], { env, stdio: 'ignore' });
  for (const r of rest) execFileSync('docker', ['tag', first!, r], { env });
  for (const r of refs) execFileSync('docker', ['push', '-q', r], { env, stdio: 'ignore' });
}

/** A private buildah store (vfs) in a temp dir: `conf` for CONTAINERS_STORAGE_CONF, `dir` to remove. */
/**
 * Remembers the current values of `names` in process.env; the returned function puts them back
 * (deleting the ones that were unset), for a test file's afterAll.
 */
export function keepEnv(...names: string[]): () => void {
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

export function buildahStore(): { conf: string; dir: string } {
  const dir = tempDir('buildah');
  const conf = join(dir, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  return { conf, dir };
}
