import type { Redis } from 'ioredis';

// Whether Redis answers, for /healthz. A deadline measured on the wall clock says "down" whenever
// this process's event loop was busy for that long (a timer that fires late runs before the
// reply sitting in the socket is read). So the deadline counts only the time the loop was free
// to read the answer: a tick that comes much later than asked adds one step, not its delay.

const STEP_MS = 50;

export function answersWithin(redis: Redis, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      resolve(ok);
    };
    let waited = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      waited += Math.min(now - last, 2 * STEP_MS);
      last = now;
      // setImmediate: a reply that arrived meanwhile is read (poll phase) before this decides.
      if (waited >= ms) setImmediate(() => finish(false));
    }, STEP_MS);
    redis.ping().then(
      () => finish(true),
      () => finish(false),
    );
  });
}
