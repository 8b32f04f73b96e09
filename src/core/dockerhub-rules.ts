// Docker Hub automated-build rules and the `dockerhub` preset. Each rule either matches the
// pushed branch/tag and gives tag names, or says exactly why it did not: a rule that silently
// never matches is the most common Docker Hub complaint.
import { UserError } from './errors.js';
import type { BuildRule } from './types.js';
import { userRegExp } from './user-regex.js';

/** The branch or tag a rule is tried against. */
export interface RuleSource {
  refType: 'branch' | 'tag';
  /** Branch or tag name without `refs/heads/` / `refs/tags/`. */
  name: string;
  /** A Docker Hub remote trigger: rules with `autobuild: false` apply only then. */
  manual?: boolean;
}

export type RuleOutcome =
  | { matched: true; rule: BuildRule; index: number; label: string; tags: string[] }
  | { matched: false; rule: BuildRule; index: number; label: string; reason: string };

/** How a rule is named in reasons: its key path and what it selects. */
function ruleLabel(rule: BuildRule, index: number): string {
  return `rules[${index}] (${rule.sourceType} ${rule.source})`;
}

/** `/REGEX/` sources; anything else is an exact name. */
export function regexBody(source: string): string | undefined {
  return source.length >= 2 && source.startsWith('/') && source.endsWith('/') ? source.slice(1, -1) : undefined;
}

/**
 * Fill a tag template: `{sourceref}` is the name, `{\1}`..`{\9}` the regex groups (absent
 * groups are empty). Docker Hub accepts several tags separated by commas; an empty template
 * means `{sourceref}`.
 */
function expandTemplate(template: string, name: string, groups: (string | undefined)[]): string[] {
  const text = template.trim() === '' ? '{sourceref}' : template;
  return text
    .split(',')
    .map((part) =>
      part.trim().replace(/\{sourceref\}|\{\\([1-9])\}/g, (whole, group: string | undefined) => (group === undefined ? name : (groups[Number(group)] ?? ''))),
    );
}

function compileSource(body: string, label: string, anchored = true): RegExp {
  try {
    return userRegExp(anchored ? `^(?:${body})$` : body);
  } catch (err) {
    throw new UserError(`${label}: source is not a valid regex (${(err as Error).message})`, 'fix the pattern between the slashes');
  }
}

/** Try one rule against a branch or tag. */
export function applyRule(rule: BuildRule, index: number, source: RuleSource): RuleOutcome {
  const label = ruleLabel(rule, index);
  const miss = (reason: string): RuleOutcome => ({ matched: false, rule, index, label, reason: `${label} did not match: ${reason}` });
  const what = `${source.refType} ${JSON.stringify(source.name)}`;
  if (rule.sourceType !== source.refType) {
    return miss(`the push is a ${source.refType}, the rule is for ${rule.sourceType === 'branch' ? 'branches' : 'tags'} (sourceType: ${rule.sourceType})`);
  }
  let groups: (string | undefined)[] = [];
  const body = regexBody(rule.source);
  if (body !== undefined) {
    // Docker Hub users write unanchored patterns that still mean "the whole name".
    const whole = compileSource(body, label).exec(source.name);
    if (!whole) {
      const partial = compileSource(body, label, false).exec(source.name);
      return miss(
        partial
          ? `${rule.source} matches only ${JSON.stringify(partial[0])} of ${what}; a regex source must match the whole name — widen it, e.g. /.*${body}.*/`
          : `${rule.source} does not match ${what}`,
      );
    }
    groups = [...whole];
  } else if (rule.source !== source.name) {
    return miss(`${what} is not ${JSON.stringify(rule.source)} (an exact name; write /REGEX/ to match several)`);
  }
  if (rule.autobuild === false && !source.manual) {
    return miss(`autobuild is off for this rule, so it builds only on a Docker Hub remote trigger (set autobuild: true to build on push)`);
  }
  return { matched: true, rule, index, label, tags: expandTemplate(rule.tag, source.name, groups) };
}

/** Every rule tried in order; matched and missed both come back so the plan can say why. */
export function applyRules(rules: BuildRule[], source: RuleSource): RuleOutcome[] {
  return rules.map((rule, index) => applyRule(rule, index, source));
}

/**
 * Docker Hub's default rules: the default branch builds `latest`, every git tag builds
 * `{sourceref}`. Returns the tag names, or a reason when this push builds nothing.
 */
export function dockerhubPresetTags(source: RuleSource, defaultBranch: string | undefined): { tags: string[] } | { reason: string } {
  if (source.refType === 'tag') return { tags: [source.name] };
  if (defaultBranch !== undefined && source.name === defaultBranch) return { tags: ['latest'] };
  return {
    reason: `preset dockerhub builds only the default branch${defaultBranch ? ` (${JSON.stringify(defaultBranch)})` : ''} and tags, not branch ${JSON.stringify(source.name)} — add a rule with sourceType: branch to build it`,
  };
}

/** A branch or tag to build, or the repository's default branch (Docker Hub's `{"build": true}`). */
export type RuleTarget = { kind: 'branch' | 'tag'; name: string } | { kind: 'default' };

/**
 * The rules run backward: which branch or tag gives the Docker tag `dockerTag`, as Docker Hub's
 * remote trigger answers `{"docker_tag": ...}`. A rule with an exact source maps its filled
 * template back; a `/REGEX/` rule tagging `{sourceref}` maps a tag it matches to the same name.
 * Without a rule, `latest`/`edge` come from the default branch and a version from its git tag,
 * written with or without `v` (tried in that order).
 */
export function targetsForDockerTag(rules: BuildRule[], dockerTag: string): RuleTarget[] {
  for (const rule of rules) {
    const body = regexBody(rule.source);
    if (body === undefined) {
      if (rule.tag.replaceAll('{sourceref}', rule.source) === dockerTag) return [{ kind: rule.sourceType, name: rule.source }];
      continue;
    }
    let re: RegExp;
    try {
      re = userRegExp(`^(?:${body})$`);
    } catch {
      continue;
    }
    if (rule.tag === '{sourceref}' && re.test(dockerTag)) return [{ kind: rule.sourceType, name: dockerTag }];
  }
  if (dockerTag === 'latest' || dockerTag === 'edge') return [{ kind: 'default' }];
  if (/^\d+\.\d+\.\d+/.test(dockerTag))
    return [
      { kind: 'tag', name: `v${dockerTag}` },
      { kind: 'tag', name: dockerTag },
    ];
  return [];
}
