// Semantic versions and the tags that follow them: which tags a release gets under the `semver`
// preset, what kind each tag is, and whether a moving tag may move to a given version.
import semver from 'semver';
import type { TagInfo } from './types.js';

export interface ParsedVersion {
  /** Normalised version without a leading `v`: `1.2.3`, `1.3.0-rc.1`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: boolean;
}

/** `v1.2.3`, `V1.2.3` or `1.2.3` (strict semver, optional prerelease/build); else undefined. */
export function parseVersion(name: string): ParsedVersion | undefined {
  // semver.valid trims spaces and accepts a leading `=`; a git tag or registry tag with those is
  // not a version a user would recognise, so require the bare form.
  if (!/^[vV]?\d/.test(name)) return undefined;
  const parsed = semver.parse(name.replace(/^[vV]/, ''));
  if (!parsed) return undefined;
  return {
    version: parsed.version,
    major: parsed.major,
    minor: parsed.minor,
    patch: parsed.patch,
    prerelease: parsed.prerelease.length > 0,
  };
}

/**
 * The `semver` preset for a git tag: `1.2.3`, `1.2`, `1`, `latest` for a release; the version
 * alone for a prerelease (they never move a tag); undefined when the name is not a version.
 */
export function semverPresetTags(tagName: string): TagInfo[] | undefined {
  const v = parseVersion(tagName);
  if (!v) return undefined;
  const exact: TagInfo = { tag: v.version, kind: 'immutable', version: v.version };
  if (v.prerelease) return [exact];
  return [
    exact,
    { tag: `${v.major}.${v.minor}`, kind: 'moving', version: v.version, scope: 'minor' },
    { tag: `${v.major}`, kind: 'moving', version: v.version, scope: 'major' },
    { tag: 'latest', kind: 'latest', version: v.version, scope: 'all' },
  ];
}

export interface ClassifyInput {
  tag: string;
  /** The version the build stands for (a semver git tag), if any. */
  version?: string;
  /** Whether the tag names this commit for good (a git tag, a commit sha) rather than a branch. */
  fixed: boolean;
  prefix?: string;
  suffix?: string;
}

/**
 * What kind a tag produced by a rule or a metadata-action line is. `latest` and tags equal to the
 * version's `major.minor` / `major` (after the prefix/suffix) move only forward; other tags of a
 * git tag or a sha are immutable; tags of a branch or pull request move with every push.
 */
export function classifyTag(input: ClassifyInput): TagInfo {
  const { tag, prefix, suffix } = input;
  const affixes = {
    ...(prefix ? { prefix } : {}),
    ...(suffix ? { suffix } : {}),
  };
  const core = stripAffixes(tag, prefix, suffix) ?? tag;
  const v = input.version === undefined ? undefined : parseVersion(input.version);
  if (core === 'latest') {
    return v ? { tag, kind: 'latest', version: v.version, scope: 'all', ...affixes } : { tag, kind: 'latest', ...affixes };
  }
  if (v && !v.prerelease) {
    if (core === `${v.major}.${v.minor}`) return { tag, kind: 'moving', version: v.version, scope: 'minor', ...affixes };
    if (core === `${v.major}`) return { tag, kind: 'moving', version: v.version, scope: 'major', ...affixes };
  }
  if (input.fixed) return { tag, kind: 'immutable', ...(v ? { version: v.version } : {}), ...affixes };
  return { tag, kind: 'moving', ...affixes };
}

const kindOrder: Record<TagInfo['kind'], number> = { immutable: 0, moving: 1, latest: 2 };

/** Push order: immutable first, moving next, `latest` last; stable within a kind. */
export function orderTags(tags: TagInfo[]): TagInfo[] {
  return tags
    .map((info, index) => ({ info, index }))
    .sort((a, b) => kindOrder[a.info.kind] - kindOrder[b.info.kind] || a.index - b.index)
    .map((x) => x.info);
}

/**
 * Tags nobody classified (`autobuild build --tag`, or a build that carries no kinds): each once,
 * in the order given, `latest` a `latest` tag and every other tag immutable. Kinds the plan gave
 * win. Push them through `orderTags`, which puts `latest` last.
 */
export function tagKinds(tags: string[], planned: TagInfo[] = []): TagInfo[] {
  const known = new Map(planned.map((t) => [t.tag, t]));
  return [...new Set(tags)].map((tag): TagInfo => known.get(tag) ?? { tag, kind: tag === 'latest' ? 'latest' : 'immutable' });
}

/**
 * Which tags may be pushed given the tags already in the registry. Immutable tags and moving
 * tags without a version always go. A moving tag with a version is held when a release in its
 * scope (same major.minor, same major, or any) is already higher, so a late or backported build
 * never moves it backward. Registry prereleases and non-version tags never block.
 */
export function decideTags(tagInfo: TagInfo[], existingTags: string[]): { keep: TagInfo[]; held: { tag: string; reason: string }[] } {
  const keep: TagInfo[] = [];
  const held: { tag: string; reason: string }[] = [];
  for (const info of tagInfo) {
    const higher = info.kind === 'immutable' ? undefined : highestAbove(info, existingTags);
    if (higher) {
      held.push({ tag: info.tag, reason: `${info.tag} stays on ${higher}: ${info.version} is lower` });
    } else {
      keep.push(info);
    }
  }
  return { keep, held };
}

/** The highest registry tag in the info's scope that is above its version, if any. */
function highestAbove(info: TagInfo, existingTags: string[]): string | undefined {
  if (info.version === undefined) return undefined;
  const own = parseVersion(info.version);
  if (!own) return undefined;
  let best: { tag: string; version: string } | undefined;
  for (const existing of existingTags) {
    const core = stripAffixes(existing, info.prefix, info.suffix);
    if (core === undefined) continue;
    const v = parseVersion(core);
    if (!v || v.prerelease) continue;
    if (!inScope(info.scope ?? 'all', own, v)) continue;
    if (semver.compare(v.version, own.version) <= 0) continue;
    if (!best || semver.compare(v.version, best.version) > 0) best = { tag: existing, version: v.version };
  }
  return best?.tag;
}

function inScope(scope: NonNullable<TagInfo['scope']>, own: ParsedVersion, other: ParsedVersion): boolean {
  if (scope === 'all') return true;
  if (other.major !== own.major) return false;
  return scope === 'major' || other.minor === own.minor;
}

/** The tag without its prefix and suffix; undefined when it does not carry them (another family). */
function stripAffixes(tag: string, prefix = '', suffix = ''): string | undefined {
  if (!tag.startsWith(prefix) || !tag.endsWith(suffix) || tag.length < prefix.length + suffix.length) return undefined;
  return tag.slice(prefix.length, tag.length - suffix.length);
}
