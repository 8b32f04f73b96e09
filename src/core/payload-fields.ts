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

/** T as an object whose keys can be followed (not an array, not a primitive). */
type Keyed<T> = T extends readonly unknown[] ? never : T extends object ? T : never;

/**
 * The key paths of T (at most four keys deep) that lead to a value of type V in a valid T:
 * `['head_commit', 'id']` is a PathTo<PushPayload, string>. A path a schema does not have, or
 * one to a value of another type, does not compile.
 */
type PathTo<T, V, Depth extends unknown[] = []> = Depth['length'] extends 4
  ? never
  : [Keyed<NonNullable<T>>] extends [never]
    ? never // a leaf: no keys to follow (`keyof never` would be every key)
    : {
        [K in keyof Keyed<NonNullable<T>> & string]:
          (NonNullable<Keyed<NonNullable<T>>[K]> extends V ? [K] : never) | [K, ...PathTo<Keyed<NonNullable<T>>[K], V, [...Depth, 0]>];
      }[keyof Keyed<NonNullable<T>> & string];

/** Reads an untrusted payload along the key paths of its schema T; see payloadOf. */
export interface PayloadReader<T> {
  /** A non-empty string where T has a string, else undefined. */
  string(...path: PathTo<T, string>): string | undefined;
  /** A number where T has one, else undefined. */
  number(...path: PathTo<T, number>): number | undefined;
  /** A boolean where T has one, else undefined. */
  boolean(...path: PathTo<T, boolean>): boolean | undefined;
  /** Whatever is there, still unchecked (for a list the caller checks item by item). */
  value(...path: PathTo<T, unknown>): unknown;
}

/**
 * `payload` read as a T (a webhook schema from @octokit/openapi-webhooks-types). The schema
 * types the paths, so a misspelt key or a string read where the schema has a number does not
 * compile; every value is still checked at run time, because the payload is only claimed to be a
 * T: a missing or wrongly typed value reads as undefined, never as what T promises.
 */
export function payloadOf<T>(payload: unknown): PayloadReader<T> {
  const at = (path: string[]) => field(payload, ...path);
  return {
    string: (...path) => str(at(path)),
    number: (...path) => {
      const value = at(path);
      return typeof value === 'number' ? value : undefined;
    },
    boolean: (...path) => {
      const value = at(path);
      return typeof value === 'boolean' ? value : undefined;
    },
    value: (...path) => at(path),
  };
}
