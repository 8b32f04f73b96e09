// Untrusted commands (hooks) in the sandbox, on this machine's real kernel: what such a command
// can read of the service, and whether anything it starts outlives it.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inheritedEnv } from '../../src/adapters/process.js';
import { openWorkspace, runSandboxed, sandboxIsolation } from '../../src/adapters/sandbox.js';
import { tempDir } from '../support/engines.js';
import { rejection } from '../support/expect-failure.js';
import { sleepers, sleepMark } from '../support/processes.js';

const secret = `svc-secret-${Math.random().toString(36).slice(2)}`;
const dirs: string[] = [];
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

const sh = (script: string, opts: { cwd?: string; hide?: string[]; signal?: AbortSignal; user?: { uid: number; gid: number } } = {}) =>
  runSandboxed('/bin/sh', ['-c', script], {
    env: inheritedEnv(),
    cwd: opts.cwd ?? dir('cwd'),
    required: true,
    what: 'test hook',
    ...(opts.hide ? { hide: opts.hide } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.user ? { user: opts.user } : {}),
  });

describe('the sandbox on this machine', () => {
  it('is available: root namespaces as root (CI and the service here run as root)', async () => {
    expect(await sandboxIsolation()).toEqual({ isolation: process.getuid?.() === 0 ? 'root' : 'user-namespace' });
  });
});

describe('what a sandboxed command can read', () => {
  it("cannot read the service's environment through /proc, whichever pid it tries", async () => {
    process.env.AUTOBUILD_TEST_SERVICE_SECRET = secret;
    try {
      const res = await sh(
        `cat /proc/$PPID/environ; cat /proc/${process.pid}/environ; for e in /proc/[0-9]*/environ; do cat "$e"; done; echo; ls /proc | grep -c '^[0-9]'; true`,
      );
      expect(res.lines.join('\n')).not.toContain(secret);
      // Only itself and the few processes of its own pipeline are there.
      expect(Number(res.lines.at(-1))).toBeLessThan(6);
    } finally {
      delete process.env.AUTOBUILD_TEST_SERVICE_SECRET;
    }
  });

  it('cannot read the config file or dataDir it is told to be hidden, even when they are world-readable', async () => {
    const data = dir('data');
    const config = join(dir('etc'), 'autobuild.yml');
    writeFileSync(config, `webhookSecret: ${secret}\n`, { mode: 0o644 });
    writeFileSync(join(data, 'api-token'), `${secret}\n`, { mode: 0o644 });
    chmodSync(data, 0o755);
    mkdirSync(join(data, 'work'));
    const res = await sh(`cat ${config}; cat ${data}/api-token; ls -a ${data}; echo ls-done; true`, { hide: [config, data] });
    expect(res.lines.join('\n')).not.toContain(secret);
    expect(res.lines.join('\n')).not.toContain('work');
    expect(res.lines).toContain('ls-done');
  });

  it("runs when a path to hide lies inside another one (the worker's work directory in dataDir)", async () => {
    const data = dir('data-nested');
    mkdirSync(join(data, 'work'));
    writeFileSync(join(data, 'work', 'token'), `${secret}\n`, { mode: 0o644 });
    const res = await sh(`cat ${data}/work/token; echo ran`, { hide: [data, join(data, 'work')] });
    expect(res.lines).toContain('ran');
    expect(res.lines.join('\n')).not.toContain(secret);
  });

  it.runIf(process.getuid?.() === 0)('runs as the uid it is given, with no groups and no way back to root', async () => {
    const cwd = dir('cwd');
    chmodSync(cwd, 0o777);
    const res = await sh('id -u; id -G; cat /proc/self/status | grep -E "^(CapEff|NoNewPrivs)"; cat /etc/shadow 2>&1 | head -c 60', {
      cwd,
      user: { uid: 1_700_123_456, gid: 1_700_123_456 },
    });
    expect(res.lines.slice(0, 2)).toEqual(['1700123456', '1700123456']);
    expect(res.lines).toContain('CapEff:\t0000000000000000');
    expect(res.lines).toContain('NoNewPrivs:\t1');
    expect(res.lines.at(-1)).toMatch(/Permission denied/);
  });
});

describe('when the service is not root', () => {
  // The service itself as an unprivileged user (nobody), running the built module: the sandbox
  // falls back to a user namespace, with the same PID and mount namespaces.
  it.runIf(process.getuid?.() === 0)("a command still cannot read the service's environment or the hidden config file", () => {
    const etc = dir('etc-nobody');
    chmodSync(etc, 0o755);
    const config = join(etc, 'autobuild.yml');
    writeFileSync(config, `webhookSecret: ${secret}-config\n`, { mode: 0o644 });
    const cwd = dir('cwd-nobody');
    chmodSync(cwd, 0o777);
    const module = resolve('build/src/adapters/sandbox.js');
    const script = [
      `const { runSandboxed, sandboxIsolation } = await import(${JSON.stringify(module)});`,
      `const res = await runSandboxed('/bin/sh', ['-c', 'id -u; cat /proc/$PPID/environ; for e in /proc/[0-9]*/environ; do cat "$e"; done; echo; cat ${config}; echo done'],`,
      `  { env: { PATH: process.env.PATH }, cwd: ${JSON.stringify(cwd)}, hide: [${JSON.stringify(config)}], required: true });`,
      'console.log(JSON.stringify({ isolation: await sandboxIsolation(), lines: res.lines }));',
    ].join('\n');
    const out = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, AUTOBUILD_TEST_SERVICE_SECRET: secret },
      cwd,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.stderr).toBe('');
    const result = JSON.parse(out.stdout) as { isolation: { isolation: string }; lines: string[] };
    expect(result.isolation.isolation).toBe('user-namespace');
    expect(result.lines).toContain('done');
    expect(result.lines.join('\n')).not.toContain(secret);
  });
});

describe('nothing a sandboxed command starts outlives it', () => {
  it('a command that exits while a detached child and a double-forked one hold its stdout ends at once, and both are gone', async () => {
    const a = sleepMark();
    const b = sleepMark();
    const started = Date.now();
    // setsid: a new session and process group; ( ( ... & ) & ): reparented to init; both keep stdout open.
    const res = await sh(`setsid sleep ${a} & ( ( sleep ${b} & ) & ); sleep 0.3; echo hook-done`);
    expect(res.lines).toContain('hook-done');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await until(() => sleepers(a).length === 0 && sleepers(b).length === 0, 1_000)).toBe(true);
  });

  it('cancel kills the command and everything it detached, within the grace period', async () => {
    const a = sleepMark();
    const b = sleepMark();
    const controller = new AbortController();
    const running = sh(`setsid sleep ${a} & ( ( sleep ${b} & ) & ); sleep ${b}`, { signal: controller.signal });
    expect(await until(() => sleepers(a).length === 1 && sleepers(b).length === 2, 5_000)).toBe(true);
    const aborted = Date.now();
    controller.abort();
    const err = await rejection(running);
    expect(err.message).toContain('canceled');
    expect(Date.now() - aborted).toBeLessThan(4_000);
    expect(await until(() => sleepers(a).length === 0 && sleepers(b).length === 0, 1_000)).toBe(true);
  });
});

describe('a build workspace', () => {
  it.runIf(process.getuid?.() === 0)(
    "gets its own uid, owns its checkout, and a copy of the build's DOCKER_CONFIG it cannot change for the pipeline",
    async () => {
      const base = dir('ws');
      const tree = join(base, 'src');
      mkdirSync(tree);
      writeFileSync(join(tree, 'Dockerfile'), 'FROM scratch\n');
      const dockerConfig = dir('docker-config');
      writeFileSync(join(dockerConfig, 'config.json'), '{"auths":{"r.example":{"auth":"eA=="}}}\n', { mode: 0o600 });
      const ws = await openWorkspace({ dir: base, tree, dockerConfig, required: true, switchUser: true, dockerHost: 'tcp://127.0.0.1:1' });
      try {
        expect(ws.user?.uid).toBeGreaterThan(1_000_000);
        const res = await ws.run(
          '/bin/sh',
          ['-c', 'id -u; touch new-file && echo wrote; cat "$DOCKER_CONFIG/config.json"; echo "{}" > "$DOCKER_CONFIG/config.json"; echo "$HOME $DOCKER_HOST"'],
          { env: inheritedEnv(), cwd: tree },
        );
        expect(res.lines[0]).toBe(String(ws.user?.uid));
        expect(res.lines).toContain('wrote');
        expect(res.lines).toContain('{"auths":{"r.example":{"auth":"eA=="}}}');
        expect(res.lines.at(-1)).toBe(`${join(base, 'home')} tcp://127.0.0.1:1`);
        expect(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).toContain('r.example');
      } finally {
        await ws.dispose();
      }
    },
  );

  it.runIf(process.getuid?.() === 0)("a hook of one build cannot read another build's checkout or DOCKER_CONFIG", async () => {
    const open = async (name: string) => {
      const base = join(dir(`ws-${name}`), 'sandbox');
      const tree = join(base, 'src');
      mkdirSync(tree, { recursive: true, mode: 0o755 });
      writeFileSync(join(tree, 'app.env'), `${secret}-${name}\n`, { mode: 0o644 });
      const dockerConfig = dir(`dc-${name}`);
      writeFileSync(join(dockerConfig, 'config.json'), `{"auths":{"r.example":{"auth":"${secret}"}}}\n`, { mode: 0o600 });
      chmodSync(join(base, '..'), 0o755);
      return { tree, ws: await openWorkspace({ dir: base, tree, dockerConfig, required: true, switchUser: true }) };
    };
    const a = await open('a');
    const b = await open('b');
    try {
      expect(a.ws.user?.uid).not.toBe(b.ws.user?.uid);
      const res = await b.ws.run('/bin/sh', ['-c', `cat ${a.tree}/app.env; cat ${a.ws.env.DOCKER_CONFIG}/config.json; cat app.env; echo done`], {
        env: inheritedEnv(),
        cwd: b.tree,
      });
      const text = res.lines.join('\n');
      expect(text).toContain(`${secret}-b`);
      expect(text).not.toContain(`${secret}-a`);
      expect(text).not.toContain(`"auth":"${secret}"`);
      expect(text).toMatch(/Permission denied/);
    } finally {
      await a.ws.dispose();
      await b.ws.dispose();
    }
  });
});
