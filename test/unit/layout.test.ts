import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout docs/DESIGN.md draws ("Layout and the direction of imports"), read from the sources:
// an import that points up the list, a core module that reaches for I/O, or a cycle of run-time
// imports fails here with the file and the import named.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

interface Import {
  from: string;
  /** A path under src/ for a relative import, else the package or node: name. */
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;

const imports: Import[] = sourceFiles(src).flatMap((file) => {
  const from = relative(root, file);
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].flatMap((m): Import[] => {
    const spec = m[3] ?? m[4]!;
    if (m[1] === 'export' && m[3] === undefined) return [];
    const to = spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    return [{ from, to, typeOnly: m[2] !== undefined }];
  });
});

/** The top folder under src/ of a path ('src/service/worker/x.ts' -> 'service'). */
const area = (path: string): string => path.split('/')[1]!;

/** What each area may import from src/: the list in docs/DESIGN.md, read downward. */
const allowed: Record<string, string[]> = {
  core: ['core'],
  adapters: ['core', 'adapters'],
  pipeline: ['core', 'adapters', 'pipeline'],
  service: ['core', 'adapters', 'pipeline', 'service'],
  doctor: ['core', 'adapters', 'pipeline', 'service', 'doctor'],
  action: ['core', 'adapters', 'pipeline', 'action'],
  cli: ['core', 'adapters', 'pipeline', 'service', 'doctor', 'cli'],
};

/** Node built-ins the core may use: pure computations, no I/O and no clock. */
const coreBuiltins = new Set(['node:path', 'node:crypto', 'node:util', 'node:buffer']);
/** Packages the core may use: parsing and matching only. */
const corePackages = new Set(['zod', 'yaml', 'semver', 'picomatch']);

describe('the layout of src/', () => {
  it('reads a real number of imports (the check below has something to check)', () => {
    expect(imports.filter((i) => i.to.startsWith('src/')).length).toBeGreaterThan(300);
    expect(new Set(imports.map((i) => area(i.from)))).toEqual(new Set(Object.keys(allowed)));
  });

  it('imports point down the list: core, adapters, pipeline, service, doctor, then the entry points', () => {
    const wrong = imports.filter((i) => i.to.startsWith('src/') && !allowed[area(i.from)]!.includes(area(i.to))).map((i) => `${i.from} imports ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('only the composition root (service-runtime.ts) starts the worker', () => {
    const wrong = imports
      .filter((i) => i.to.startsWith('src/service/worker/') && !i.from.startsWith('src/service/worker/') && i.from !== 'src/service/service-runtime.ts')
      .map((i) => `${i.from} imports ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('the core does no I/O: no node module but path, crypto, util and buffer, no package but zod, yaml, semver and picomatch', () => {
    const wrong = imports
      // A type-only import (the webhook schemas of @octokit/openapi-webhooks-types) carries no code.
      .filter((i) => area(i.from) === 'core' && !i.typeOnly && !i.to.startsWith('src/') && !coreBuiltins.has(i.to) && !corePackages.has(i.to))
      .map((i) => `${i.from} imports ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it('no cycle of run-time imports', () => {
    const next = new Map<string, string[]>();
    for (const i of imports) if (!i.typeOnly && i.to.startsWith('src/')) next.set(i.from, [...(next.get(i.from) ?? []), i.to]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const to of next.get(file) ?? []) {
        if (state.get(to) === 'open') cycles.push([...path.slice(path.indexOf(to)), to].join(' -> '));
        else if (!state.has(to)) visit(to, [...path, to]);
      }
      state.set(file, 'done');
    };
    for (const file of next.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });
});
