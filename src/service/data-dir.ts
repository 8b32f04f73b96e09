import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/errors.js';

// The service's data directory (build logs, embedded Redis data, the generated API token),
// created at start-up so that a dataDir that cannot be a directory is one line at once, not a
// stack trace from whichever part first writes to it.

/** Creates `dir` (absolute) if needed; `configured` is the value as written, for the message. */
export function ensureDataDir(dir: string, configured: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = 'set dataDir in autobuild.yml to a directory autobuild may create and write';
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      const file = firstNonDirectory(dir);
      const where = file === dir ? 'is a file' : `is under ${file}, which is a file`;
      throw new UserError(`dataDir ${configured} ${where}, not a directory`, hint);
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new UserError(`dataDir ${configured} cannot be created: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`, hint);
    }
    throw err;
  }
}

/** `dir` or the nearest of its parents that exists and is not a directory. */
function firstNonDirectory(dir: string): string {
  for (let path = dir; ; path = dirname(path)) {
    try {
      if (!statSync(path).isDirectory()) return path;
    } catch {
      // Missing, or under a file: look one level up.
    }
    if (dirname(path) === path) return dir;
  }
}
