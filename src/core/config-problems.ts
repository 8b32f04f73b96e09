// Everything wrong with a configuration becomes one line, `<file>: <key.path>: <problem> — <fix>`:
// the problem type, key paths, and the wording of zod's schema issues (an unknown key with a
// "did you mean", a wrong type without echoing a secret or a ${VAR} value). Used for
// autobuild.yml and for the Action's `rules` input alike.
import type { z } from 'zod';
import { configSchema, isOptionalSecretKey } from './config-schema.js';
import { UserError } from './errors.js';
import { maskSecrets } from './secret.js';

export type Path = readonly (string | number)[];

export interface Problem {
  path: Path;
  problem: string;
  hint?: string;
}

/** Where `${VAR}` put a value from the environment, so that errors never echo it. */
export interface VariableUse {
  /** Key path (as keyPath writes it) -> the variables used in its value. */
  paths: Map<string, string[]>;
  values: Set<string>;
  /** Build-arg values that came from `${VAR}`: secrets. */
  buildArgs?: string[];
}

export function keyPath(path: Path): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(top level)' : out;
}

/** `masked`: values that came from `${VAR}`, never shown in a message (they may be secrets). */
export function fail(file: string, problems: Problem[], masked: Iterable<string> = []): never {
  const [first] = problems;
  if (!first) throw new Error('fail() needs a problem');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new UserError(
    maskSecrets(`${file}: ${keyPath(first.path)}: ${first.problem}`, masked),
    first.hint ? maskSecrets(first.hint, masked) + more : undefined,
  );
}

const typeWords: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  record: 'a mapping (key: value)',
};

function typeOf(input: unknown): string {
  if (input === null || input === undefined) return 'nothing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)}`;
  return `${typeof input} ${JSON.stringify(input)}`;
}

/** The schema node (defaults, optionals and transforms unwrapped) that validates `path`. */
export function schemaAt(path: Path): z.core.$ZodTypeDef | undefined {
  let node: z.core.$ZodType | undefined = configSchema;
  const unwrap = (): z.core.$ZodTypeDef | undefined => {
    for (let def: z.core.$ZodTypeDef | undefined = node?._zod.def; def; def = node?._zod.def) {
      if (def.type === 'default' || def.type === 'optional') node = (def as z.core.$ZodDefaultDef).innerType;
      else if (def.type === 'pipe') node = (def as z.core.$ZodPipeDef).in;
      else return def;
    }
    return undefined;
  };
  for (const part of path) {
    const def = unwrap();
    if (def?.type === 'object') node = (def as z.core.$ZodObjectDef).shape[String(part)];
    else if (def?.type === 'record') node = (def as z.core.$ZodRecordDef).valueType;
    else if (def?.type === 'array') node = (def as z.core.$ZodArrayDef).element;
    else return undefined;
  }
  return unwrap();
}

/** The keys a strict object at `path` allows. */
function allowedKeys(path: Path): string[] {
  const def = schemaAt(path);
  return def?.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKey(path: Path, key: string): Problem {
  const allowed = allowedKeys(path);
  const lower = key.toLowerCase();
  const close = allowed.find((k) => editDistance(k, key) <= 2 || (lower.length >= 3 && k.toLowerCase().startsWith(lower)));
  const list = allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : 'remove it';
  return {
    path: [...path, key],
    problem: 'unknown key',
    hint: close ? `did you mean "${close}"? (${list})` : `remove it or fix its spelling; ${list}`,
  };
}

export function describeIssue(issue: z.core.$ZodIssue, data: unknown, used: VariableUse): Problem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const input = path.reduce<unknown>((obj, key) => (obj as Record<string | number, unknown> | undefined)?.[key], data);
  // Never echo a secret's value back, nor anything that came from the environment.
  const variables = used.paths.get(keyPath(path));
  const shown = isOptionalSecretKey(path) ? '' : variables ? ` (got the value of ${variables.map((v) => `\${${v}}`).join(', ')})` : ` (got ${typeOf(input)})`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(path, key));
    case 'invalid_type': {
      const expected = typeWords[issue.expected] ?? issue.expected;
      if (input === undefined) return [{ path, problem: 'is required', hint: `add it: ${expected}` }];
      return [{ path, problem: `must be ${expected}${shown}`, hint: `write ${expected} here` }];
    }
    case 'invalid_value':
      return [{ path, problem: `must be one of ${issue.values.map(String).join(', ')}${shown}`, hint: `write one of ${issue.values.map(String).join(' | ')}` }];
    case 'invalid_union': {
      if (input === undefined) return [{ path, problem: 'is required', hint: 'add it' }];
      // A branch whose type matched (its issues are not "wrong type" at the top) says what is
      // really wrong, e.g. an empty image list; otherwise list the types that would do.
      const wrongType = (b: z.core.$ZodIssue[]) => b.every((i) => i.code === 'invalid_type' && i.path.length === 0);
      const matched = issue.errors.filter((b) => b.length > 0 && !wrongType(b));
      if (matched.length === 1) {
        return matched[0]!.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, data, used));
      }
      const expected = [...new Set(issue.errors.flat().map((i) => (i.code === 'invalid_type' ? (typeWords[i.expected] ?? i.expected) : undefined)))].filter(
        Boolean,
      );
      const what = expected.length > 0 ? expected.join(' or ') : 'a different value';
      return [{ path, problem: `must be ${what}${shown}`, hint: `write ${what} here` }];
    }
    case 'too_small': {
      const n = Number(issue.minimum);
      const problem =
        issue.origin === 'array'
          ? `must list at least ${n} item${n === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? 'must not be empty'
            : `must be at least ${n}${shown}`;
      const hint = issue.origin === 'array' ? 'add an item' : issue.origin === 'string' ? 'write a value' : 'give a larger value';
      return [{ path, problem, hint }];
    }
    case 'too_big':
      return [{ path, problem: `must be at most ${Number(issue.maximum)}${shown}`, hint: 'give a smaller value' }];
    case 'invalid_format':
      return [
        {
          path,
          problem: `must be a valid ${issue.format === 'url' ? 'URL' : issue.format}${shown}`,
          hint: issue.format === 'url' ? 'write a full URL, e.g. https://example.com/hook' : `write a valid ${issue.format}`,
        },
      ];
    default:
      return [{ path, problem: issue.message }];
  }
}

/**
 * A build rule's schema issues worded as autobuild.yml's are, for rules given elsewhere (the
 * Action's `rules` input): the path is relative to the list, `[0].source`.
 */
export function ruleProblems(issues: readonly z.core.$ZodIssue[], rules: unknown[]): Problem[] {
  // Worded at the place such a rule has in autobuild.yml, then the path cut back to the list.
  const at = ['repositories', 'owner/name', 'rules'];
  const data = { repositories: { 'owner/name': { rules } } };
  const used: VariableUse = { paths: new Map(), values: new Set() };
  return issues
    .flatMap((issue) => describeIssue({ ...issue, path: [...at, ...issue.path] } as z.core.$ZodIssue, data, used))
    .map((p) => ({ ...p, path: p.path.slice(at.length) }));
}
