// Running child processes: what a user sees in the log and in errors when a tool prints a
// secret, fails, is missing, or is cancelled.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectingSink, maskingSink } from '../../src/adapters/log-sink.js';
import { inheritedEnv, run } from '../../src/adapters/process.js';
import { Secret } from '../../src/core/secret.js';
import { rejection } from '../support/expect-failure.js';

const password = new Secret('hunter2-very-secret');

describe('run', () => {
  it('streams stdout and stderr line by line with secrets masked', async () => {
    const lines: string[] = [];
    const res = await run('/bin/sh', ['-c', 'echo "out $PW"; echo "err $PW" >&2; printf "no newline"'], {
      env: { ...inheritedEnv(), PW: password.reveal() },
      secrets: [password],
      onLine: (l) => lines.push(l),
    });
    expect(lines.sort()).toEqual(['err ***', 'no newline', 'out ***']);
    expect(res.stdout).toContain('out ***');
    expect(res.stdout).not.toContain('err');
  });

  it('stdin input (--password-stdin) reaches the child and never its argv or output', async () => {
    const res = await run('/bin/sh', ['-c', 'read p; echo "got ${#p} chars"; echo "$p"'], { env: inheritedEnv(), input: password });
    expect(res.lines).toEqual(['got 19 chars', '***']);
  });

  it('the environment is only what the caller gives', async () => {
    process.env.AUTOBUILD_TEST_LEAK = 'leaked';
    try {
      const res = await run('/bin/sh', ['-c', 'echo "[$AUTOBUILD_TEST_LEAK][$GIVEN]"'], { env: { ...inheritedEnv(), GIVEN: 'yes' } });
      expect(res.stdout).toBe('[][yes]');
    } finally {
      delete process.env.AUTOBUILD_TEST_LEAK;
    }
  });

  it('a failure names the command (masked), the exit code, the hint and the last 20 lines', async () => {
    const err = await rejection(
      run('/bin/sh', ['-c', `for i in $(seq 1 30); do echo line $i; done; exit 7`, password.reveal()], {
        env: inheritedEnv(),
        secrets: [password],
        hint: 'do something else',
      }),
    );
    expect(err.message).toMatch(/^\/bin\/sh -c .* \*\*\* failed with exit code 7 — do something else$/);
    expect(err.message).not.toContain(password.reveal());
    expect(err.tail).toHaveLength(20);
    expect(err.tail.at(-1)).toBe('line 30');
    expect(err.transient).toBe(false);
  });

  it('a missing tool says so and how to fix it', async () => {
    const err = await rejection(run('autobuild-no-such-tool', [], { env: inheritedEnv() }));
    expect(err.message).toContain('autobuild-no-such-tool not found — install it or put it on PATH');
  });

  it('cancelling kills the whole process group, grandchildren included', async () => {
    const controller = new AbortController();
    const pids: string[] = [];
    const running = run('/bin/sh', ['-c', 'sleep 30 & echo $!; wait'], {
      env: inheritedEnv(),
      signal: controller.signal,
      onLine: (l) => {
        pids.push(l);
        controller.abort();
      },
    });
    const err = await rejection(running);
    expect(err.message).toMatch(/^canceled/);
    const grandchild = Number(pids[0]);
    await new Promise((r) => setTimeout(r, 200));
    // Gone, or a zombie waiting for whoever inherited it: either way no longer running.
    const state = (() => {
      try {
        return readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]?.[0];
      } catch {
        return 'gone';
      }
    })();
    expect(['gone', 'Z']).toContain(state);
  });
});

describe('log sinks', () => {
  it('the masking sink hides secrets in lines and in events', () => {
    const inner = collectingSink();
    const sink = maskingSink(inner, [password]);
    sink.line(`login with ${password.reveal()}`);
    sink.event({ type: 'retry', ref: 'r', attempt: 2, reason: `denied for ${password.reveal()}` });
    expect(JSON.stringify(inner)).not.toContain(password.reveal());
    expect(inner.lines).toEqual(['login with ***']);
  });
});
