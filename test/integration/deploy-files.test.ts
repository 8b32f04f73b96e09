import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from '../support/engines.js';
import { repoRoot } from '../support/service-process.js';

// The deployment files as their own tools read them: docker-compose resolves deploy/compose.yml
// and systemd-analyze verifies deploy/autobuild.service. Then what a user relies on: Redis keeps
// an AOF on a volume, workers get time to finish a build, the unit restarts and reloads.

const work = tempDir('deploy-files');
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('deploy/compose.yml', () => {
  it('passes docker-compose config: serve, workers and Redis with AOF on a volume', async () => {
    const res = await execa('docker-compose', ['-f', join(repoRoot, 'deploy', 'compose.yml'), 'config'], {
      env: { ...process.env, DOCKER_GID: '998' },
      reject: false,
    });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    const config = parse(res.stdout);
    const { redis, serve, worker } = config.services;
    expect(redis.command.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.volumes).toContain('redis-data:/data:rw');
    expect(Object.keys(config.volumes)).toContain('redis-data');
    expect(serve.command).toEqual(['serve']);
    expect(serve.ports).toEqual([{ published: 8080, target: 8080 }]);
    expect(worker.command).toEqual(['worker']);
    expect(worker.deploy.replicas).toBeGreaterThan(1);
    expect(worker.stop_grace_period).toBe('150s');
    expect(worker.group_add).toEqual(['998']);
    for (const service of [serve, worker]) {
      expect(service.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(service.volumes).toContain(`${join(repoRoot, 'deploy', 'autobuild.yml')}:/etc/autobuild/autobuild.yml:ro`);
      expect(service.depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('the example autobuild.yml it mounts is valid', async () => {
    const res = await execa(
      process.execPath,
      [join(repoRoot, 'bin', 'autobuild.js'), 'doctor', '--check', 'config', '--json', '--config', join(repoRoot, 'deploy', 'autobuild.example.yml')],
      {
        env: {
          PATH: process.env.PATH,
          GITHUB_WEBHOOK_SECRET: 'webhook-secret-0123456789',
          AUTOBUILD_API_TOKEN: 'api-token-0123456789abcdef',
          GITHUB_TOKEN: 'ghp_0123456789abcdef',
          REGISTRY_PASSWORD: 'registry-password-0123',
        },
        extendEnv: false,
        reject: false,
      },
    );
    expect(JSON.parse(res.stdout).checks).toEqual([expect.objectContaining({ name: 'config', status: 'pass' })]);
  });
});

describe('deploy/autobuild.service', () => {
  // Verified against this machine's node; the shipped unit names /usr/bin/node (Debian's nodejs).
  const unit = readFileSync(join(repoRoot, 'deploy', 'autobuild.service'), 'utf8');

  it('passes systemd-analyze verify with no warnings', async () => {
    const file = join(work, 'autobuild.service');
    writeFileSync(file, unit.replaceAll('/usr/bin/node ', `${process.execPath} `));
    const res = await execa('systemd-analyze', ['verify', file], { reject: false });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
  });

  it('runs as its own user, restarts, reloads after checking the config, and gives builds time to finish', () => {
    const service = Object.fromEntries(
      unit
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(service.User).toBe('autobuild');
    expect(service.Restart).toBe('always');
    expect(unit).toMatch(/^ExecReload=\/usr\/bin\/node \/opt\/autobuild\/bin\/autobuild\.js doctor --check config$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -TERM \$MAINPID$/m);
    expect(service.KillMode).toBe('mixed');
    expect(Number.parseInt(service.TimeoutStopSec!, 10)).toBeGreaterThan(120);
    expect(service.ProtectSystem).toBe('strict');
    expect(service.StateDirectory).toBe('autobuild');
  });
});
