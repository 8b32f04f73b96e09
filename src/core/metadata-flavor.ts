// docker/metadata-action `flavor` lines: `latest=auto|true|false`, `prefix=`, `suffix=`, each
// `onlatest=` applying to the prefix or suffix just before it on the same line.
// Mirrors metadata-action src/flavor.ts; bad entries are user errors naming the line.
import { UserError } from './errors.js';
import { inputLines, lineFields } from './metadata-tags.js';
import { parseVersion } from './semver-tags.js';
import type { TagInfo } from './types.js';

export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  /** Whether `latest` carries the prefix too (`prefix=...,onlatest=true`). */
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

function defaultFlavor(): Flavor {
  return { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false };
}

function bad(line: string, what: string, hint: string): UserError {
  return new UserError(`flavor line ${JSON.stringify(line)}: ${what}`, hint);
}

export function parseFlavor(text: string): Flavor {
  const flavor = defaultFlavor();
  for (const line of inputLines(text)) {
    let onlatestFor: 'prefix' | 'suffix' | undefined;
    for (const field of lineFields(line)) {
      if (field.key === undefined) {
        const what = field.value === '' ? 'has an empty entry (a stray comma?)' : `${JSON.stringify(field.value)} is not key=value`;
        throw bad(line, what, 'write latest=auto|true|false, prefix=TEXT or suffix=TEXT');
      }
      switch (field.key) {
        case 'latest':
          if (field.value !== 'auto' && field.value !== 'true' && field.value !== 'false') {
            throw bad(line, `latest=${field.value} is not auto, true or false`, 'write latest=auto, latest=true or latest=false');
          }
          flavor.latest = field.value;
          break;
        case 'prefix':
          flavor.prefix = field.value;
          onlatestFor = 'prefix';
          break;
        case 'suffix':
          flavor.suffix = field.value;
          onlatestFor = 'suffix';
          break;
        case 'onlatest': {
          if (field.value !== 'true' && field.value !== 'false') {
            throw bad(line, `onlatest=${field.value} is not true or false`, 'write onlatest=true or onlatest=false after prefix= or suffix=');
          }
          if (onlatestFor === 'prefix') flavor.prefixLatest = field.value === 'true';
          if (onlatestFor === 'suffix') flavor.suffixLatest = field.value === 'true';
          break;
        }
        case 'labelprefix':
          // Accepted for compatibility; autobuild's labels come from the repository config.
          break;
        default:
          throw bad(line, `unknown entry ${JSON.stringify(field.key)}`, 'use latest=, prefix=, suffix= or onlatest=');
      }
    }
  }
  return flavor;
}

/**
 * A flavor over tags that did not come from `tags` lines (the preset, build rules, `pr-N`), so a
 * flavor never goes silently unused: the prefix and suffix go on every tag (on `latest` only
 * with onlatest=true), latest=false drops `latest` and latest=true adds it when `addLatest`
 * (the first build of the event, so two builds never race for it). latest=auto keeps the preset's
 * own choice, which already never moves `latest` backward.
 */
export function applyFlavor(tags: TagInfo[], flavor: Flavor, addLatest: boolean): TagInfo[] {
  const affix = (info: TagInfo): TagInfo => {
    const isLatest = info.kind === 'latest';
    const prefix = !isLatest || flavor.prefixLatest ? flavor.prefix : '';
    const suffix = !isLatest || flavor.suffixLatest ? flavor.suffix : '';
    // A plain `latest` is still compared with the flavor's family of versions (`X-slim`).
    const family = { ...(flavor.prefix ? { prefix: flavor.prefix } : {}), ...(flavor.suffix ? { suffix: flavor.suffix } : {}) };
    return { ...info, tag: `${prefix}${info.tag}${suffix}`, ...family };
  };
  let out = tags.filter((t) => !(flavor.latest === 'false' && t.kind === 'latest'));
  if (flavor.latest === 'true' && addLatest && out.length > 0 && !out.some((t) => t.kind === 'latest')) {
    const release = out.map((t) => t.version).find((v) => v !== undefined && parseVersion(v)?.prerelease === false);
    out = [...out, { tag: 'latest', kind: 'latest', ...(release ? { version: release, scope: 'all' as const } : {}) }];
  }
  return out.map(affix);
}
