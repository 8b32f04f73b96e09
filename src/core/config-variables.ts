// autobuild.yml's text before the schema sees it: YAML that may hold `${VAR}` anywhere (even in a
// flow mapping), then `${VAR}` / `${VAR:-default}` replaced from the given environment, with a
// record of where each value went so that no error ever echoes it.
import { LineCounter, parseDocument } from 'yaml';
import { isOptionalSecretKey } from './config-schema.js';
import { fail, keyPath, schemaAt, type Path, type VariableUse } from './config-problems.js';
import { UserError } from './errors.js';

export type Env = Record<string, string | undefined>;

/**
 * `${VAR}` is not valid inside a YAML flow mapping (`github: {token: ${GITHUB_TOKEN}}`, as the
 * contract's example writes it), so each reference is swapped for a placeholder YAML accepts
 * anywhere, and put back in the parsed values before substitution.
 */
const REFERENCE_TEXT = /\$\{[^}\n]*\}/g;
const PLACEHOLDER = /\uE000([0-9]+)\uE001/g;

function restore(value: unknown, originals: string[]): unknown {
  const back = (text: string) => text.replace(PLACEHOLDER, (_m, i: string) => originals[Number(i)] ?? '');
  if (typeof value === 'string') return back(value);
  if (Array.isArray(value)) return value.map((v) => restore(v, originals));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [back(k), restore(v, originals)]));
  }
  return value;
}

/** Parses the YAML text, keeping every `${VAR}` reference as written for substitute(). */
export function readYaml(text: string, file: string): unknown {
  const originals: string[] = [];
  const protectedText = text.replace(REFERENCE_TEXT, (match) => `\uE000${originals.push(match) - 1}\uE001`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(protectedText, { lineCounter, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    // yaml's own wording for a second document names its API (parseAllDocuments), not the fix.
    if (error.code === 'MULTIPLE_DOCS') {
      throw new UserError(
        `${where}: a second YAML document starts here ("---"); autobuild reads one`,
        'remove the "---" line, or merge the documents into one mapping',
      );
    }
    const what = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error';
    throw new UserError(`${where}: YAML syntax error: ${what}`, 'fix the YAML at that line (indentation, quotes, a missing ":")');
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // yaml refuses alias expansion past the limit (a "billion laughs" file) with a ReferenceError,
    // and an alias to no anchor (a typo, or the anchor set after it) with another.
    if (err instanceof ReferenceError && /^Excessive alias count/.test(err.message)) {
      throw new UserError(`${file}: YAML aliases (*name) expand more than ${MAX_ALIASES} times`, 'write the values out, or use fewer aliases');
    }
    const unresolved = err instanceof ReferenceError ? /^Unresolved alias.*: (.*)$/.exec(err.message) : null;
    if (unresolved) {
      const name = unresolved[1]!.slice(0, 40);
      throw new UserError(
        `${file}: YAML alias *${name} has no anchor &${name} before it`,
        `set &${name} on the value before the first *${name}, or write the value out`,
      );
    }
    throw err;
  }
  return restore(data, originals) ?? {};
}

/** yaml's guard against exponential alias expansion; a real autobuild.yml uses a handful at most. */
const MAX_ALIASES = 100;

// The last alternative catches a `${...}` that is not a valid reference (`${MY-VAR}`, `${1X}`, a
// missing `}`): left as written it would become the value itself, e.g. a guessable secret.
const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;
const WHOLE_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/;

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) in every string value; `$$` is a literal `$`.
 * Returns undefined for an optional secret whose whole value is an unset variable.
 */
export function substitute(value: unknown, env: Env, path: Path, file: string, used: VariableUse): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VARIABLE.exec(value);
    if (whole && isOptionalSecretKey(path) && !env[whole[1]!] && !value.includes(':-')) return undefined;
    const text = value.replace(VARIABLE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      if (name === undefined) {
        const shown = JSON.stringify(match.length > 40 ? `${match.slice(0, 40)}...` : match);
        fail(file, [
          {
            path,
            problem: `${shown} is not a valid \${VAR} reference`,
            hint: 'write ${NAME} or ${NAME:-default} with NAME of letters, digits and _ (not starting with a digit); use $$ for a literal $',
          },
        ]);
      }
      const set = env[name];
      if (set !== undefined && set !== '') {
        used.paths.set(keyPath(path), [...(used.paths.get(keyPath(path)) ?? []), name]);
        used.values.add(set);
        return set;
      }
      if (fallback !== undefined) return fallback;
      fail(file, [{ path, problem: `environment variable ${name} is not set`, hint: `set ${name}, or write the value directly (use $$ for a literal $)` }]);
    });
    if (text !== value && /\$\{/.test(value) && isBuildArgValue(path)) (used.buildArgs ??= []).push(text);
    // `port: ${APP_PORT}` means a number: YAML saw text, so convert where the schema wants one.
    if (whole) return scalarFor(path, text);
    return text;
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, env, [...path, i], file, used));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const replaced = substitute(item, env, [...path, key], file, used);
      if (replaced !== undefined) out[key] = replaced;
    }
    return out;
  }
  return value;
}

/** repositories.X.buildArgs.K and repositories.X.rules[i].buildArgs.K */
function isBuildArgValue(path: Path): boolean {
  if (path[0] !== 'repositories') return false;
  return (path.length === 4 && path[2] === 'buildArgs') || (path.length === 6 && path[2] === 'rules' && path[4] === 'buildArgs');
}

function scalarFor(path: Path, text: string): unknown {
  const type = schemaAt(path)?.type;
  if (type === 'number' && /^-?[0-9]+(?:\.[0-9]+)?$/.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}
