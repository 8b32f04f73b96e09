// What the CLI loads before it does anything: `--help` and every command's definition need only
// commander and the command modules; each command loads its own code when it runs, never the
// service stack it does not use. Checked on the compiled tree and on the bundle that
// bin/autobuild.js runs after `npm run build` (scripts/bundle-cli.mjs).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/engines.js';
import { buildBinary, repoRoot } from '../support/service-process.js';

const work = mkdtempSync(join(tmpdir(), 'autobuild-cli-startup-'));
const bundleDir = join(work, 'bundle');
const config = join(work, 'autobuild.yml');
writeFileSync(config, 'repositories:\n  octo/app:\n    image: 127.0.0.1:5000/octo/app\n');
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const HEAVY = /node_modules\/(zod|yaml|bullmq|ioredis|fastify|@fastify|execa|pino|prom-client|semver|picomatch)\//;

/** Runs `main(args)` of `entry` with every loaded module logged; returns the output and the modules. */
function runLogged(entry: string, args: string[], path = process.env.PATH ?? '/usr/bin:/bin') {
  const log = join(work, `modules-${Math.random().toString(36).slice(2)}`);
  writeFileSync(log, '');
  const runner = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  const res = spawnSync(process.execPath, ['--import', join(repoRoot, 'test/support/module-log.mjs'), '--input-type=module', '-e', runner, '--', ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: path, HOME: process.env.HOME ?? '/root', MODULE_LOG: log },
  });
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((url) => relative(repoRoot, fileURLToPath(url)));
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, modules };
}

/** The sources a bundle's loaded chunks were made from, by esbuild's metafile. */
function bundledInputs(modules: string[]): string[] {
  const meta = JSON.parse(readFileSync(join(bundleDir, 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const byFile = new Map(Object.entries(meta.outputs).map(([out, o]) => [join(repoRoot, out), Object.keys(o.inputs)]));
  return modules.flatMap((m) => byFile.get(join(repoRoot, m)) ?? [m]);
}

beforeAll(() => {
  buildBinary();
  execFileSync(process.execPath, ['scripts/bundle-cli.mjs', bundleDir], { cwd: repoRoot, stdio: 'ignore' });
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the compiled tree', () => {
  const entry = join(repoRoot, 'build/src/cli/main.js');

  it('--help lists every command and loads commander and the command definitions only', () => {
    const r = runLogged(entry, ['--help']);
    expect(r.code).toBe(0);
    for (const command of ['plan', 'build', 'tags', 'start', 'serve', 'worker', 'doctor']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(r.modules.filter((m) => m.includes('node_modules/') && !m.includes('node_modules/commander/'))).toEqual([]);
    expect(
      r.modules.filter(
        (m) => /build\/(src\/(service|build|adapters\/(config-file|process|registry-client))|worker)\//.test(m) && !m.endsWith('service-defaults.js'),
      ),
    ).toEqual([]);
  });

  it('plan loads the config and the planner, not the builders, BullMQ or fastify', () => {
    const r = runLogged(entry, ['plan', '--config', config, '--repository', 'octo/app', '--ref', 'refs/tags/v1.2.3', '--sha', SHA, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).builds[0].tags).toEqual(['1.2.3', '1.2', '1', 'latest']);
    expect(r.modules.some((m) => m.includes('node_modules/zod/'))).toBe(true);
    expect(
      r.modules.filter((m) => /node_modules\/(bullmq|ioredis|fastify|execa)\//.test(m) || /build\/src\/(service\/(?!service-defaults)|build\/)/.test(m)),
    ).toEqual([]);
  });
});

describe('the bundle', () => {
  const entry = join(bundleDir, 'autobuild.mjs');

  it('--help reads a few small files, none holding the service stack, zod or yaml', () => {
    const r = runLogged(entry, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^  build \[options\] \[dir\]/m);
    expect(r.modules.every((m) => m.startsWith(relative(repoRoot, bundleDir)))).toBe(true);
    expect(r.modules.length).toBeLessThanOrEqual(10);
    expect(bundledInputs(r.modules).filter((i) => HEAVY.test(i) || /src\/(service\/(?!service-defaults)|build\/)/.test(i))).toEqual([]);
  });

  it('the help text saved next to it (printed by bin/autobuild.js --help) is what commander prints', () => {
    expect(readFileSync(join(bundleDir, 'help.txt'), 'utf8')).toBe(runLogged(entry, ['--help']).stdout);
  });

  it('plan gives the same plan as the compiled tree', () => {
    const args = ['plan', '--config', config, '--repository', 'octo/app', '--ref', 'refs/tags/v1.2.3', '--sha', SHA, '--json'];
    const bundled = runLogged(entry, args);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(runLogged(join(repoRoot, 'build/src/cli/main.js'), args).stdout));
  });

  it('start runs the service from the bundle: embedded Redis, worker, dashboard and its assets', async () => {
    expect(existsSync(join(bundleDir, 'chunks', 'assets', 'app.js'))).toBe(true);
    const port = await freePort();
    const serviceConfig = join(work, 'service.yml');
    writeFileSync(serviceConfig, `server: {port: ${port}}\ndataDir: ${join(work, 'data')}\n`);
    const runner = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', runner, '--', 'start', '--config', serviceConfig], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let stderr = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('taking builds')) resolve();
        });
        child.once('exit', () => reject(new Error(`start exited: ${stderr}`)));
      });
      const asset = await fetch(`http://127.0.0.1:${port}/assets/app.js`);
      expect(asset.status).toBe(200);
      expect(await asset.text()).toBe(readFileSync(join(repoRoot, 'src/service/dashboard/assets/app.js'), 'utf8'));
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('autobuild build before it builds', () => {
  /** `git` on PATH that records its arguments and then runs the real one. */
  function recordingGit(): { path: string; calls: () => string[] } {
    const dir = join(work, `git-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'git'), `#!/bin/sh\necho "$*" >> ${join(dir, 'calls')}\nexec ${realGit} "$@"\n`);
    chmodSync(join(dir, 'git'), 0o755);
    writeFileSync(join(dir, 'calls'), '');
    return { path: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, calls: () => readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean) };
  }

  it.each([
    { flags: ['--ref', 'refs/heads/main', '--sha', SHA], asked: [] as string[] },
    { flags: ['--sha', SHA], asked: ['symbolic-ref'] },
    { flags: [] as string[], asked: ['rev-parse', 'symbolic-ref'] },
  ])('asks git only for what the flags do not give ($flags)', ({ flags, asked }) => {
    const git = recordingGit();
    const empty = mkdtempSync(join(work, 'no-dockerfile-'));
    // The bundle made for this file: other test files may be recompiling build/ meanwhile.
    const res = runLogged(join(bundleDir, 'autobuild.mjs'), ['build', empty, '--image', '127.0.0.1:5000/octo/app', '--tag', '1', ...flags], git.path);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/no Dockerfile at/);
    expect(
      git
        .calls()
        .map((c) => c.split(' ')[0])
        .sort(),
    ).toEqual(asked);
  });
});
