// docker/metadata-action `flavor` lines: `latest=auto|true|false`, `prefix=`, `suffix=`, each
// `onlatest=` applying to the prefix or suffix just before it on the same line.
// Mirrors metadata-action src/flavor.ts; bad entries are user errors naming the line.
import { UserError } from './errors.js';
import { inputLines, lineFields } from './metadata-tags.js';

export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  /** Whether `latest` carries the prefix too (`prefix=...,onlatest=true`). */
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

export function defaultFlavor(): Flavor {
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
        throw bad(line, `${JSON.stringify(field.value)} is not key=value`, 'write latest=auto|true|false, prefix=TEXT or suffix=TEXT');
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
