import { UserError } from './errors.js';
import { parseImageName, parseReference } from './references.js';

// What a build is asked to produce beyond "this Dockerfile, these tags": the platforms, the
// stage, whether to pull and use the layer cache, where the shared cache lives, and which
// build secrets it gets. Written in docker/build-push-action's words (`linux/arm64`,
// `type=registry,ref=...`, `id=ID,env=VAR`) and parsed here once for the config, the CLI
// and the Action.

/** Options a planned build carries (no secret values: these travel through Redis). */
export interface BuildSettings {
  /** `os/arch[/variant]`; set (even with one entry): push one image index. */
  platforms?: string[];
  target?: string;
  pull?: boolean;
  noCache?: boolean;
  /** Raw build-push-action cache lines, checked by `parseCacheSpec`. */
  cacheFrom?: string[];
  cacheTo?: string[];
}

export interface CacheSpec {
  type: 'registry' | 'inline';
  /** Image reference holding the cache (`type=registry`). */
  ref?: string;
  /** build-push-action's `mode=max` (every stage's layers) or `min` (the final image's). */
  mode?: 'min' | 'max';
}

/** A build secret's source as written on the command line (`--secret id=ID,env=VAR|src=FILE`). */
export type SecretSource = { id: string; env: string } | { id: string; src: string };

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const SECRET_ID = /^[A-Za-z0-9_.-]+$/;

/** `linux/amd64,linux/arm64` or a list of them; duplicates dropped, order kept. */
export function parsePlatforms(value: string | string[], where: string): string[] {
  const list = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!PLATFORM.test(p))
      throw new UserError(`${where}: ${JSON.stringify(p)} is not a platform`, 'write os/arch[/variant], e.g. linux/amd64,linux/arm64 or linux/arm/v7');
  }
  return [...new Set(list)];
}

/** The `arch[/variant]` part a binfmt handler or a qemu binary is named for. */
export function platformParts(platform: string): { os: string; architecture: string; variant?: string } {
  const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `key=value,key=value` as build-push-action and buildx write their options. */
function csvFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) out.set(part.trim(), '');
    else out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * One `cache-from`/`cache-to` line. A bare image reference means `type=registry,ref=IMAGE`, as
 * buildx reads it. Types other than registry and inline (gha, local, s3) need buildx's cache
 * exporters, which neither builder here has: they are refused with that reason.
 */
export function parseCacheSpec(text: string, where: string): CacheSpec {
  const line = text.trim();
  if (!line.includes('=')) return { type: 'registry', ref: checkedRef(line, where) };
  const fields = csvFields(line);
  const type = fields.get('type') ?? 'registry';
  if (type === 'inline') return { type: 'inline' };
  if (type !== 'registry') {
    throw new UserError(
      `${where}: cache type ${JSON.stringify(type)} is not supported`,
      'use type=registry,ref=IMAGE:TAG (a cache in a registry every worker can reach) or type=inline',
    );
  }
  const ref = fields.get('ref');
  if (!ref) throw new UserError(`${where}: ${JSON.stringify(line)} has no ref=`, 'write type=registry,ref=registry.example.com/octo/app:buildcache');
  const mode = fields.get('mode');
  if (mode !== undefined && mode !== 'min' && mode !== 'max') throw new UserError(`${where}: mode=${mode} is not min or max`, 'write mode=max or mode=min');
  return { type: 'registry', ref: checkedRef(ref, where), ...(mode ? { mode } : {}) };
}

function checkedRef(ref: string, where: string): string {
  try {
    const parsed = parseReference(ref);
    if (parsed.digest) throw new UserError(`${where}: cache ref ${ref} has a digest`, 'a cache ref is IMAGE or IMAGE:TAG');
  } catch (err) {
    if (err instanceof UserError && err.message.startsWith(where)) throw err;
    throw new UserError(`${where}: ${JSON.stringify(ref)} is not an image reference`, 'write type=registry,ref=registry.example.com/octo/app:buildcache');
  }
  return ref;
}

/**
 * The service's default cache when a repository sets neither cacheFrom nor cacheTo: a repository
 * of its own beside the first image, `<image>-buildcache`, so the image's tags stay the user's
 * (buildah keeps one image per cached step there; docker one image with its inline cache). Every
 * worker can pull from where it pushes, so a second worker with an empty store starts warm, and
 * the credentials configured for the image's registry cover it.
 */
export function defaultCache(images: string[]): { cacheFrom: string[]; cacheTo: string[] } {
  const first = images[0];
  if (!first) return { cacheFrom: [], cacheTo: [] };
  const line = `type=registry,ref=${parseImageName(first).name}-buildcache`;
  return { cacheFrom: [line], cacheTo: [`${line},mode=max`] };
}

/** `id=ID,env=VAR`, `id=ID,src=FILE` (also `source=`), or just `id=ID` meaning `env=ID`. */
export function parseSecretFlag(text: string): SecretSource {
  const fields = csvFields(text);
  const id = fields.get('id');
  const hint = 'write --secret id=ID,env=VAR or --secret id=ID,src=FILE';
  if (!id || !SECRET_ID.test(id)) throw new UserError(`--secret ${JSON.stringify(text)} has no valid id=`, hint);
  const src = fields.get('src') ?? fields.get('source');
  const env = fields.get('env');
  if (src && env) throw new UserError(`--secret id=${id} gives both env= and src=`, 'give one of them');
  if (src) return { id, src };
  return { id, env: env || id };
}

export function isSecretId(id: string): boolean {
  return SECRET_ID.test(id);
}

/**
 * The ids a Dockerfile mounts with `RUN --mount=type=secret,id=ID` (or `target=/run/secrets/ID`
 * without id), and whether each is required (anything but `required=false`). Used to fail a build up front, with
 * one line, when it mounts a secret the build was not given.
 */
export function mountedSecrets(dockerfile: string): { id: string; required: boolean }[] {
  const out: { id: string; required: boolean }[] = [];
  for (const m of dockerfile.matchAll(/--mount=(\S+)/g)) {
    const fields = csvFields(m[1]!.replace(/^["']|["']$/g, ''));
    if (fields.get('type') !== 'secret') continue;
    const id = fields.get('id') ?? fields.get('target')?.split('/').pop() ?? fields.get('dst')?.split('/').pop();
    if (!id) continue;
    // BuildKit skips a missing secret quietly unless required=true; autobuild fails unless the
    // Dockerfile says required=false, so a forgotten secret is one clear line, not a later step's error.
    const required = fields.get('required') !== 'false';
    if (!out.some((s) => s.id === id)) out.push({ id, required });
  }
  return out;
}

/** `over`'s settings where given (a flag, an Action input) over `base`'s (autobuild.yml). */
export function withSettings<T extends BuildSettings>(base: T, over: BuildSettings): T {
  const out: T = { ...base };
  for (const key of ['platforms', 'target', 'pull', 'noCache', 'cacheFrom', 'cacheTo'] as const) {
    const value = over[key];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    (out as BuildSettings)[key] = value as never;
  }
  return out;
}
