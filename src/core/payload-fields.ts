// Reading fields of an untrusted JSON payload without trusting its shape: every accessor
// returns undefined for a missing or wrongly typed value instead of throwing.

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The value at `path` (object keys), or undefined where the path breaks. */
export function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** A positive whole number, else undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Files a push's commits touched (added, modified, removed), or undefined when that cannot be
 * known: no commit list, an empty one (a new ref pointing at existing commits lists none), a list
 * the forge may have cut at `limit`, or a commit without its file lists. Unknown must never read
 * as "touched nothing".
 */
export function filesTouched(commits: unknown, limit: number): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0 || commits.length >= limit) return undefined;
  const files = new Set<string>();
  for (const commit of commits) {
    for (const key of ['added', 'modified', 'removed']) {
      const list = field(commit, key);
      if (!Array.isArray(list)) return undefined;
      for (const file of list) if (typeof file === 'string') files.add(file);
    }
  }
  return [...files];
}

/** Git's "no object" id: a ref created from nothing or deleted to nothing. */
export function isZeroSha(sha: string | undefined): boolean {
  return sha !== undefined && /^0+$/.test(sha);
}
