// Finding the processes a test's untrusted command started, from outside any namespace: each
// test sleeps for a duration no other process uses, and looks for that command line in /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** A `sleep` argument unique to this call: 600-899 seconds and a random fraction. */
export function sleepMark(): string {
  return `${600 + Math.floor(Math.random() * 300)}.${Math.floor(Math.random() * 1e6)}`;
}

/** Host pids of processes whose command line is exactly `sleep <mark>`. */
export function sleepers(mark: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${mark}\0`;
    } catch {
      return false;
    }
  });
}
