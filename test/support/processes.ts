// Finding the processes a test's untrusted command started, from outside any namespace: each
// test sleeps for a duration no other process uses, and looks for that command line in /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** A `sleep` argument unique to this call: 600-899 seconds and a random fraction. */
export function sleepMark(): string {
  return `${600 + Math.floor(Math.random() * 300)}.${Math.floor(Math.random() * 1e6)}`;
}

/** Host pids of processes whose command line is exactly `sleep <mark>`. */
export function sleepers(mark: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${mark}\0`;
      } catch {
        return false;
      }
    });
}

/** Every process's argv seen while `fn` runs, sampled from /proc every few milliseconds. */
export async function sampleArgv<T>(fn: () => Promise<T>): Promise<{ value: T; argv: string[] }> {
  const seen = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          if (cmd) seen.add(cmd);
        } catch {
          // The process ended between listing and reading.
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    return { value: await fn(), argv: [...seen] };
  } finally {
    sampling = false;
    await sampler;
  }
}
