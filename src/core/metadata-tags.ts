// docker/metadata-action `tags` lines: parsing (syntax, user errors naming the line) is kept
// apart from evaluation (which tags one event gives). Evaluation mirrors metadata-action
// src/meta.ts: lines run by priority, the first value is the main tag, `latest` comes from the
// first line that gave a value (latest=auto) and goes last.
import { UserError } from './errors.js';
import type { Flavor } from './metadata-flavor.js';
import { classifyTag, parseVersion } from './semver-tags.js';
import type { BuildableEvent, TagInfo } from './types.js';

type MetadataTagType = 'semver' | 'match' | 'edge' | 'ref' | 'raw' | 'sha';

export interface MetadataTag {
  type: MetadataTagType;
  attrs: Record<string, string>;
  priority: number;
  /** The line as written, for error messages. */
  line: string;
}

/** metadata-action's default priorities: higher runs first and so gives the main tag. */
const defaultPriority: Record<MetadataTagType, number> = { semver: 900, match: 800, edge: 700, ref: 600, raw: 200, sha: 100 };

const commonAttrs = ['enable', 'priority', 'prefix', 'suffix'];
const typeAttrs: Record<MetadataTagType, string[]> = {
  semver: ['pattern', 'value', 'match'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
};

/** Non-empty lines of an input, `#` comments dropped (as @actions/core getMultilineInput users expect). */
export function inputLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * A line's comma-separated fields (double quotes protect commas); `key` is lowercased. An empty
 * field (a trailing comma, `a,,b`) is kept as an empty bare value, as metadata-action's CSV
 * parsing keeps it: in a tags line it sets `value=` to ''.
 */
export function lineFields(line: string): { key?: string; value: string }[] {
  const raw: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      raw.push(current);
      current = '';
    } else current += ch;
  }
  raw.push(current);
  return raw
    .map((f) => f.trim())
    .map((f) => {
      const eq = f.indexOf('=');
      return eq < 0 ? { value: f } : { key: f.slice(0, eq).trim().toLowerCase(), value: f.slice(eq + 1).trim() };
    });
}

function bad(line: string, what: string, hint: string): UserError {
  return new UserError(`tags line ${JSON.stringify(line)}: ${what}`, hint);
}

function parseLine(line: string): MetadataTag {
  let type: string | undefined;
  const attrs: Record<string, string> = {};
  for (const field of lineFields(line)) {
    if (field.key === undefined) attrs['value'] = field.value;
    else if (field.key === 'type') type = field.value;
    else attrs[field.key] = field.value;
  }
  type ??= 'raw';
  // A stray comma gives an empty bare field: metadata-action reads it as `value=` and every
  // type but those taking a value ignores it.
  if (attrs['value'] === '' && type in typeAttrs && !typeAttrs[type as MetadataTagType].includes('value')) delete attrs['value'];
  if (type === 'schedule' || type === 'pep440') {
    throw bad(line, `type=${type} is not supported by autobuild`, 'use type=semver, ref, sha, raw, edge or match');
  }
  if (!(type in typeAttrs)) throw bad(line, `unknown type ${JSON.stringify(type)}`, 'use type=semver, ref, sha, raw, edge or match');
  const t = type as MetadataTagType;
  for (const key of Object.keys(attrs)) {
    if (!commonAttrs.includes(key) && !typeAttrs[t].includes(key)) {
      throw bad(line, `unknown attribute ${JSON.stringify(key)} for type=${t}`, `use ${[...typeAttrs[t], ...commonAttrs].join(', ')}`);
    }
  }
  switch (t) {
    case 'semver':
    case 'match':
      if (!attrs['pattern']) throw bad(line, 'pattern= is missing', `add e.g. ${t === 'semver' ? 'pattern={{version}}' : 'pattern=/v(\\d+)/,group=1'}`);
      if (t === 'match' && !/^\d+$/.test(attrs['group'] ?? '0')) throw bad(line, `group=${attrs['group']} is not a number`, 'write group=0, group=1, ...');
      break;
    case 'ref':
      if (!['branch', 'tag', 'pr'].includes(attrs['event'] ?? '')) {
        throw bad(
          line,
          attrs['event'] === undefined ? 'event= is missing' : `event=${attrs['event']} is not branch, tag or pr`,
          'write event=branch, event=tag or event=pr',
        );
      }
      // metadata-action gives pull requests their own default prefix, ahead of the flavor's.
      if (attrs['event'] === 'pr' && !('prefix' in attrs)) attrs['prefix'] = 'pr-';
      break;
    case 'raw':
      if (attrs['value'] === undefined) throw bad(line, 'value= is missing', 'write type=raw,value=TAG or just TAG');
      break;
    case 'sha':
      if (!('prefix' in attrs)) attrs['prefix'] = 'sha-';
      if (!['short', 'long'].includes(attrs['format'] ?? 'short'))
        throw bad(line, `format=${attrs['format']} is not short or long`, 'write format=short or format=long');
      break;
    case 'edge':
      break;
  }
  let priority = defaultPriority[t];
  if (attrs['priority'] !== undefined) {
    if (!/^-?\d+$/.test(attrs['priority'])) throw bad(line, `priority=${attrs['priority']} is not a number`, 'write e.g. priority=500');
    priority = Number(attrs['priority']);
  }
  return { type: t, attrs, priority, line };
}

/** Parse every line; throws a UserError naming the first bad one. Sorted by priority (stable). */
export function parseTags(text: string): MetadataTag[] {
  return inputLines(text)
    .map(parseLine)
    .map((tag, index) => ({ tag, index }))
    .sort((a, b) => b.tag.priority - a.tag.priority || a.index - b.index)
    .map((x) => x.tag);
}

export interface MetadataResult {
  /** Tags in metadata-action's order (main, others, latest), not yet sanitised or push-ordered. */
  tags: TagInfo[];
  /** The semver version the tags stand for, when there is one. */
  version?: string;
}

/** The values `{{...}}` may name outside a semver pattern. */
function globalValues(event: BuildableEvent): Record<string, string> {
  const branch = event.refType === 'branch' ? event.refName : '';
  const isDefault = branch !== '' && branch === event.defaultBranch;
  return {
    branch,
    tag: event.refType === 'tag' ? event.refName : '',
    sha: event.sha.slice(0, 7),
    base_ref: event.baseRef ?? '',
    is_default_branch: String(isDefault),
    is_not_default_branch: String(!isDefault),
  };
}

/** Replace `{{ name }}`; an expression we cannot evaluate is an error, not a silent ''. */
function render(template: string, values: Record<string, string>, line: string): string {
  return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_whole, expr: string) => {
    const value = values[expr];
    if (value !== undefined) return value;
    throw bad(
      line,
      `{{${expr}}} is not an expression autobuild knows`,
      `use one of ${Object.keys(values)
        .map((k) => `{{${k}}}`)
        .join(', ')}`,
    );
  });
}

/** Which tags the parsed lines give for one event. */
export function evaluateTags(lines: MetadataTag[], event: BuildableEvent, flavor: Flavor): MetadataResult {
  const globals = globalValues(event);
  const fixed = event.refType === 'tag';
  const tagName = event.refType === 'tag' ? event.refName : undefined;
  const refVersion = tagName === undefined ? undefined : parseVersion(tagName)?.version;
  const out: TagInfo[] = [];
  let latest: boolean | undefined;
  let version: string | undefined;

  for (const tag of lines) {
    const enable = render(tag.attrs['enable'] ?? 'true', globals, tag.line);
    if (enable !== 'true' && enable !== 'false')
      throw bad(tag.line, `enable=${enable} is not true or false`, 'write enable=true, enable=false or enable={{is_default_branch}}');
    if (enable === 'false') continue;
    const prefix = render(tag.attrs['prefix'] ?? flavor.prefix, globals, tag.line);
    const suffix = render(tag.attrs['suffix'] ?? flavor.suffix, globals, tag.line);
    const affixed = (value: string) => `${prefix}${value}${suffix}`;
    const produced = produce(tag, event, globals, affixed, { prefix, suffix, fixed, refVersion, tagName });
    if (!produced) continue;
    if (produced.version !== undefined) version ??= produced.version;
    if (!out.some((t) => t.tag === produced.info.tag)) out.push(produced.info);
    // metadata-action: the first line that gives a value decides latest=auto.
    latest ??= flavor.latest === 'auto' ? produced.latestAuto : flavor.latest === 'true';
  }

  version ??= refVersion;
  if (out.length > 0 && latest) {
    const tag = `${flavor.prefixLatest ? flavor.prefix : ''}latest${flavor.suffixLatest ? flavor.suffix : ''}`;
    const releaseVersion = version !== undefined && !parseVersion(version)?.prerelease ? version : undefined;
    out.push({
      tag,
      kind: 'latest',
      ...(releaseVersion ? { version: releaseVersion, scope: 'all' as const } : {}),
      // The flavor's affixes name the family of versions `latest` is compared with, with or
      // without onlatest: `latest` of a `-slim` flavor never goes below the newest `X-slim`.
      ...(flavor.prefix ? { prefix: flavor.prefix } : {}),
      ...(flavor.suffix ? { suffix: flavor.suffix } : {}),
    });
  }
  return version === undefined ? { tags: out } : { tags: out, version };
}

interface Produced {
  info: TagInfo;
  latestAuto: boolean;
  version?: string;
}

function produce(
  tag: MetadataTag,
  event: BuildableEvent,
  globals: Record<string, string>,
  affixed: (value: string) => string,
  ctx: { prefix: string; suffix: string; fixed: boolean; refVersion: string | undefined; tagName: string | undefined },
): Produced | undefined {
  const affixes = { ...(ctx.prefix ? { prefix: ctx.prefix } : {}), ...(ctx.suffix ? { suffix: ctx.suffix } : {}) };
  // metadata-action adds the prefix and suffix first and only then drops an empty value, so an
  // empty value with a prefix still gives a tag (meta.ts setValue, then setVersion).
  const classify = (value: string, fixed: boolean, latestAuto: boolean): Produced | undefined =>
    affixed(value) === ''
      ? undefined
      : { info: classifyTag({ tag: affixed(value), ...(fixed && ctx.refVersion ? { version: ctx.refVersion } : {}), fixed, ...affixes }), latestAuto };
  const a = tag.attrs;
  switch (tag.type) {
    case 'semver':
      return semverValue(tag, globals, affixed, affixes, ctx.tagName);
    case 'match': {
      const input = a['value'] ? render(a['value'], globals, tag.line) : ctx.tagName;
      if (input === undefined) return undefined;
      // String.match, as metadata-action calls it: with a `g` flag, `group` indexes the matches.
      const value = input.match(lineRegExp(tag, a['pattern'] ?? '', 'pattern'))?.[Number(a['group'] ?? '0')];
      return value === undefined ? undefined : classify(value, ctx.fixed, true);
    }
    case 'ref': {
      if (a['event'] === 'branch') return event.refType === 'branch' ? classify(event.refName, false, false) : undefined;
      if (a['event'] === 'tag') return ctx.tagName !== undefined ? classify(ctx.tagName, true, true) : undefined;
      return event.kind === 'pull_request' ? classify(String(event.prNumber), false, false) : undefined;
    }
    case 'edge': {
      if (event.refType !== 'branch') return undefined;
      const branch = a['branch'] || event.defaultBranch;
      return branch !== undefined && branch === event.refName ? classify('edge', false, false) : undefined;
    }
    case 'raw':
      return classify(render(a['value'] ?? '', globals, tag.line), ctx.fixed, false);
    case 'sha': {
      const value = a['format'] === 'long' ? event.sha : event.sha.slice(0, 7);
      return { info: { tag: affixed(value), kind: 'immutable', ...affixes }, latestAuto: false };
    }
  }
}

/** type=semver: on a tag push (or with value=), the pattern filled from the version. */
function semverValue(
  tag: MetadataTag,
  globals: Record<string, string>,
  affixed: (value: string) => string,
  affixes: { prefix?: string; suffix?: string },
  tagName: string | undefined,
): Produced | undefined {
  const given = tag.attrs['value'] ? render(tag.attrs['value'], globals, tag.line) : undefined;
  let raw = given ?? tagName;
  if (raw === undefined) return undefined;
  // `match=` picks the version out of the name (its first group), as metadata-action does.
  if (tag.attrs['match']) raw = raw.match(lineRegExp(tag, tag.attrs['match'], 'match'))?.[1] ?? raw;
  // metadata-action replaces `/` before reading the name as a version.
  raw = raw.replace(/\//g, '-');
  // semver.valid, which metadata-action asks, knows only a lower-case `v` prefix.
  const v = raw.startsWith('V') ? undefined : parseVersion(raw);
  if (!v) return undefined;
  const pattern = tag.attrs['pattern'] ?? '';
  const values = { raw, version: v.version, major: String(v.major), minor: String(v.minor), patch: String(v.patch) };
  if (v.prerelease) {
    // Prereleases change too often to move a tag: every pattern but {{raw}} gives the version.
    const value = /^\{\{\s*raw\s*\}\}$/.test(pattern) ? raw : v.version;
    return { info: { tag: affixed(value), kind: 'immutable', version: v.version, ...affixes }, latestAuto: false, version: v.version };
  }
  const value = render(pattern, values, tag.line);
  if (affixed(value) === '') return undefined;
  const uses = (name: string) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(pattern);
  let info: TagInfo;
  if (uses('patch') || uses('version') || uses('raw')) info = { tag: affixed(value), kind: 'immutable', version: v.version, ...affixes };
  else if (uses('minor')) info = { tag: affixed(value), kind: 'moving', version: v.version, scope: 'minor', ...affixes };
  else if (uses('major')) info = { tag: affixed(value), kind: 'moving', version: v.version, scope: 'major', ...affixes };
  else info = classifyTag({ tag: affixed(value), version: v.version, fixed: true, ...affixes });
  return { info, latestAuto: true, version: v.version };
}

/** A `pattern=`/`match=` value: `/re/flags` or a bare pattern, as metadata-action reads both. */
function lineRegExp(tag: MetadataTag, pattern: string, attr: string): RegExp {
  const literal = /^\/(.+)\/(.*)$/.exec(pattern);
  try {
    return literal ? new RegExp(literal[1] ?? '', literal[2]) : new RegExp(pattern);
  } catch (err) {
    throw bad(tag.line, `${attr} is not a valid regex (${(err as Error).message})`, `fix the ${attr}`);
  }
}
