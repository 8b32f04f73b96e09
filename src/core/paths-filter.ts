// The `paths` filter: a branch push is built only when it touches a file the globs select.
// Patterns read like GitHub's `on.push.paths`: in order, a match includes the file, a `!glob`
// match excludes it again, and the last matching pattern wins.
import picomatch from 'picomatch';

export interface PathsDecision {
  build: boolean;
  /** Why the push is skipped (only when `build` is false). */
  reason?: string;
}

interface CompiledPattern {
  exclude: boolean;
  match: (file: string) => boolean;
}

function compile(paths: string[]): CompiledPattern[] {
  return paths.map((pattern) => {
    const exclude = pattern.startsWith('!');
    // dot: files under .github/ or named .env are ordinary files to a user writing `**`.
    return { exclude, match: picomatch(exclude ? pattern.slice(1) : pattern, { dot: true }) };
  });
}

/** Whether one file is selected; with only `!` patterns, every other file is selected. */
function selects(patterns: CompiledPattern[], file: string): boolean {
  let selected = patterns.every((p) => p.exclude);
  for (const p of patterns) {
    if (p.match(file)) selected = !p.exclude;
  }
  return selected;
}

/**
 * Decide a push against `paths`. No globs, or an unknown list of changed files (GitHub truncates
 * large pushes), means build: skipping a change we cannot see would be worse than one extra build.
 */
export function filterPaths(paths: string[], changedFiles: string[] | undefined): PathsDecision {
  if (paths.length === 0 || changedFiles === undefined) return { build: true };
  const patterns = compile(paths);
  if (changedFiles.some((file) => selects(patterns, file))) return { build: true };
  const touched = changedFiles.length === 0 ? 'no files' : `only ${describeFiles(changedFiles)}`;
  return {
    build: false,
    reason: `paths filter: the push touched ${touched}, none matching ${paths.join(', ')} — change \`paths\` to build it`,
  };
}

function describeFiles(files: string[]): string {
  // File names come from the payload and may hold newlines; keep the reason on one line.
  const shown = files
    .slice(0, 5)
    .map((f) => JSON.stringify(f).slice(1, -1))
    .join(', ');
  return files.length > 5 ? `${shown} and ${files.length - 5} more` : shown;
}
