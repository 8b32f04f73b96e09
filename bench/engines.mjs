// Engines for benchmarks (plain ESM, no build step): a private dockerd on vfs, an open registry
// and a busybox fixture, started on free ports and stopped by the pids started here.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const temp = (prefix) => mkdtempSync(join(tmpdir(), `autobuild-bench-${prefix}-`));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(what, ok, ms = 60_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${ms} ms`);
}

// Whatever happens to the benchmark (a throw, process.exit), the engines it started go with it.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGTERM');
});

function start(file, args, dir) {
  const fd = openSync(join(dir, 'out.log'), 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stop(child, dir) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function startDockerd() {
  const dir = temp('dockerd');
  const host = `unix://${join(dir, 'docker.sock')}`;
  const child = start(
    'dockerd',
    [
      '--data-root',
      join(dir, 'root'),
      '--exec-root',
      join(dir, 'exec'),
      '-H',
      host,
      '--pidfile',
      join(dir, 'pid'),
      '--storage-driver',
      'vfs',
      '--iptables=false',
      '--bridge=none',
    ],
    dir,
  );
  await waitFor('dockerd', () => {
    try {
      execFileSync('docker', ['info'], { env: { ...process.env, DOCKER_HOST: host }, stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  return { host, stop: () => stop(child, dir) };
}

export async function startRegistry() {
  const dir = temp('registry');
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}\nhttp: {addr: 127.0.0.1:${port}}\n`,
  );
  const child = start('docker-registry', ['serve', join(dir, 'config.yml')], dir);
  await waitFor('registry', () =>
    fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    ),
  );
  return { host: `127.0.0.1:${port}`, stop: () => stop(child, dir) };
}

/** A git checkout of the busybox image's context. */
export function makeFixture() {
  const dir = temp('repo');
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(dir, 'busybox'));
  writeFileSync(
    join(dir, 'Dockerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nRUN echo bench > /hello.txt\nCMD ["/bin/sh", "-c", "cat /hello.txt"]\n',
  );
  const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.com' };
  const git = (...args) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench');
  return { dir, sha: git('rev-parse', 'HEAD'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
