import { isUserError } from './errors.js';
import { formatReference, parseReference } from './references.js';

// The base images a Dockerfile builds FROM, as the builder resolves them: ARGs declared before
// the first FROM (their defaults, or the build's --build-arg values) substituted, `scratch` and
// earlier stages' names skipped, each reference normalised (`alpine` ->
// `docker.io/library/alpine:latest`). Rebuild-on-base-change records and checks these.
// Follows the Dockerfile reference: parser directives, `\` continuations (or the `escape`
// directive's character), comment lines inside continuations, heredocs, `FROM [--platform=..]
// image [AS name]`, and `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternative}`.

interface DockerfileBase {
  /** Normalised reference: `docker.io/library/alpine:3.20`, `ghcr.io/o/a@sha256:...`. */
  ref: string;
  /** The first stage (0-based) built from it. */
  stage: number;
  /** That stage's `AS` name, when it has one. */
  stageName?: string;
}

export interface DockerfileBases {
  bases: DockerfileBase[];
  /** FROM lines whose image could not be resolved, one line each (line number, text, why). */
  problems: string[];
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const HEREDOC = /<<-?\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g;

/** Logical instructions: continuations joined, comments and heredoc bodies dropped. */
function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const directive = DIRECTIVE.exec(lines[i]!);
    if (!directive) break;
    if (directive[1]!.toLowerCase() === 'escape' && (directive[2] === '`' || directive[2] === '\\')) escape = directive[2];
  }
  const out: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    const first = lines[i++]!;
    if (/^\s*(#|$)/.test(first)) continue;
    let logical = '';
    let part = first;
    // A comment line inside a continuation is dropped and the continuation goes on past it.
    while (part.trimEnd().endsWith(escape) && i < lines.length) {
      logical += part.trimEnd().slice(0, -escape.length);
      do part = lines[i++]!;
      while (/^\s*#/.test(part) && i < lines.length);
    }
    logical += part;
    const match = /^\s*(\S+)\s*(.*)$/s.exec(logical);
    if (!match) continue;
    out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start + 1 });
    // A heredoc's body is data (a script, a file), never instructions.
    for (const heredoc of logical.matchAll(HEREDOC)) {
      while (i < lines.length && lines[i]!.replace(/^\t+/, '') !== heredoc[2]) i++;
      i++;
    }
  }
  return out;
}

/** Words of an instruction's arguments, with quotes removed (`ARG A="x y" B=2`). */
function words(args: string): string[] {
  const out: string[] = [];
  for (const m of args.matchAll(/(?:[^\s"']+|"(?:[^"\\]|\\.)*"|'[^']*')+/g)) {
    out.push(
      m[0].replace(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g, (_q, d: string | undefined, s: string | undefined) =>
        d !== undefined ? d.replace(/\\(.)/g, '$1') : (s ?? ''),
      ),
    );
  }
  return out;
}

/** `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`; an unset variable is empty, as in the builder. */
function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
      if (match === '\\$') return '$';
      const value = vars.get(braced ?? bare!) ?? '';
      if (op === '-') return value === '' ? substitute(word ?? '', vars) : value;
      if (op === '+') return value === '' ? '' : substitute(word ?? '', vars);
      return value;
    },
  );
}

export function dockerfileBases(text: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileBases {
  const vars = new Map<string, string>();
  const stageNames = new Set<string>();
  const bases: DockerfileBase[] = [];
  const problems: string[] = [];
  let stage = -1;
  for (const { keyword, args, line } of instructions(text)) {
    if (keyword === 'ARG' && stage === -1) {
      // Only ARGs declared before the first FROM are visible to FROM lines; --build-arg wins.
      for (const word of words(args)) {
        const eq = word.indexOf('=');
        const name = eq === -1 ? word : word.slice(0, eq);
        const fallback = eq === -1 ? undefined : substitute(word.slice(eq + 1), vars);
        const value = Object.hasOwn(buildArgs, name) ? buildArgs[name] : fallback;
        if (value !== undefined) vars.set(name, value);
      }
      continue;
    }
    if (keyword !== 'FROM') continue;
    stage++;
    const parts = words(args).filter((w) => !w.startsWith('--'));
    const image = substitute(parts[0] ?? '', vars);
    const alias = parts.length >= 3 && parts[1]!.toUpperCase() === 'AS' ? parts[2]!.toLowerCase() : undefined;
    // A name of an earlier stage means that stage, not an image (the builder resolves it so).
    const earlierStage = stageNames.has(image.toLowerCase());
    if (alias) stageNames.add(alias);
    if (image.toLowerCase() === 'scratch' || earlierStage) continue;
    if (image === '') {
      problems.push(`line ${line}: FROM ${args}: no image once the ARGs are substituted`);
      continue;
    }
    try {
      const ref = parseReference(image);
      if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
      const text = formatReference(ref);
      if (!bases.some((b) => b.ref === text)) bases.push({ ref: text, stage, ...(alias ? { stageName: alias } : {}) });
    } catch (err) {
      if (!isUserError(err)) throw err;
      problems.push(`line ${line}: FROM ${args}: ${err.problem}`);
    }
  }
  return { bases, problems };
}
